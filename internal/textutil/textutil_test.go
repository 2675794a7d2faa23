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

func TestFoldIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if got := Fold("¿Cuánto CUESTA la vacunación?"); got != "¿cuanto cuesta la vacunacion?" {
					t.Errorf("Fold = %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
