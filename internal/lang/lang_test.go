package lang

import "testing"

func TestDetect(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"hola":                                  "es",
		"¿Cuánto cuesta una consulta?":          "es",
		"necesito una cita con el doctor":       "es",
		"aceptan mi seguro?":                    "es",
		"hello":                                 "en",
		"how much is a flu shot":                "en",
		"do you take Medicare?":                 "en",
		"Medicare":                              "",
		"ok":                                    "",
		"12/3":                                  "",
		"Dr. Garcia":                            "",
		"I need to see Dr. Lopez at la clinica": "",
	} {
		if got := Detect(text); got != want {
			t.Errorf("Detect(%q) = %q, want %q", text, got, want)
		}
	}
}
