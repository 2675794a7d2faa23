package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// User is a person with a console account.
type User struct {
	ID        int64      `json:"id"`
	Email     string     `json:"email"`
	Role      Role       `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	Disabled  *time.Time `json:"disabled_at,omitempty"`
	// PasswordSet: the person has followed their link and can sign in.
	PasswordSet bool `json:"password_set"`
	// TOTP: the account signs in with a one-time code.
	TOTP bool `json:"totp"`

	passwordHash string
	totpSecret   string // sealed as stored
	totpStep     int64
}

const userCols = `id, email, role, password_hash, totp_secret, totp_step, created_at, password_at, disabled_at`

func scanUser(r interface{ Scan(...any) error }) (User, error) {
	var u User
	var pwAt *time.Time
	var role string
	err := r.Scan(&u.ID, &u.Email, &role, &u.passwordHash, &u.totpSecret, &u.totpStep, &u.CreatedAt, &pwAt, &u.Disabled)
	u.Role = Role(role)
	u.PasswordSet = pwAt != nil && u.passwordHash != ""
	u.TOTP = u.totpSecret != "" && u.PasswordSet
	return u, err
}

// Add creates an account and returns it with its one-time sign-in link
// token (see Link). The person sets their password through the link.
func (s *Service) Add(ctx context.Context, email string, role Role) (User, string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, "", err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, "", err
	}
	var u User
	var link string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		err := tx.Q.QueryRow(ctx, `INSERT INTO console_users (email, role, created_at) VALUES ($1, $2, $3)
			RETURNING id`, email, string(role), s.now()).Scan(&u.ID)
		if err != nil && store.IsUniqueViolation(err) {
			return fmt.Errorf("%w: %s", ErrExists, email)
		}
		if err != nil {
			return err
		}
		u, err = userBy(ctx, tx.Q, "id", u.ID)
		if err != nil {
			return err
		}
		link, err = s.newLink(ctx, tx.Q, u)
		return err
	})
	return u, link, err
}

// List is every account, by e-mail.
func (s *Service) List(ctx context.Context) ([]User, error) {
	rows, err := s.DB.Q().Query(ctx, `SELECT `+userCols+` FROM console_users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("accounts: list: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// ByEmail finds an account.
func (s *Service) ByEmail(ctx context.Context, email string) (User, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return User{}, ErrNotFound
	}
	return userBy(ctx, s.DB.Q(), "email", e)
}

// ByID finds an account by its id (the API names accounts by id, so
// addresses stay out of request paths and their logs).
func (s *Service) ByID(ctx context.Context, id int64) (User, error) {
	return userBy(ctx, s.DB.Q(), "id", id)
}

func userBy(ctx context.Context, q store.Q, col string, v any) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userCols+` FROM console_users WHERE `+col+` = $1`, v))
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrNotFound
	}
	return u, err
}

// Disable stops an account: its sessions end, its links stop working and
// it can no longer sign in. Enable (a reset) gives it a new link.
func (s *Service) Disable(ctx context.Context, email string) error {
	u, err := s.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if _, err := tx.Q.Exec(ctx, `UPDATE console_users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`, now, u.ID); err != nil {
			return err
		}
		return endAll(ctx, tx.Q, u.ID)
	})
}

// Reset is for a forgotten password or a lost phone (and re-enables a
// disabled account): the password and the one-time-code secret are
// cleared, every session ends, and a new link lets the person set both
// again. Earlier links stop working.
func (s *Service) Reset(ctx context.Context, email string) (User, string, error) {
	u, err := s.ByEmail(ctx, email)
	if err != nil {
		return User{}, "", err
	}
	var link string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Q.Exec(ctx, `UPDATE console_users SET password_hash = '', totp_secret = '', totp_step = 0,
			password_at = NULL, disabled_at = NULL WHERE id = $1`, u.ID); err != nil {
			return err
		}
		if err := endAll(ctx, tx.Q, u.ID); err != nil {
			return err
		}
		if u, err = userBy(ctx, tx.Q, "id", u.ID); err != nil {
			return err
		}
		link, err = s.newLink(ctx, tx.Q, u)
		return err
	})
	return u, link, err
}

// endAll ends every session and link of an account.
func endAll(ctx context.Context, q store.Q, userID int64) error {
	if _, err := q.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, userID); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `DELETE FROM console_links WHERE user_id = $1`, userID)
	return err
}
