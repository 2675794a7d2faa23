// Package sealed holds Tend's keys for personal data at rest: a Keyring of
// one or more 256-bit master keys (the first is current, the others only
// open what they sealed), envelope-style sealing of single values with
// AES-256-GCM, and keyed hashes for the lookups that need equality on a
// sealed value (a phone number, an e-mail address).
//
// A sealed value is text that can live in any text (or, quoted, JSON)
// column:
//
//	v1:<kid>:<base64(nonce || ciphertext || tag)>
//
// kid is 8 hex digits that name the master key (derived from the key, so
// nobody has to name keys and the same key always has the same id). Each
// value has its own random 96-bit nonce. The purpose (the table and column,
// e.g. "patients.phone") is authenticated with the value, so a sealed value
// copied into another column does not open.
//
// From each master key, HKDF-SHA256 (the standard library's crypto/hkdf)
// derives three independent keys: the AES-256-GCM key, the HMAC-SHA256 key
// for lookup hashes and the key id. The master key itself never touches a
// value.
//
// A nil *Keyring is the plaintext mode: Seal returns its input, Open
// returns plaintext as it is and refuses sealed values (ErrNoKey).
package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the size of a master key: 32 bytes (AES-256).
const KeySize = 32

const (
	prefix   = "v1:"
	kidLen   = 8
	headLen  = len(prefix) + kidLen + 1 // "v1:" kid ":"
	nonceLen = 12
	tagLen   = 16
)

// Errors from Open. None of them carries the value.
var (
	// ErrNoKey: the value is sealed but no key is configured.
	ErrNoKey = errors.New("sealed: the value is encrypted and no encryption key is configured")
	// ErrUnknownKey: the value was sealed under a key that is not in the keyring.
	ErrUnknownKey = errors.New("sealed: the value is encrypted under a key that is not configured")
	// ErrTampered: the value does not authenticate (altered, truncated, or
	// moved from another column).
	ErrTampered = errors.New("sealed: the value does not authenticate")
)

// key is one master key's derived material.
type key struct {
	id   string
	aead cipher.AEAD
	mac  []byte // HMAC-SHA256 key for lookup hashes
}

// Keyring is a set of master keys; the first seals, all open.
type Keyring struct {
	keys []*key
	byID map[string]*key
}

// New makes a keyring from raw 32-byte master keys, current first.
func New(masters ...[]byte) (*Keyring, error) {
	if len(masters) == 0 {
		return nil, errors.New("sealed: no key")
	}
	k := &Keyring{byID: map[string]*key{}}
	for i, m := range masters {
		if len(m) != KeySize {
			return nil, fmt.Errorf("sealed: key %d is %d bytes; it must be %d (base64 of 32 random bytes)", i+1, len(m), KeySize)
		}
		d, err := derive(m)
		if err != nil {
			return nil, err
		}
		if _, dup := k.byID[d.id]; dup {
			return nil, fmt.Errorf("sealed: key %d is listed twice", i+1)
		}
		k.keys = append(k.keys, d)
		k.byID[d.id] = d
	}
	return k, nil
}

func derive(master []byte) (*key, error) {
	enc, err := hkdf.Key(sha256.New, master, nil, "tend/v1 aes-256-gcm", KeySize)
	if err != nil {
		return nil, err
	}
	mac, err := hkdf.Key(sha256.New, master, nil, "tend/v1 lookup hmac-sha256", 32)
	if err != nil {
		return nil, err
	}
	id, err := hkdf.Key(sha256.New, master, nil, "tend/v1 key id", kidLen/2)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &key{id: hex.EncodeToString(id), aead: aead, mac: mac}, nil
}

// Parse reads keys as TEND_ENCRYPTION_KEY or a key file gives them: base64
// (standard or URL alphabet, padded or not) of 32 bytes each, one per line
// or separated by commas; blank lines and lines starting with # are
// skipped. The first key is current.
func Parse(text string) (*Keyring, error) {
	var masters [][]byte
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := decodeKey(line)
		if err != nil {
			return nil, fmt.Errorf("sealed: key %d: %w", len(masters)+1, err)
		}
		masters = append(masters, b)
	}
	if len(masters) == 0 {
		return nil, errors.New("sealed: no key found")
	}
	return New(masters...)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("it is %d bytes; it must be %d (base64 of 32 random bytes)", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("it is not base64 (make one with `tend keys generate` or `openssl rand -base64 32`)")
}

// ReadFile reads a key file (see Parse). It should be readable by Tend's
// user only (a mounted secret, or mode 0600).
func ReadFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sealed: key file: %w", err)
	}
	k, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// Generate returns a new random master key, base64-encoded.
func Generate() string {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b) // never fails (crypto/rand aborts the program instead)
	return base64.StdEncoding.EncodeToString(b)
}

// Current is the id of the key that seals.
func (k *Keyring) Current() string {
	if k == nil {
		return ""
	}
	return k.keys[0].id
}

// IDs lists the key ids, current first.
func (k *Keyring) IDs() []string {
	if k == nil {
		return nil
	}
	out := make([]string, len(k.keys))
	for i, d := range k.keys {
		out[i] = d.id
	}
	return out
}

// Has reports whether the key with this id is in the keyring.
func (k *Keyring) Has(id string) bool {
	if k == nil {
		return false
	}
	_, ok := k.byID[id]
	return ok
}

func aad(purpose string) []byte { return []byte("tend/v1 " + purpose) }

// Seal encrypts plaintext for purpose under the current key. The empty
// string stays empty (it holds nothing); a nil keyring returns plaintext.
func (k *Keyring) Seal(purpose, plaintext string) string {
	if k == nil || plaintext == "" {
		return plaintext
	}
	cur := k.keys[0]
	buf := make([]byte, nonceLen, nonceLen+len(plaintext)+tagLen)
	_, _ = rand.Read(buf)
	buf = cur.aead.Seal(buf, buf[:nonceLen], []byte(plaintext), aad(purpose))
	var b strings.Builder
	b.Grow(headLen + base64.StdEncoding.EncodedLen(len(buf)))
	b.WriteString(prefix)
	b.WriteString(cur.id)
	b.WriteByte(':')
	b.WriteString(base64.StdEncoding.EncodeToString(buf))
	return b.String()
}

// Open returns the plaintext of a value read back from storage: a sealed
// value is decrypted (with whichever key sealed it), anything else is
// plaintext written before a key was configured and comes back as it is.
func (k *Keyring) Open(purpose, stored string) (string, error) {
	id, body, ok := split(stored)
	if !ok {
		return stored, nil
	}
	if k == nil {
		return "", fmt.Errorf("%w (key id %s)", ErrNoKey, id)
	}
	d := k.byID[id]
	if d == nil {
		return "", fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil || len(raw) < nonceLen+tagLen {
		return "", ErrTampered
	}
	out, err := d.aead.Open(raw[nonceLen:nonceLen], raw[:nonceLen], raw[nonceLen:], aad(purpose))
	if err != nil {
		return "", ErrTampered
	}
	return string(out), nil
}

// IsSealed reports whether a stored value is sealed (rather than plaintext).
func IsSealed(stored string) bool {
	_, _, ok := split(stored)
	return ok
}

// KeyID is the id of the key that sealed a stored value; "" for plaintext.
func KeyID(stored string) string {
	id, _, _ := split(stored)
	return id
}

// split recognizes a sealed value strictly: the prefix, 8 lowercase hex
// digits, a colon, and standard base64 long enough for a nonce and a tag.
// Anything else is plaintext.
func split(s string) (id, body string, ok bool) {
	if len(s) < headLen+base64.StdEncoding.EncodedLen(nonceLen+tagLen) || s[:len(prefix)] != prefix || s[headLen-1] != ':' {
		return "", "", false
	}
	id = s[len(prefix) : headLen-1]
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", "", false
		}
	}
	body = s[headLen:]
	if len(body)%4 != 0 {
		return "", "", false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return "", "", false
		}
	}
	return id, body, true
}

// Hash is the keyed lookup hash of value for purpose under the current key:
// "<kid>:" and the HMAC-SHA256 in unpadded base64url. Equal values hash
// equal under one key; without the key the hash says nothing about the
// value (a phone number cannot be found by trying every number). Callers
// normalize the value first. "" for an empty value or a nil keyring.
func (k *Keyring) Hash(purpose, value string) string {
	if k == nil || value == "" {
		return ""
	}
	return k.keys[0].hash(purpose, value)
}

// Hashes are value's lookup hashes under every key, current first: a row
// hashed before a rotation is still found until the rotation rehashes it.
func (k *Keyring) Hashes(purpose, value string) []string {
	if k == nil || value == "" {
		return nil
	}
	out := make([]string, len(k.keys))
	for i, d := range k.keys {
		out[i] = d.hash(purpose, value)
	}
	return out
}

func (d *key) hash(purpose, value string) string {
	m := hmac.New(sha256.New, d.mac)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	var b bytes.Buffer
	b.Grow(kidLen + 1 + 43)
	b.WriteString(d.id)
	b.WriteByte(':')
	b.WriteString(base64.RawURLEncoding.EncodeToString(m.Sum(nil)))
	return b.String()
}

// HashKeyID is the id of the key a stored lookup hash was made with.
func HashKeyID(h string) string {
	if len(h) > kidLen && h[kidLen] == ':' {
		return h[:kidLen]
	}
	return ""
}
