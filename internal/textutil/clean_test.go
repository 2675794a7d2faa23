package textutil

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestClean(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain text is kept", "how much is a flu shot?", 0, "how much is a flu shot?"},
		{"line breaks and tabs stay", "a\nb\tc\r\n", 0, "a\nb\tc\r\n"},
		{"NUL is removed", "en\x00-US", 0, "en-US"},
		{"C0 and C1 controls are removed", "a\x07b\x1bc\u0085d", 0, "abcd"},
		{"invalid UTF-8 is repaired", "caf\xe9 ok", 0, "caf\uFFFD ok"},
		{"bidi overrides are removed", "pay \u202eevil\u202c now", 0, "pay evil now"},
		{"isolates and marks are removed", "\u2066x\u2069\u200f", 0, "x"},
		{"byte-order mark is removed", "\ufeffhello", 0, "hello"},
		{"length is capped in characters", "ñññññ", 3, "ñññ"},
		{"accents and emoji are kept", "¿Cuánto cuesta? 🙂", 0, "¿Cuánto cuesta? 🙂"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Clean(c.in, c.max)
			require.Equal(t, c.want, got)
			require.True(t, utf8.ValidString(got))
		})
	}
}

func TestCleanLine(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Ana Maria", CleanLine("  Ana\nMaria\x00 ", 0))
	require.Equal(t, "es", CleanLine("es\x00"+string(make([]byte, 10)), 8))
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "hola", "a\x00b", "\xff\xfe", "\u202e", "x\ny"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n % 100
		if n < 0 {
			n = -n
		}
		got := Clean(s, n)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if n > 0 && utf8.RuneCountInString(got) > n {
			t.Fatalf("longer than %d: %q", n, got)
		}
		for _, r := range got {
			if r == 0 || dropped(r) {
				t.Fatalf("kept %U in %q", r, got)
			}
		}
		if Clean(got, n) != got {
			t.Fatalf("not idempotent on %q", s)
		}
	})
}
