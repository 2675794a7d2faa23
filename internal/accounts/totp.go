package accounts

import (
	"encoding/base32"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpPurpose authenticates a sealed TOTP secret with its column.
const totpPurpose = "console_users.totp_secret"

// totpOpts are the authenticator apps' defaults (RFC 6238: 30 s, 6 digits,
// SHA-1), the only settings every app supports.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// newTOTP makes a secret for an account and its otpauth:// URI, which an
// authenticator app reads (typed in, or from a QR code the person makes).
func (s *Service) newTOTP(email string) (secret, uri string, err error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer(), AccountName: email, Period: 30,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", "", err
	}
	return k.Secret(), k.URL(), nil
}

// TOTPURI is the otpauth:// URI of a secret, for the set-password page.
func (s *Service) TOTPURI(email, secret string) string {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer(), AccountName: email, Period: 30,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: decodeSecret(secret)})
	if err != nil {
		return ""
	}
	return k.URL()
}

func decodeSecret(s string) []byte {
	b, err := base32NoPad.DecodeString(strings.ToUpper(s))
	if err != nil {
		return nil
	}
	return b
}

// matchTOTP returns the time step a code is valid for (the current one or
// one either side, for clocks a little apart), or 0. The step is kept per
// account so that a code, once used, is refused (RFC 6238 §5.2).
func matchTOTP(secret, code string, now time.Time, lastStep int64) int64 {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 || secret == "" {
		return 0
	}
	step := now.Unix() / 30
	for _, d := range []int64{0, -1, 1} {
		st := step + d
		if st <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(st*30, 0), totpOpts)
		if err == nil && want == code {
			return st
		}
	}
	return 0
}

// Code is the current one-time code for a secret (tests, and the CLI's
// check of a freshly set secret).
func Code(secret string, at time.Time) string {
	c, _ := totp.GenerateCodeCustom(secret, at, totpOpts)
	return c
}
