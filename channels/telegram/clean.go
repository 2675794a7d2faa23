package telegram

import (
	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/textutil"
)

// maxLocaleBytes is the longest language tag kept (BCP 47 tags in use are
// far shorter); anything else is dropped and the clinic's default language
// applies.
const maxLocaleBytes = 35

// sanitize makes every text of an inbound message valid before anything
// stores it (bot.SanitizeInbound), so that one bad field cannot make the
// database refuse the update and the channel stall on it. Telegram tells
// the client's language: it is kept when it is a language tag.
func sanitize(in *bot.Inbound) {
	bot.SanitizeInbound(in)
	in.Locale = cleanLocale(in.Locale)
}

// cleanLocale keeps a language tag such as "en" or "pt-br" and drops
// anything else.
func cleanLocale(s string) string {
	s = textutil.CleanLine(s, maxLocaleBytes+1)
	if len(s) > maxLocaleBytes {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return ""
		}
	}
	return s
}
