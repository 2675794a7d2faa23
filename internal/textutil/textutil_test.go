package textutil

import "testing"

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"¿Hablar con una PERSONA?": "hablar con una persona",
		"  I can't   breathe!! ":   "i cant breathe",
		"Español":                  "espanol",
		"$185 new-patient visit":   "185 new patient visit",
		"":                         "",
		"what’s the copay":         "whats the copay",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHasAny(t *testing.T) {
	text := Normalize("Can I talk to a person please?")
	if !HasAny(text, "talk to a person") {
		t.Error("phrase not found")
	}
	if HasAny(text, "per") {
		t.Error("partial word matched")
	}
}

// TestFoldConcurrent guards against sharing a stateful transformer between
// goroutines (go test -race).
func TestFoldConcurrent(t *testing.T) {
	t.Parallel()
	done := make(chan string)
	for range 8 {
		go func() { done <- Fold("¿Hablar con una PERSONA, señor?") }()
	}
	for range 8 {
		if got := <-done; got != "¿hablar con una persona, senor?" {
			t.Fatalf("Fold = %q", got)
		}
	}
}
