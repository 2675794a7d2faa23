// Package textutil normalizes patient text for matching: lower case, accents
// folded, punctuation dropped, so "¿Hablar con una PERSONA?" and "hablar con
// una persona" match alike.
package textutil

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldAccents holds accent-folding transformers. A transform.Chain keeps
// state between calls, so one shared chain breaks (and panics) when two
// goroutines fold at once; each call takes its own from the pool.
var foldAccents = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// Fold lower-cases s and removes accents. It is safe for concurrent use.
func Fold(s string) string {
	t := foldAccents.Get().(transform.Transformer)
	defer foldAccents.Put(t)
	out, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

// Normalize folds s and reduces it to words separated by single spaces;
// apostrophes inside words are dropped ("can't" becomes "cant").
func Normalize(s string) string {
	s = Fold(s)
	var b strings.Builder
	space := true
	for _, r := range s {
		switch {
		case r == '\'' || r == '’':
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// Words splits normalized text into words.
func Words(s string) []string { return strings.Fields(Normalize(s)) }

// HasPhrase reports whether normalized text contains phrase as whole words.
// Both must already be normalized.
func HasPhrase(text, phrase string) bool {
	if phrase == "" {
		return false
	}
	padded := " " + text + " "
	return strings.Contains(padded, " "+phrase+" ")
}

// HasAny reports whether normalized text contains any of the phrases
// (normalized on the fly).
func HasAny(text string, phrases ...string) bool {
	for _, p := range phrases {
		if HasPhrase(text, Normalize(p)) {
			return true
		}
	}
	return false
}
