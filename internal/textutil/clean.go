package textutil

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes text that arrived from outside (a webhook field, a web
// request, a document title) safe to store, log and show: invalid UTF-8 is
// repaired (each bad byte becomes U+FFFD), NUL and other control characters
// are removed (tabs and line breaks stay), Unicode bidirectional overrides
// and isolates are removed (they can make a message read differently to
// staff than it was written), and the result is cut to at most maxRunes
// characters (0 means no limit). PostgreSQL rejects NUL in text, so without
// this one bad field could stop a channel.
func Clean(s string, maxRunes int) string {
	if cleanAlready(s, maxRunes) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), 4*max(maxRunes, 1)))
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			r = utf8.RuneError // a bad byte: keep a visible replacement
		} else if dropped(r) {
			continue
		}
		if maxRunes > 0 && n == maxRunes {
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// CleanLine is Clean for single-line fields (names, locales, ids): line
// breaks and tabs become spaces and the ends are trimmed.
func CleanLine(s string, maxRunes int) string {
	s = Clean(s, maxRunes)
	if strings.ContainsAny(s, "\r\n\t") {
		s = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == '\t' {
				return ' '
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}

// dropped reports the characters Clean removes.
func dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t' || r == '\r':
		return false
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return true // C0 and C1 controls, NUL included
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true // bidi embeddings, overrides, isolates and marks
	case r == 0xfeff:
		return true // byte-order mark / zero-width no-break space
	case unicode.Is(unicode.Noncharacter_Code_Point, r):
		return true
	}
	return false
}

// cleanAlready is the fast path: valid, short enough and nothing to drop.
func cleanAlready(s string, maxRunes int) bool {
	if maxRunes > 0 && len(s) > maxRunes && utf8.RuneCountInString(s) > maxRunes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return cleanRunes(s[i:])
		}
		if c < 0x20 && c != '\n' && c != '\t' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

func cleanRunes(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || dropped(r) {
			return false
		}
		i += size
	}
	return true
}
