package telegram

import (
	"crypto/sha256"
	"encoding/base64"
	"unicode/utf8"
)

// Button payloads travel as callback_data, which Telegram limits to 1-64
// bytes. A payload that fits is sent as it is, so it is readable in
// Telegram's own logs and needs no lookup. Two markers cover the rest:
//
//	"-"      a button with no payload: pressing it sends its label as text
//	"~KEY"   a longer payload, stored under KEY (a hash) when sent
const (
	maxCallbackData = 64
	noPayloadData   = "-"
	storedPrefix    = "~"
	storedKeyLen    = 22 // base64 characters of a SHA-256: 132 bits
)

// callbackData is what a button's callback_data means.
type callbackData struct {
	Payload   string // the payload itself, when carried inline
	StoredKey string // the kv key suffix of a stored payload
	LabelOnly bool   // no payload: the label is the message
}

// encodeCallback chooses callback_data for a payload; stored says the
// payload must be saved under key before the button is sent.
func encodeCallback(payload string) (data, key string, stored bool) {
	switch {
	case payload == "":
		return noPayloadData, "", false
	case len(payload) <= maxCallbackData && utf8.ValidString(payload) &&
		payload != noPayloadData && payload[:1] != storedPrefix:
		return payload, "", false
	}
	sum := sha256.Sum256([]byte(payload))
	key = base64.RawURLEncoding.EncodeToString(sum[:])[:storedKeyLen]
	return storedPrefix + key, key, true
}

// parseCallback reads callback_data sent by the patient's client. Anything
// may arrive here (old buttons, other clients), so it never fails: data it
// did not make is passed on as a payload the engine will call unknown.
func parseCallback(data string) callbackData {
	switch {
	case data == noPayloadData || data == "":
		return callbackData{LabelOnly: true}
	case len(data) == len(storedPrefix)+storedKeyLen && data[:1] == storedPrefix && isKey(data[1:]):
		return callbackData{StoredKey: data[1:]}
	default:
		return callbackData{Payload: data}
	}
}

func isKey(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// kvCallbackKey is where a long payload is kept.
func kvCallbackKey(key string) string { return "telegram:cb:" + key }
