package textutil

import (
	"sync"
	"testing"
)

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

// TestFoldConcurrent guards against sharing one stateful transformer
// between goroutines (it panicked or mixed up outputs).
func TestFoldConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, want := "¿Está bien, Señora?", "¿esta bien, senora?"
			if i%2 == 1 {
				in, want = "MAÑANA por la mañana", "manana por la manana"
			}
			for range 500 {
				if got := Fold(in); got != want {
					t.Errorf("Fold(%q) = %q, want %q", in, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
