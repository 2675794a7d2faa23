package lang

import "testing"

func TestDetect(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		// Clear signals.
		"hola":                             "es",
		"Español":                          "es",
		"en español por favor":             "es",
		"English please":                   "en",
		"hello":                            "en",
		"gracias":                          "es",
		"¿Cuánto cuesta una consulta?":     "es",
		"necesito una cita con el doctor":  "es",
		"how much is a flu shot":           "en",
		"do you take Medicare?":            "en",
		"my mom needs a refill":            "en",
		"mi mamá necesita una receta":      "es",
		"¿aceptan mi seguro de Medicaid?":  "es",
		"what time do you open on Monday?": "en",
		// Short replies that read in both languages, names, numbers.
		"a veces":                               "",
		"no":                                    "",
		"si":                                    "",
		"ok":                                    "",
		"Medicare":                              "",
		"12/3":                                  "",
		"Dr. Garcia":                            "",
		"aceptan mi seguro?":                    "es",
		"I need to see Dr. Lopez at la clinica": "",
	} {
		if got := Detect(text); got != want {
			t.Errorf("Detect(%q) = %q, want %q", text, got, want)
		}
	}
}
