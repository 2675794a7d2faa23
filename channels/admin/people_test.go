package admin_test

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

// TestPeopleThroughTheAPI: an owner's token adds a person (the link
// works), resets them (the old link stops, the new one works), disables
// them; issues a token (shown once, it works with its role) and revokes
// it (refused at once); others may not; the audit trail names accounts by
// id and tokens by name, never an address.
func TestPeopleThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		owner := e.token(t, "owner-bot", accounts.Owner)
		ed := e.token(t, "kb-bot", accounts.Editor)
		ctx := context.Background()

		var added struct {
			User accounts.User
			Link string
		}
		require.Equal(t, 403, e.call(t, "POST", "/api/v1/users", ed, []byte(`{"email":"x@clinic.example","role":"editor"}`), jsonHdr, nil))
		require.Equal(t, 201, e.call(t, "POST", "/api/v1/users", owner, []byte(`{"email":"Bo.Diaz@Clinic.example","role":"staff"}`), jsonHdr, &added))
		require.Equal(t, "bo.diaz@clinic.example", added.User.Email)
		u, err := url.Parse(added.Link)
		require.NoError(t, err)
		require.Equal(t, "/admin/welcome", u.Path)
		require.Equal(t, strings.TrimPrefix(e.srv.URL, "http://"), u.Host, "the request's host without TEND_PUBLIC_URL")
		first := u.Query().Get("token")
		_, err = e.acc.OpenLink(ctx, first)
		require.NoError(t, err)
		code, msg := e.callErr(t, "POST", "/api/v1/users", owner, []byte(`{"email":"bo.diaz@clinic.example","role":"staff"}`))
		require.Equal(t, 400, code)
		require.Contains(t, msg, "already an account")
		code, _ = e.callErr(t, "POST", "/api/v1/users", owner, []byte(`{"email":"x@clinic.example","role":"boss"}`))
		require.Equal(t, 400, code)

		id := itoa(added.User.ID)
		var reset struct{ Link string }
		require.Equal(t, 200, e.call(t, "POST", "/api/v1/users/"+id+"/reset", owner, nil, nil, &reset))
		_, err = e.acc.OpenLink(ctx, first)
		require.ErrorIs(t, err, accounts.ErrLinkInvalid, "the old link stops")
		nu, err := url.Parse(reset.Link)
		require.NoError(t, err)
		_, err = e.acc.OpenLink(ctx, nu.Query().Get("token"))
		require.NoError(t, err)
		require.Equal(t, 200, e.call(t, "POST", "/api/v1/users/"+id+"/disable", owner, nil, nil, nil))
		require.Equal(t, 404, e.call(t, "POST", "/api/v1/users/999999/disable", owner, nil, nil, nil))
		var users []accounts.User
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/users", owner, nil, nil, &users))
		require.Len(t, users, 1)
		require.NotNil(t, users[0].Disabled)

		var issued struct {
			Token  accounts.Token
			Secret string
		}
		require.Equal(t, 201, e.call(t, "POST", "/api/v1/tokens", owner, []byte(`{"name":"nightly-export","role":"editor"}`), jsonHdr, &issued))
		require.True(t, strings.HasPrefix(issued.Secret, accounts.TokenPrefix))
		require.Equal(t, "owner-bot", strings.TrimPrefix(issued.Token.CreatedBy, "token:"))
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/kb/documents", issued.Secret, nil, nil, nil))
		require.Equal(t, 403, e.call(t, "GET", "/api/v1/tokens", issued.Secret, nil, nil, nil), "an editor's token")
		code, _ = e.callErr(t, "POST", "/api/v1/tokens", owner, []byte(`{"name":"nightly-export","role":"editor"}`))
		require.Equal(t, 400, code, "the name is taken")
		require.Equal(t, 204, e.call(t, "DELETE", "/api/v1/tokens/nightly-export", owner, nil, nil, nil))
		require.Equal(t, 401, e.call(t, "GET", "/api/v1/kb/documents", issued.Secret, nil, nil, nil), "revoked at once")
		var tokens []accounts.Token
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/tokens", owner, nil, nil, &tokens))
		require.Len(t, tokens, 3)

		rows, err := audit.List(ctx, db.Q(), audit.Filter{})
		require.NoError(t, err)
		var seen []string
		for _, r := range rows {
			require.NotContains(t, r.Subject+string(r.Detail), "diaz", "no address in the audit trail")
			if strings.HasPrefix(r.Action, "user.") || strings.HasPrefix(r.Action, "token.") {
				seen = append(seen, r.Action+" "+r.Subject+" "+r.Actor)
			}
		}
		require.Contains(t, seen, "user.add user:"+id+" token:owner-bot")
		require.Contains(t, seen, "user.reset user:"+id+" token:owner-bot")
		require.Contains(t, seen, "user.disable user:"+id+" token:owner-bot")
		require.Contains(t, seen, "token.add token:nightly-export token:owner-bot")
		require.Contains(t, seen, "token.revoke token:nightly-export token:owner-bot")
	})
}
