package bot

import (
	"crypto/sha256"
	"encoding/base64"
	"unicode/utf8"

	"github.com/tend-health/tend/internal/textutil"
)

// Caps on what a channel lets in at its edge (SanitizeInbound). The
// platforms' own limits are lower (4,096 characters of text, 1,024 of a
// caption, 64 of a name), so these only bite on input that did not come
// from a real client.
const (
	// MaxMetaRunes bounds a name or any other fact in Inbound.Meta.
	MaxMetaRunes = 64
	// maxIDBytes bounds an id used as text (a wamid is about 60 bytes); a
	// longer or unclean one is replaced by a digest of it, so repeats still
	// match.
	maxIDBytes = 128
)

// SanitizeInbound makes every text of an inbound message valid before a
// channel stores it: a NUL, invalid UTF-8, a control character or a
// bidirectional override in one field must not make the database refuse
// the message (and the channel stall on it, or the platform resend it for
// days), nor reach staff. The locale is the channel's to check: each knows
// what its platform sends there.
func SanitizeInbound(in *Inbound) {
	in.ChatID = CleanID(in.ChatID)
	in.SenderID = CleanID(in.SenderID)
	in.MessageID = CleanID(in.MessageID)
	in.Text = textutil.Clean(in.Text, MaxStoredRunes)
	in.Payload = cleanPayload(in.Payload, MaxPayloadBytes)
	for k, v := range in.Meta {
		if v = textutil.CleanLine(v, MaxMetaRunes); v == "" {
			delete(in.Meta, k)
		} else {
			in.Meta[k] = v
		}
	}
}

// CleanID keeps an id that is already clean and short, and replaces any
// other by "h:" and a digest of it.
func CleanID(s string) string {
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
