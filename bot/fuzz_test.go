package bot

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "hello", "\x00\x01bad", "héllo\nworld\t!", strings.Repeat("é", 5000), "\xff\xfe", "a\u202eb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := cleanText(s, 100)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if utf8.RuneCountInString(out) > 100 {
			t.Fatalf("over the limit: %d runes", utf8.RuneCountInString(out))
		}
		for _, r := range out {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				t.Fatalf("control character %U kept", r)
			}
		}
	})
}

func FuzzPayload(f *testing.F) {
	for _, s := range []string{"menu:main", "menu:lang:es", "handoff:request:asked", ":", "menu:", "::::", "booking:slot:2026-03-10T15:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		turn := &Turn{In: Inbound{Payload: p}}
		action, args, ok := turn.Payload("menu")
		if ok != strings.HasPrefix(p, "menu:") {
			t.Fatalf("ok=%v for %q", ok, p)
		}
		if ok && Payload("menu", action, args...) != p {
			t.Fatalf("payload %q does not round-trip: %q %q", p, action, args)
		}
	})
}
