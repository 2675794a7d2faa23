package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Session is a signed-in browser.
type Session struct {
	User User
	// CSRF is the synchronizer token every form and cookie-authenticated
	// change of this session must carry; it lives and dies with the session.
	CSRF      string
	CreatedAt time.Time
	SeenAt    time.Time
	// ExpiresAt is the absolute end (sign-in + Lifetime).
	ExpiresAt time.Time
	// Idle is how long it may go without a request.
	Idle time.Duration
}

// start opens a session for an account; the returned id goes into the
// cookie, only its hash into the database.
func (s *Service) start(ctx context.Context, q store.Q, u User) (Session, string, error) {
	now := s.now()
	id, csrf := newSecret(), newSecret()
	_, err := q.Exec(ctx, `INSERT INTO console_sessions (id_hash, user_id, csrf, created_at, seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $4, $5)`, hashSecret(id), u.ID, csrf, now, now.Add(s.lifetime()))
	if err != nil {
		return Session{}, "", fmt.Errorf("accounts: start a session: %w", err)
	}
	return Session{User: u, CSRF: csrf, CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(s.lifetime()), Idle: s.idle()}, id, nil
}

// Session finds the session of a cookie's id. touch counts the request as
// activity (a person's click); a page's own background refresh passes
// false, so an open tab alone does not keep a session alive. A session
// idle for longer than Idle, past its lifetime, or of a disabled account
// is ended and ErrNoSession returned.
func (s *Service) Session(ctx context.Context, id string, touch bool) (Session, error) {
	if id == "" {
		return Session{}, ErrNoSession
	}
	q := s.DB.Q()
	var userID int64
	var sess Session
	err := q.QueryRow(ctx, `SELECT user_id, csrf, created_at, seen_at, expires_at FROM console_sessions WHERE id_hash = $1`,
		hashSecret(id)).Scan(&userID, &sess.CSRF, &sess.CreatedAt, &sess.SeenAt, &sess.ExpiresAt)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	now := s.now()
	sess.Idle = s.idle()
	u, err := userBy(ctx, q, "id", userID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Session{}, err
	}
	if err != nil || u.Disabled != nil || !now.Before(sess.SeenAt.Add(sess.Idle)) || !now.Before(sess.ExpiresAt) {
		if err := s.End(ctx, id); err != nil {
			return Session{}, err
		}
		return Session{}, ErrNoSession
	}
	sess.User = u
	if touch {
		if _, err := q.Exec(ctx, `UPDATE console_sessions SET seen_at = $1 WHERE id_hash = $2`, now, hashSecret(id)); err != nil {
			return Session{}, err
		}
		sess.SeenAt = now
	}
	return sess, nil
}

// End signs a session out (no error when it had already ended).
func (s *Service) End(ctx context.Context, id string) error {
	_, err := s.DB.Q().Exec(ctx, `DELETE FROM console_sessions WHERE id_hash = $1`, hashSecret(id))
	return err
}

// Prune removes sessions, links and failed attempts that can no longer
// matter; the console calls it after each successful sign-in.
func (s *Service) Prune(ctx context.Context) error {
	now := s.now()
	q := s.DB.Q()
	if _, err := q.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1 OR seen_at <= $2`, now, now.Add(-s.idle())); err != nil {
		return fmt.Errorf("accounts: prune sessions: %w", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM console_links WHERE expires_at <= $1 OR used_at IS NOT NULL`, now); err != nil {
		return fmt.Errorf("accounts: prune links: %w", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM console_attempts WHERE at <= $1`, now.Add(-s.limits().Window)); err != nil {
		return fmt.Errorf("accounts: prune attempts: %w", err)
	}
	return nil
}
