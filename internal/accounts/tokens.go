package accounts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Token is a named API token (the secret itself is shown once, at Add).
type Token struct {
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by,omitempty"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
	Revoked   *time.Time `json:"revoked_at,omitempty"`
}

// TokenPrefix starts every named token, so a leaked one is recognisable
// (secret scanners, logs) and never mistaken for TEND_ADMIN_TOKEN.
const TokenPrefix = "tend_"

var tokenNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// AddToken issues a token; the secret is returned once and only its hash
// kept. The name appears in the audit trail as "token:<name>".
func (s *Service) AddToken(ctx context.Context, name string, role Role, by string) (Token, string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !tokenNameRe.MatchString(name) {
		return Token{}, "", fmt.Errorf("accounts: a token name is 1-63 of a-z 0-9 . _ -, got %q", name)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return Token{}, "", err
	}
	secret := TokenPrefix + newSecret()
	t := Token{Name: name, Role: role, CreatedAt: s.now(), CreatedBy: by}
	_, err := s.DB.Q().Exec(ctx, `INSERT INTO api_tokens (name, role, token_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5)`,
		name, string(role), hashSecret(secret), t.CreatedAt, by)
	if err != nil && store.IsUniqueViolation(err) {
		return Token{}, "", fmt.Errorf("%w: a token named %s (revoked ones keep their name)", ErrExists, name)
	}
	if err != nil {
		return Token{}, "", fmt.Errorf("accounts: add token: %w", err)
	}
	return t, secret, nil
}

const tokenCols = `name, role, created_at, created_by, last_used_at, revoked_at`

func scanToken(r interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var role string
	err := r.Scan(&t.Name, &role, &t.CreatedAt, &t.CreatedBy, &t.LastUsed, &t.Revoked)
	t.Role = Role(role)
	return t, err
}

// Tokens lists every token, revoked ones included, by name.
func (s *Service) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.DB.Q().Query(ctx, `SELECT `+tokenCols+` FROM api_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("accounts: list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken stops a token at once.
func (s *Service) RevokeToken(ctx context.Context, name string) error {
	n, err := s.DB.Q().Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL`,
		s.now(), strings.ToLower(strings.TrimSpace(name)))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: no active token named %q", ErrNotFound, name)
	}
	return nil
}

// LookupToken finds the active token of a secret, noting its use (at most
// once a minute, so a busy script does not write on every call).
func (s *Service) LookupToken(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, ErrNotFound
	}
	q := s.DB.Q()
	t, err := scanToken(q.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
		hashSecret(secret)))
	if errors.Is(err, store.ErrNotFound) {
		return Token{}, ErrNotFound
	}
	if err != nil {
		return Token{}, err
	}
	now := s.now()
	if t.LastUsed == nil || now.Sub(*t.LastUsed) > time.Minute {
		if _, err := q.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE name = $2`, now, t.Name); err != nil {
			return Token{}, err
		}
		t.LastUsed = &now
	}
	return t, nil
}
