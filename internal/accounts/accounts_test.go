package accounts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

const goodPassword = "correct horse battery staple"

func newService(t *testing.T, db *store.DB) (*accounts.Service, *clock.Fake) {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	return &accounts.Service{DB: db, Clock: c}, c
}

// enroll adds an account and follows its link, with a code when the role
// needs one; it returns the TOTP secret ("" without codes).
func enroll(t *testing.T, s *accounts.Service, c *clock.Fake, email string, role accounts.Role) string {
	t.Helper()
	ctx := context.Background()
	_, link, err := s.Add(ctx, email, role)
	require.NoError(t, err)
	inv, err := s.OpenLink(ctx, link)
	require.NoError(t, err)
	code := ""
	if role.NeedsTOTP() {
		code = accounts.Code(inv.TOTPSecret, c.Now())
	}
	u, err := s.Redeem(ctx, link, goodPassword, code)
	require.NoError(t, err)
	require.True(t, u.PasswordSet)
	if code == "" {
		return ""
	}
	require.True(t, u.TOTP)
	return inv.TOTPSecret
}

// allText is everything the database holds as text, in one string.
func allText(t *testing.T, db *store.DB) string {
	var b strings.Builder
	for _, vs := range storetest.StoredText(t, db) {
		for _, v := range vs {
			b.WriteString(v + "\n")
		}
	}
	return b.String()
}

func TestPasswordRules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pw string
		ok bool
	}{
		{"short1!", false},
		{"passwordpassword", false}, // a common one, repeated
		{"qwertyqwerty", false},
		{"aaaaaaaaaaaa", false},
		{"Sunshine2024!!", false}, // a common one with digits and symbols
		{"1234567890123", false},
		{"iloveyou12345", false},
		{goodPassword, true},
		{"Maple Grove front desk 7", true},
		{strings.Repeat("x", 300), false},
	} {
		err := accounts.CheckPassword(c.pw)
		require.Equal(t, c.ok, err == nil, "%q: %v", c.pw, err)
	}
	h := accounts.HashPassword(goodPassword)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	require.NotEqual(t, h, accounts.HashPassword(goodPassword), "salted")
	require.True(t, accounts.VerifyPassword(h, goodPassword))
	require.False(t, accounts.VerifyPassword(h, goodPassword+" "))
	require.False(t, accounts.VerifyPassword(strings.Replace(h, "t=2", "t=3", 1), goodPassword), "parameters are part of the hash")
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA"} {
		require.False(t, accounts.VerifyPassword(bad, goodPassword), bad)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	require.True(t, accounts.Owner.May(accounts.AreaOwner))
	require.True(t, accounts.Editor.May(accounts.AreaKB))
	require.False(t, accounts.Editor.May(accounts.AreaInbox))
	require.False(t, accounts.Editor.May(accounts.AreaPatients))
	require.True(t, accounts.Staff.May(accounts.AreaInbox))
	require.False(t, accounts.Staff.May(accounts.AreaKB))
	require.False(t, accounts.Staff.May(accounts.AreaOwner))
	require.True(t, accounts.Owner.NeedsTOTP())
	require.True(t, accounts.Staff.NeedsTOTP())
	require.False(t, accounts.Editor.NeedsTOTP())
	_, err := accounts.ParseRole("admin")
	require.Error(t, err)
}

// TestLinkAndSignIn: a new account signs in only after its link, with the
// one-time code; a link works once; a code works once.
func TestLinkAndSignIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := newService(t, db)
		u, link, err := s.Add(ctx, " Anna@Clinic.example ", accounts.Staff)
		require.NoError(t, err)
		require.Equal(t, "anna@clinic.example", u.Email)
		require.False(t, u.PasswordSet)
		_, _, err = s.Add(ctx, "anna@clinic.example", accounts.Editor)
		require.ErrorIs(t, err, accounts.ErrExists)
		_, _, err = s.Add(ctx, "not an address", accounts.Editor)
		require.Error(t, err)

		_, _, err = s.SignIn(ctx, "anna@clinic.example", goodPassword, "", "10.0.0.1")
		require.ErrorIs(t, err, accounts.ErrBadCredentials, "no password yet")

		inv, err := s.OpenLink(ctx, link)
		require.NoError(t, err)
		require.True(t, inv.TOTPRequired)
		require.Contains(t, inv.TOTPURI, "otpauth://totp/")
		require.Contains(t, inv.TOTPURI, "secret="+inv.TOTPSecret)
		_, err = s.Redeem(ctx, link, "password1234", accounts.Code(inv.TOTPSecret, c.Now()))
		require.ErrorIs(t, err, accounts.ErrWeakPassword)
		_, err = s.Redeem(ctx, link, goodPassword, "")
		require.ErrorIs(t, err, accounts.ErrBadCode, "staff need the code")
		_, err = s.Redeem(ctx, link, goodPassword, accounts.Code(inv.TOTPSecret, c.Now()))
		require.NoError(t, err)
		_, err = s.Redeem(ctx, link, goodPassword, accounts.Code(inv.TOTPSecret, c.Now()))
		require.ErrorIs(t, err, accounts.ErrLinkInvalid, "single use")

		c.Advance(31 * time.Second)
		_, _, err = s.SignIn(ctx, "anna@clinic.example", goodPassword, "", "10.0.0.1")
		require.ErrorIs(t, err, accounts.ErrBadCredentials, "the code is required")
		_, _, err = s.SignIn(ctx, "anna@clinic.example", "wrong password!!", accounts.Code(inv.TOTPSecret, c.Now()), "10.0.0.1")
		require.ErrorIs(t, err, accounts.ErrBadCredentials)
		code := accounts.Code(inv.TOTPSecret, c.Now())
		sess, id, err := s.SignIn(ctx, "ANNA@clinic.example", goodPassword, code, "10.0.0.1")
		require.NoError(t, err)
		require.Equal(t, accounts.Staff, sess.User.Role)
		require.NotEmpty(t, sess.CSRF)
		require.NotEqual(t, id, sess.CSRF)
		_, _, err = s.SignIn(ctx, "anna@clinic.example", goodPassword, code, "10.0.0.1")
		require.ErrorIs(t, err, accounts.ErrBadCredentials, "a code signs in once")

		got, err := s.Session(ctx, id, true)
		require.NoError(t, err)
		require.Equal(t, sess.CSRF, got.CSRF)
		require.Equal(t, "anna@clinic.example", got.User.Email)
		_, err = s.Session(ctx, id+"x", true)
		require.ErrorIs(t, err, accounts.ErrNoSession)

		// The database holds no secret as given.
		stored := allText(t, db)
		for _, secret := range []string{id, link, goodPassword} {
			require.NotContains(t, stored, secret)
		}
		if db.Keyring() != nil {
			require.NotContains(t, stored, inv.TOTPSecret, "sealed")
		}
	})
}

func TestEditorsMayGoWithoutCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := newService(t, db)
		require.Empty(t, enroll(t, s, c, "ed@clinic.example", accounts.Editor))
		_, _, err := s.SignIn(ctx, "ed@clinic.example", goodPassword, "", "10.0.0.2")
		require.NoError(t, err)

		// An editor who turns codes on needs them from then on.
		_, link, err := s.Add(ctx, "ed2@clinic.example", accounts.Editor)
		require.NoError(t, err)
		inv, err := s.OpenLink(ctx, link)
		require.NoError(t, err)
		require.False(t, inv.TOTPRequired)
		u, err := s.Redeem(ctx, link, goodPassword, accounts.Code(inv.TOTPSecret, c.Now()))
		require.NoError(t, err)
		require.True(t, u.TOTP)
		c.Advance(time.Minute)
		_, _, err = s.SignIn(ctx, "ed2@clinic.example", goodPassword, "", "10.0.0.2")
		require.ErrorIs(t, err, accounts.ErrBadCredentials)
		_, _, err = s.SignIn(ctx, "ed2@clinic.example", goodPassword, accounts.Code(inv.TOTPSecret, c.Now()), "10.0.0.2")
		require.NoError(t, err)
	})
}

// TestSessionEnds: idle, lifetime, sign-out, disabling, reset; a
// background refresh does not count as activity.
func TestSessionEnds(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := newService(t, db)
		s.Idle, s.Lifetime = 15*time.Minute, time.Hour
		enroll(t, s, c, "ed@clinic.example", accounts.Editor)
		signIn := func() string {
			_, id, err := s.SignIn(ctx, "ed@clinic.example", goodPassword, "", "10.0.0.3")
			require.NoError(t, err)
			return id
		}
		id := signIn()
		for i := 0; i < 3; i++ { // active for 42 minutes
			c.Advance(14 * time.Minute)
			_, err := s.Session(ctx, id, true)
			require.NoError(t, err)
		}
		c.Advance(10 * time.Minute)
		_, err := s.Session(ctx, id, false) // a page's refresh
		require.NoError(t, err)
		c.Advance(6 * time.Minute)
		_, err = s.Session(ctx, id, true)
		require.ErrorIs(t, err, accounts.ErrNoSession, "15 minutes without a click")
		_, err = s.Session(ctx, id, true)
		require.ErrorIs(t, err, accounts.ErrNoSession, "ended for good")

		id = signIn()
		for i := 0; i < 5; i++ {
			c.Advance(14 * time.Minute)
			_, err = s.Session(ctx, id, true)
			if i < 4 {
				require.NoError(t, err)
			}
		}
		require.ErrorIs(t, err, accounts.ErrNoSession, "an hour after sign-in, however active")

		id = signIn()
		require.NoError(t, s.End(ctx, id))
		_, err = s.Session(ctx, id, true)
		require.ErrorIs(t, err, accounts.ErrNoSession)

		id = signIn()
		require.NoError(t, s.Disable(ctx, "ed@clinic.example"))
		_, err = s.Session(ctx, id, true)
		require.ErrorIs(t, err, accounts.ErrNoSession)
		_, _, err = s.SignIn(ctx, "ed@clinic.example", goodPassword, "", "10.0.0.3")
		require.ErrorIs(t, err, accounts.ErrBadCredentials, "disabled")

		u, link, err := s.Reset(ctx, "ed@clinic.example")
		require.NoError(t, err)
		require.Nil(t, u.Disabled)
		require.False(t, u.PasswordSet)
		_, err = s.Redeem(ctx, link, "a brand new passphrase", "")
		require.NoError(t, err)
		_, _, err = s.SignIn(ctx, "ed@clinic.example", "a brand new passphrase", "", "10.0.0.3")
		require.NoError(t, err)

		c.Advance(25 * time.Hour)
		_, link, err = s.Reset(ctx, "ed@clinic.example")
		require.NoError(t, err)
		c.Advance(accounts.LinkLifetime)
		_, err = s.OpenLink(ctx, link)
		require.ErrorIs(t, err, accounts.ErrLinkInvalid, "24 hours")
		require.NoError(t, s.Prune(ctx))
	})
}

// TestThrottle: five failures lock an account for the window, even with
// the right password afterwards; twenty from one address lock the address
// for every account, not other addresses.
func TestThrottle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := newService(t, db)
		s.Limits = accounts.Limits{PerAccount: 3, PerAddress: 5, Window: 15 * time.Minute}
		enroll(t, s, c, "ed@clinic.example", accounts.Editor)
		for i := 0; i < 3; i++ {
			_, _, err := s.SignIn(ctx, "ed@clinic.example", "wrong password "+string(rune('a'+i)), "", "10.0.0.4")
			require.ErrorIs(t, err, accounts.ErrBadCredentials)
		}
		_, _, err := s.SignIn(ctx, "ed@clinic.example", goodPassword, "", "10.0.0.9")
		require.ErrorIs(t, err, accounts.ErrThrottled, "the account, from any address")
		c.Advance(16 * time.Minute)
		_, _, err = s.SignIn(ctx, "ed@clinic.example", goodPassword, "", "10.0.0.9")
		require.NoError(t, err)

		for i := 0; i < 5; i++ {
			_, _, err := s.SignIn(ctx, "nobody"+string(rune('a'+i))+"@clinic.example", goodPassword, "", "10.0.0.5")
			require.ErrorIs(t, err, accounts.ErrBadCredentials)
		}
		_, _, err = s.SignIn(ctx, "ed@clinic.example", goodPassword, "", "10.0.0.5")
		require.ErrorIs(t, err, accounts.ErrThrottled, "the address, for every account")
		_, _, err = s.SignIn(ctx, "ed@clinic.example", goodPassword, "", "10.0.0.6")
		require.NoError(t, err, "another address")
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := newService(t, db)
		tok, secret, err := s.AddToken(ctx, "Nightly-Export", accounts.Staff, "cli:root")
		require.NoError(t, err)
		require.Equal(t, "nightly-export", tok.Name)
		require.True(t, strings.HasPrefix(secret, accounts.TokenPrefix))
		_, _, err = s.AddToken(ctx, "nightly-export", accounts.Owner, "cli:root")
		require.ErrorIs(t, err, accounts.ErrExists)
		_, _, err = s.AddToken(ctx, "bad name", accounts.Owner, "cli:root")
		require.Error(t, err)

		got, err := s.LookupToken(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, accounts.Staff, got.Role)
		require.NotNil(t, got.LastUsed)
		_, err = s.LookupToken(ctx, secret+"x")
		require.ErrorIs(t, err, accounts.ErrNotFound)
		_, err = s.LookupToken(ctx, strings.TrimPrefix(secret, accounts.TokenPrefix))
		require.ErrorIs(t, err, accounts.ErrNotFound)
		require.NotContains(t, allText(t, db), secret)

		c.Advance(time.Hour)
		require.NoError(t, s.RevokeToken(ctx, "nightly-export"))
		_, err = s.LookupToken(ctx, secret)
		require.ErrorIs(t, err, accounts.ErrNotFound, "revoked")
		require.ErrorIs(t, s.RevokeToken(ctx, "nightly-export"), accounts.ErrNotFound)
		list, err := s.Tokens(ctx)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.NotNil(t, list[0].Revoked)
	})
}
