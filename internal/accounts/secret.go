package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// newSecret is 256 random bits, URL-safe: a session id, a link, a token.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is what the database keeps of a secret. A plain SHA-256 is
// enough for 256-bit random values: nothing can be guessed from it, and a
// lookup by it is one indexed equality.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
