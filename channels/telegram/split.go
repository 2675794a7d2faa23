package telegram

import (
	"strings"
	"unicode"
	"unicode/utf16"
)

// maxMessageLen is Telegram's limit on a message's text after entity
// parsing. Telegram measures in UTF-16 code units (an emoji counts two),
// so Tend does too.
const maxMessageLen = 4096

// utf16Len is the length Telegram sees.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++ // a surrogate half in the string; Telegram would reject it anyway
		}
	}
	return n
}

// splitText cuts s into parts of at most limit UTF-16 units, at the best
// boundary in reach: a paragraph, else a line, else a sentence, else a
// word. A word longer than a whole part is the only thing ever cut.
func splitText(s string, limit int) []string {
	if limit < 16 {
		limit = 16
	}
	var parts []string
	s = strings.TrimSpace(s)
	for utf16Len(s) > limit {
		window := prefixWithin(s, limit)
		cut := bestBreak(window)
		part := strings.TrimRightFunc(s[:cut], unicode.IsSpace)
		if part == "" { // only space before the break: cut hard instead
			cut = len(window)
			part = window
		}
		parts = append(parts, part)
		s = strings.TrimLeftFunc(s[cut:], unicode.IsSpace)
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}

// prefixWithin is the longest prefix of s of at most limit UTF-16 units,
// ending on a rune boundary.
func prefixWithin(s string, limit int) string {
	n := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if n+w > limit {
			return s[:i]
		}
		n += w
	}
	return s
}

// bestBreak returns the byte offset in window to cut at. Paragraph and
// sentence breaks are taken only in the second half, so parts stay full.
func bestBreak(window string) int {
	half := len(window) / 2
	if i := strings.LastIndex(window, "\n\n"); i >= half {
		return i + 2
	}
	if i := strings.LastIndexByte(window, '\n'); i >= half {
		return i + 1
	}
	if i := lastSentenceEnd(window); i >= half {
		return i
	}
	if i := strings.LastIndexFunc(window, unicode.IsSpace); i > 0 {
		return i
	}
	return len(window)
}

// lastSentenceEnd is the offset just after the last ". ", "! ", "? " (or
// their Spanish and ellipsis forms) in s, or -1.
func lastSentenceEnd(s string) int {
	best := -1
	for _, end := range []string{". ", "! ", "? ", "… ", ".\t", "!\t", "?\t"} {
		if i := strings.LastIndex(s, end); i >= 0 && i+len(end)-1 > best {
			best = i + len(end) - 1
		}
	}
	return best
}

// escapeHTML escapes what Telegram's HTML parse mode requires: every <, >
// and & that is not markup.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeHTML(s string) string { return htmlEscaper.Replace(s) }
