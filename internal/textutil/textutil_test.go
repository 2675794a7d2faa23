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

func TestFoldConcurrently(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := Fold("¿Hablar con una PERSONA?"); got != "¿hablar con una persona?" {
					t.Errorf("Fold = %q", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
