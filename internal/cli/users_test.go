package cli

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// linkToken reads the token of the sign-in link a command printed.
func linkToken(t *testing.T, out string) string {
	t.Helper()
	i := strings.Index(out, "http")
	require.GreaterOrEqual(t, i, 0, out)
	u, err := url.Parse(strings.TrimSpace(out[i:]))
	require.NoError(t, err)
	require.Equal(t, "/admin/welcome", u.Path)
	return u.Query().Get("token")
}

func TestUsersAndTokensCommands(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		vars := func() map[string]string { return map[string]string{"TEND_PUBLIC_URL": "https://tend.clinic.example/"} }
		code, out, errOut := runEnv(t, db, vars(), "users", "add", "Ed@Clinic.example", "--role", "editor")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "https://tend.clinic.example/admin/welcome?token=")
		link := linkToken(t, out)
		code, _, _ = runEnv(t, db, vars(), "users", "add", "x@clinic.example", "--role", "boss")
		require.Equal(t, 2, code, "unknown role")
		code, _, _ = runEnv(t, db, vars(), "users", "add", "ed@clinic.example", "--role", "staff")
		require.Equal(t, 1, code, "taken")

		code, out, _ = runEnv(t, db, map[string]string{"TEND_ADDR": ":9090"}, "users", "add", "st@clinic.example", "--role=staff")
		require.Equal(t, 0, code)
		require.Contains(t, out, "http://localhost:9090/admin/welcome?token=")

		s := &accounts.Service{DB: db}
		_, err := s.Redeem(ctx, link, "a long editor passphrase", "")
		require.NoError(t, err)
		code, out, _ = runEnv(t, db, map[string]string{}, "users", "list")
		require.Equal(t, 0, code)
		require.Regexp(t, `ed@clinic.example\s+editor\s+active\s+off`, out)
		require.Regexp(t, `st@clinic.example\s+staff\s+invited`, out)

		code, _, _ = runEnv(t, db, map[string]string{}, "users", "disable", "ed@clinic.example")
		require.Equal(t, 0, code)
		_, _, err = s.SignIn(ctx, "ed@clinic.example", "a long editor passphrase", "", "127.0.0.1")
		require.ErrorIs(t, err, accounts.ErrBadCredentials)
		code, out, _ = runEnv(t, db, map[string]string{}, "users", "reset", "ed@clinic.example")
		require.Equal(t, 0, code)
		_, err = s.Redeem(ctx, linkToken(t, out), "another long passphrase", "")
		require.NoError(t, err)
		_, _, err = s.SignIn(ctx, "ed@clinic.example", "another long passphrase", "", "127.0.0.1")
		require.NoError(t, err)
		code, _, _ = runEnv(t, db, map[string]string{}, "users", "disable", "nobody@clinic.example")
		require.Equal(t, 1, code)

		code, out, errOut = runEnv(t, db, map[string]string{}, "tokens", "add", "nightly", "--role", "staff")
		require.Equal(t, 0, code, errOut)
		secret := strings.TrimSpace(out)
		require.True(t, strings.HasPrefix(secret, accounts.TokenPrefix))
		require.Contains(t, errOut, "shown only now")
		tok, err := s.LookupToken(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, accounts.Staff, tok.Role)
		code, _, _ = runEnv(t, db, map[string]string{}, "tokens", "revoke", "nightly")
		require.Equal(t, 0, code)
		_, err = s.LookupToken(ctx, secret)
		require.ErrorIs(t, err, accounts.ErrNotFound)
		code, out, _ = runEnv(t, db, map[string]string{}, "tokens", "list")
		require.Equal(t, 0, code)
		require.Regexp(t, `nightly\s+staff\s+revoked`, out)

		rows, err := audit.List(ctx, db.Q(), audit.Filter{})
		require.NoError(t, err)
		var actions []string
		for _, r := range rows {
			actions = append(actions, r.Action)
			require.NotContains(t, r.Subject+string(r.Detail), "clinic.example", "accounts are named by id")
		}
		require.Subset(t, actions, []string{"user.add", "user.disable", "user.reset", "token.add", "token.revoke"})
	})
}
