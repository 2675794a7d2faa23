package whatsapp

import (
	"crypto/sha256"
	"encoding/base64"
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/textutil"
)

// Caps on what enters from WhatsApp. WhatsApp's own limits are lower (4,096
// characters of text, 1,024 of caption, 24 of a button title), so these
// only bite on input that did not come from a WhatsApp client.
const (
	// maxTextRunes is what the engine stores of a message at most; it asks
	// for a shorter question above bot.MaxTextRunes.
	maxTextRunes = 16000
	// maxMetaRunes bounds a name or any other fact in Inbound.Meta.
	maxMetaRunes = 64
	// maxIDBytes bounds an id used as text (a wamid is about 60 bytes); a
	// longer or unclean one is replaced by a digest of it, so repeats still
	// match.
	maxIDBytes = 128
)

// sanitize makes every text of an inbound message valid before anything
// stores it: a NUL, invalid UTF-8, a control character or a bidirectional
// override in one field must not make the database refuse the notification
// (and Meta resend it for a week), nor reach staff.
func sanitize(in *bot.Inbound) {
	in.ChatID = cleanID(in.ChatID)
	in.SenderID = cleanID(in.SenderID)
	in.MessageID = cleanID(in.MessageID)
	in.Text = textutil.Clean(in.Text, maxTextRunes)
	in.Payload = cleanPayload(in.Payload, bot.MaxPayloadBytes)
	in.Locale = ""
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
