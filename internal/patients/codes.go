package patients

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Hasher is a keyed hash whose key lives outside the database. The
// encryption keyring (TEND_ENCRYPTION_KEY, internal/sealed.Keyring) has this
// shape; a nil keyring returns "" and is not used.
type Hasher interface {
	Hash(purpose, value string) string
}

// rotatingHasher hashes under every key of a keyring, current first.
type rotatingHasher interface {
	Hashes(purpose, value string) []string
}

// CodeKeys key what identity verification stores: one-time code hashes and
// the hashed phone numbers and e-mail addresses its attempt limits are
// counted under. Both are HMAC-SHA256 under a server secret that is not in
// the table they are stored in, so reading the database recovers neither a
// code nor a contact: with the conversation id alone (the old key) a code
// was found by trying all 10^6 in well under a second.
type CodeKeys struct {
	otp     []byte
	contact []byte
	hasher  Hasher
	// Source says where the secret came from (config, encryption_key,
	// database), for the start-up log; never the secret.
	Source string
}

// NewCodeKeys derives the keys from a secret (TEND_CODE_SECRET, or one made
// once and kept in the database).
func NewCodeKeys(secret []byte, source string) (CodeKeys, error) {
	if len(secret) < 16 {
		return CodeKeys{}, errors.New("patients: the one-time code secret must be at least 16 bytes")
	}
	return CodeKeys{otp: derive(secret, "tend one-time codes v2"), contact: derive(secret, "tend verification contacts v1"),
		Source: source}, nil
}

// CodeKeysFrom uses a keyed hash held elsewhere (the encryption keyring):
// the seam through which TEND_ENCRYPTION_KEY keys one-time codes.
func CodeKeysFrom(h Hasher, source string) CodeKeys {
	return CodeKeys{hasher: h, Source: source}
}

// Usable reports whether k has a key.
func (k CodeKeys) Usable() bool { return len(k.otp) > 0 || k.hasher != nil }

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func (k CodeKeys) mac(key []byte, purpose, value string) string {
	if k.hasher != nil {
		return k.hasher.Hash(purpose, value)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// codePrefix marks hashes made with a server key; older hashes (keyed by the
// conversation id alone) never match and simply expire.
const codePrefix = "v2:"

// codePurpose names code hashes to a keyring (domain separation).
const codePurpose = "patient_verifications.code_hash"

// HashCode is what is stored for a code issued in a conversation to a
// candidate patient: bound to both, so the hash is useless elsewhere.
func (k CodeKeys) HashCode(conversationID, patientID int64, code string) string {
	if !k.Usable() {
		panic("patients: one-time codes need a key") // a programming error: Install sets one
	}
	return codePrefix + k.mac(k.otp, codePurpose,
		strconv.FormatInt(conversationID, 10)+":"+strconv.FormatInt(patientID, 10)+":"+code)
}

// CheckCode reports, in constant time, whether code is the conversation's
// outstanding code for its candidate patient.
func (k CodeKeys) CheckCode(v Verification, code string, now time.Time) bool {
	if v.PatientID == nil || !strings.HasPrefix(v.CodeHash, codePrefix) || v.CodeExpiresAt == nil ||
		!now.Before(*v.CodeExpiresAt) || !k.Usable() {
		return false
	}
	value := strconv.FormatInt(v.ConversationID, 10) + ":" + strconv.FormatInt(*v.PatientID, 10) + ":" + code
	if all, ok := k.hasher.(rotatingHasher); ok {
		// A keyring: the code may have been issued under the key before a rotation.
		match := false
		for _, h := range all.Hashes(codePurpose, value) {
			match = hmac.Equal([]byte(v.CodeHash), []byte(codePrefix+h)) || match
		}
		return match
	}
	return hmac.Equal([]byte(v.CodeHash), []byte(k.HashCode(v.ConversationID, *v.PatientID, code)))
}

// Contact is the limit subject of a normalized phone number or e-mail
// address: a keyed hash, so the limits table holds no address.
func (k CodeKeys) Contact(normalized string) string {
	if normalized == "" || !k.Usable() {
		return ""
	}
	return "contact:" + k.mac(k.contact, "verification_limits.contact", normalized)
}

// Contacts are the limit subjects of a normalized phone number or e-mail
// address under every key it may have been counted under (the keyring's
// older keys after a rotation), current first: what an erase removes.
func (k CodeKeys) Contacts(normalized string) []string {
	if normalized == "" || !k.Usable() {
		return nil
	}
	if all, ok := k.hasher.(rotatingHasher); ok {
		var out []string
		for _, h := range all.Hashes("verification_limits.contact", normalized) {
			out = append(out, "contact:"+h)
		}
		return out
	}
	return []string{k.Contact(normalized)}
}
