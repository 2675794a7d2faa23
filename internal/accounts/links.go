package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/tend-health/tend/internal/store"
)

// newLink replaces the account's links with a new one, valid for
// LinkLifetime, and gives the account a new one-time-code secret unless it
// has one: the link's page shows it, so the person sets password and
// authenticator together.
func (s *Service) newLink(ctx context.Context, q store.Q, u User) (string, error) {
	now := s.now()
	if _, err := q.Exec(ctx, `DELETE FROM console_links WHERE user_id = $1`, u.ID); err != nil {
		return "", err
	}
	if u.totpSecret == "" {
		secret, _, err := s.newTOTP(u.Email)
		if err != nil {
			return "", err
		}
		if _, err := q.Exec(ctx, `UPDATE console_users SET totp_secret = $1, totp_step = 0 WHERE id = $2`,
			q.Seal(totpPurpose, secret), u.ID); err != nil {
			return "", err
		}
	}
	token := newSecret()
	_, err := q.Exec(ctx, `INSERT INTO console_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hashSecret(token), u.ID, now, now.Add(LinkLifetime))
	if err != nil {
		return "", fmt.Errorf("accounts: new link: %w", err)
	}
	return token, nil
}

// Invite is what a valid sign-in link's page shows.
type Invite struct {
	User User
	// TOTPSecret (base32) and TOTPURI set up the authenticator app;
	// TOTPRequired is false for editors, who may leave it off.
	TOTPSecret   string
	TOTPURI      string
	TOTPRequired bool
}

// OpenLink checks a link without using it.
func (s *Service) OpenLink(ctx context.Context, token string) (Invite, error) {
	return s.openLink(ctx, s.DB.Q(), token, false)
}

func (s *Service) openLink(ctx context.Context, q store.Q, token string, lock bool) (Invite, error) {
	var userID int64
	sql := `SELECT user_id FROM console_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`
	if lock {
		sql += q.ForUpdate()
	}
	err := q.QueryRow(ctx, sql, hashSecret(token), s.now()).Scan(&userID)
	if errors.Is(err, store.ErrNotFound) {
		return Invite{}, ErrLinkInvalid
	}
	if err != nil {
		return Invite{}, err
	}
	u, err := userBy(ctx, q, "id", userID)
	if err != nil {
		return Invite{}, err
	}
	if u.Disabled != nil {
		return Invite{}, ErrLinkInvalid
	}
	secret, err := q.Open(totpPurpose, u.totpSecret)
	if err != nil {
		return Invite{}, fmt.Errorf("accounts: open the one-time-code secret: %w", err)
	}
	return Invite{User: u, TOTPSecret: secret, TOTPURI: s.TOTPURI(u.Email, secret), TOTPRequired: u.Role.NeedsTOTP()}, nil
}

// Redeem uses a link: it sets the password (CheckPassword's rules) and,
// with the first code from the authenticator app, turns one-time codes on
// (required for owners and staff; an editor who gives no code signs in
// with the password alone). The link then stops working.
func (s *Service) Redeem(ctx context.Context, token, password, code string) (User, error) {
	if err := CheckPassword(password); err != nil {
		return User{}, err
	}
	hash := HashPassword(password) // before the transaction: it takes a while
	var u User
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		inv, err := s.openLink(ctx, tx.Q, token, true)
		if err != nil {
			return err
		}
		u = inv.User
		now := s.now()
		secret, step := tx.Q.Seal(totpPurpose, inv.TOTPSecret), int64(0)
		switch {
		case code == "" && !inv.TOTPRequired:
			secret = ""
		default:
			if step = matchTOTP(inv.TOTPSecret, code, now, 0); step == 0 {
				return ErrBadCode
			}
		}
		if _, err := tx.Q.Exec(ctx, `UPDATE console_users SET password_hash = $1, password_at = $2, totp_secret = $3,
			totp_step = $4 WHERE id = $5`, hash, now, secret, step, u.ID); err != nil {
			return err
		}
		_, err = tx.Q.Exec(ctx, `UPDATE console_links SET used_at = $1 WHERE token_hash = $2`, now, hashSecret(token))
		return err
	})
	if err != nil {
		return User{}, err
	}
	return userBy(ctx, s.DB.Q(), "id", u.ID)
}

// ErrBadCode: the one-time code does not match the authenticator's secret.
var ErrBadCode = errors.New("accounts: the one-time code does not match; check the phone's clock and type the current code")
