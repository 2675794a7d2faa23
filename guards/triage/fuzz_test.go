package triage

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzClassify: any text, however odd or long, is classified without a
// panic, in bounded time, with a result the guard knows how to answer.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"", "I can't breathe", "me duele mucho el pecho", "how much is a chest x-ray?", "¿tengo covid?",
		"no no no no chest pain", "chest chest chest pain pain", "\u0301\u0301", "ñ*", "a\x00b", "💔 hurts",
		strings.Repeat("if had no ", 300) + "chest pain", strings.Repeat("é", 2000),
	} {
		f.Add(s)
	}
	m := matcher(f)
	f.Fuzz(func(t *testing.T, text string) {
		start := time.Now()
		r := m.Classify(text)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("classifying %d bytes took %v", len(text), d)
		}
		switch r.Kind {
		case "":
			if r != (Result{}) {
				t.Fatalf("no match but a result: %+v", r)
			}
		case KindEmergency:
			if r.Reply != ReplyEmergency && r.Reply != ReplyCrisis {
				t.Fatalf("emergency with reply %q", r.Reply)
			}
		case KindAdvice:
			if r.Reply != ReplyAdvice {
				t.Fatalf("advice with reply %q", r.Reply)
			}
		default:
			t.Fatalf("unknown kind %q", r.Kind)
		}
		if utf8.ValidString(text) && r.Kind != "" && r.Category == "" {
			t.Fatalf("a match names its category: %+v", r)
		}
	})
}
