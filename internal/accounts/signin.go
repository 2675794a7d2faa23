package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// SignIn checks an e-mail, password and one-time code from a client
// address and starts a session; it returns the session and the id for its
// cookie. Every failure is ErrBadCredentials, whatever was wrong, and
// costs the same argon2id work (an unknown e-mail is checked against a
// dummy hash), so the answer tells nothing about which accounts exist.
// Failures are counted per account and per address; past the limits the
// answer is ErrThrottled and nothing is checked.
func (s *Service) SignIn(ctx context.Context, email, password, code, addr string) (Session, string, error) {
	norm, nerr := NormalizeEmail(email)
	keys := []string{"addr:" + addr}
	if nerr == nil {
		keys = append(keys, "user:"+norm)
	}
	if err := s.throttled(ctx, keys); err != nil {
		return Session{}, "", err
	}
	u, err := userBy(ctx, s.DB.Q(), "email", norm)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Session{}, "", err
	}
	hash := u.passwordHash
	if err != nil || hash == "" {
		hash = dummyHash()
	}
	ok := VerifyPassword(hash, password) && err == nil && u.PasswordSet && u.Disabled == nil
	var step int64
	if ok && (u.TOTP || u.Role.NeedsTOTP()) {
		secret, oerr := s.DB.Q().Open(totpPurpose, u.totpSecret)
		if oerr != nil {
			return Session{}, "", oerr
		}
		step = matchTOTP(secret, code, s.now(), u.totpStep)
		ok = step > 0
	}
	if !ok {
		if err := s.fail(ctx, keys); err != nil {
			return Session{}, "", err
		}
		return Session{}, "", ErrBadCredentials
	}
	var sess Session
	var id string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if step > 0 {
			// Only a step later than the last one used: a code seen over
			// someone's shoulder does not sign in a second time.
			n, err := tx.Q.Exec(ctx, `UPDATE console_users SET totp_step = $1 WHERE id = $2 AND totp_step < $1`, step, u.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return ErrBadCredentials
			}
		}
		if _, err := tx.Q.Exec(ctx, `DELETE FROM console_attempts WHERE key = $1`, "user:"+norm); err != nil {
			return err
		}
		var err error
		sess, id, err = s.start(ctx, tx.Q, u)
		return err
	})
	if errors.Is(err, ErrBadCredentials) {
		_ = s.fail(ctx, keys)
	}
	return sess, id, err
}

// throttled refuses when any key has reached its limit of failures within
// the window.
func (s *Service) throttled(ctx context.Context, keys []string) error {
	l := s.limits()
	since := s.now().Add(-l.Window)
	for _, k := range keys {
		limit := l.PerAddress
		if len(k) > 5 && k[:5] == "user:" {
			limit = l.PerAccount
		}
		var n int
		if err := s.DB.Q().QueryRow(ctx, `SELECT count(*) FROM console_attempts WHERE key = $1 AND at > $2`, k, since).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return ErrThrottled
		}
	}
	return nil
}

// fail records a failed sign-in under each key.
func (s *Service) fail(ctx context.Context, keys []string) error {
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, k := range keys {
			if _, err := tx.Q.Exec(ctx, `INSERT INTO console_attempts (key, at) VALUES ($1, $2)`, k, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// RetryAfter is how long a throttled key stays refused at most (the window).
func (s *Service) RetryAfter() time.Duration { return s.limits().Window }
