package telegram

import (
	"crypto/sha256"
	"encoding/base64"
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/textutil"
)

// Caps on what enters from Telegram. Telegram's own limits are lower
// (4,096 characters of text, 1,024 of caption, 64 of a name), so these only
// bite on input that did not come from a Telegram client.
const (
	// maxTextRunes is what the engine stores of a message at most; it asks
	// for a shorter question above bot.MaxTextRunes.
	maxTextRunes = 16000
	// maxMetaRunes bounds a name or any other fact in Inbound.Meta.
	maxMetaRunes = 64
	// maxLocaleBytes is the longest language tag kept (BCP 47 tags in use
	// are far shorter); anything else is dropped and the clinic's default
	// language applies.
	maxLocaleBytes = 35
	// maxIDBytes bounds an id used as text; a longer or unclean one is
	// replaced by a digest of it, so repeats still match.
	maxIDBytes = 128
)

// sanitize makes every text of an inbound message valid before anything
// stores it: a NUL, invalid UTF-8, a control character or a bidirectional
// override in one field must not make the database refuse the update (and
// the channel stall on it), nor reach staff.
func sanitize(in *bot.Inbound) {
	in.ChatID = cleanID(in.ChatID)
	in.SenderID = cleanID(in.SenderID)
	in.MessageID = cleanID(in.MessageID)
	in.Text = textutil.Clean(in.Text, maxTextRunes)
	in.Payload = cleanPayload(in.Payload, bot.MaxPayloadBytes)
	in.Locale = cleanLocale(in.Locale)
	for k, v := range in.Meta {
		if v = textutil.CleanLine(v, maxMetaRunes); v == "" {
			delete(in.Meta, k)
		} else {
			in.Meta[k] = v
		}
	}
}

// cleanID keeps an id that is already clean and short, and replaces any
// other by "h:" and a digest of it.
func cleanID(s string) string {
	if len(s) <= maxIDBytes && textutil.CleanLine(s, 0) == s {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "h:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// cleanPayload cleans a button payload and cuts it to maxBytes at a
// character boundary.
func cleanPayload(s string, maxBytes int) string {
	s = textutil.CleanLine(s, maxBytes)
	for len(s) > maxBytes {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
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
