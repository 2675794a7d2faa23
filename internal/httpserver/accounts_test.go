package httpserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
)

// accountsTable is a fixed set of credentials for the seam's test (the real
// one is internal/accounts, tested with its own store there and end to end
// in channels/admin).
type accountsTable struct{}

func (accountsTable) Session(_ *http.Request, id string) (httpserver.Principal, bool, error) {
	switch id {
	case "sess-editor":
		return httpserver.Principal{Actor: audit.Actor{ID: "user:ed@clinic.example", Via: "session"}, Role: "editor", CSRF: "csrf-ed", Session: true}, true, nil
	}
	return httpserver.Principal{}, false, nil
}

func (accountsTable) Token(_ *http.Request, tok string) (httpserver.Principal, bool, error) {
	if tok == "tend_staff" {
		return httpserver.Principal{Actor: audit.Actor{ID: "token:nightly", Via: "bearer"}, Role: "staff"}, true, nil
	}
	return httpserver.Principal{}, false, nil
}

func (accountsTable) Allowed(role string, r *http.Request) bool {
	return role == "owner" || (role == "editor" && strings.Contains(r.Pattern, "/kb")) ||
		(role == "staff" && strings.Contains(r.Pattern, "/handoffs"))
}

// TestConsoleSessionsAndNamedTokens: with accounts installed, a console
// session and a named token are admitted to their role's routes only, a
// session's changes need its own CSRF token (header or form field) from
// this origin, and the actor reaches the handler; the admin token works
// as before, and without it no derived cookie can stand in for it.
func TestConsoleSessionsAndNamedTokens(t *testing.T) {
	t.Parallel()
	for _, withToken := range []bool{true, false} {
		s := newServer(t)
		token := ""
		if withToken {
			token = adminToken
			s.Secure(httpserver.Security{AdminToken: adminToken})
		}
		s.SetAccounts(accountsTable{})
		var seen []string
		h := func(w http.ResponseWriter, r *http.Request) {
			p, ok := httpserver.PrincipalFrom(r.Context())
			require.True(t, ok)
			seen = append(seen, p.Actor.ID+" "+p.Role)
			w.WriteHeader(http.StatusNoContent)
		}
		for _, pat := range []string{"GET /api/v1/kb/documents", "POST /api/v1/kb/ask", "GET /api/v1/handoffs", "GET /api/v1/audit"} {
			s.Handle(pat, httpserver.RequireAdmin(token, http.HandlerFunc(h)))
		}
		do := func(method, path string, hdr map[string]string, cookie, body string) int {
			r := httptest.NewRequest(method, "http://tend.example"+path, strings.NewReader(body))
			for k, v := range hdr {
				r.Header.Set(k, v)
			}
			if cookie != "" {
				r.AddCookie(&http.Cookie{Name: httpserver.SessionCookie, Value: cookie})
			}
			return serve(s, r).Code
		}
		same := map[string]string{"Origin": "http://tend.example"}
		withCSRF := map[string]string{"Origin": "http://tend.example", httpserver.CSRFHeader: "csrf-ed"}
		form := map[string]string{"Origin": "http://tend.example", "Content-Type": "application/x-www-form-urlencoded"}
		require.Equal(t, 204, do("GET", "/api/v1/kb/documents", nil, "sess-editor", ""))
		require.Equal(t, 403, do("GET", "/api/v1/handoffs", nil, "sess-editor", ""), "not the editor's")
		require.Equal(t, 403, do("GET", "/api/v1/audit", nil, "sess-editor", ""), "owners only")
		require.Equal(t, 401, do("GET", "/api/v1/kb/documents", nil, "sess-gone", ""))
		require.Equal(t, 403, do("POST", "/api/v1/kb/ask", same, "sess-editor", ""), "no CSRF token")
		require.Equal(t, 403, do("POST", "/api/v1/kb/ask", map[string]string{httpserver.CSRFHeader: "csrf-ed"}, "sess-editor", ""), "no origin")
		require.Equal(t, 403, do("POST", "/api/v1/kb/ask", map[string]string{"Origin": "https://evil.example", httpserver.CSRFHeader: "csrf-ed"}, "sess-editor", ""))
		require.Equal(t, 403, do("POST", "/api/v1/kb/ask", map[string]string{"Origin": "http://tend.example", httpserver.CSRFHeader: httpserver.CSRFToken(adminToken)}, "sess-editor", ""),
			"another credential's token")
		require.Equal(t, 204, do("POST", "/api/v1/kb/ask", withCSRF, "sess-editor", ""))
		require.Equal(t, 204, do("POST", "/api/v1/kb/ask", form, "sess-editor", url.Values{httpserver.CSRFField: {"csrf-ed"}}.Encode()))
		require.Equal(t, 403, do("POST", "/api/v1/kb/ask", form, "sess-editor", url.Values{httpserver.CSRFField: {"nope"}}.Encode()))

		require.Equal(t, 204, do("GET", "/api/v1/handoffs", map[string]string{"Authorization": "Bearer tend_staff"}, "", ""))
		require.Equal(t, 403, do("GET", "/api/v1/kb/documents", map[string]string{"Authorization": "Bearer tend_staff"}, "", ""))
		require.Equal(t, 401, do("GET", "/api/v1/handoffs", map[string]string{"Authorization": "Bearer tend_revoked"}, "", ""))

		adminCookie := func(v string) int {
			r := httptest.NewRequest("GET", "http://tend.example/api/v1/audit", nil)
			r.AddCookie(&http.Cookie{Name: httpserver.AdminCookie, Value: v})
			return serve(s, r).Code
		}
		if withToken {
			require.Equal(t, 204, do("GET", "/api/v1/audit", map[string]string{"Authorization": "Bearer " + adminToken}, "", ""))
			require.Equal(t, 204, adminCookie(httpserver.AdminBrowserKey(adminToken)))
			require.Equal(t, []string{"user:ed@clinic.example editor", "user:ed@clinic.example editor", "user:ed@clinic.example editor",
				"token:nightly staff", "admin-token owner", "admin-token owner"}, seen)
		} else {
			require.Equal(t, 401, do("GET", "/api/v1/audit", map[string]string{"Authorization": "Bearer " + adminToken}, "", ""))
			require.Equal(t, 401, adminCookie(httpserver.AdminBrowserKey("")), "no admin token: nothing derived from an empty one")
			require.Equal(t, 401, adminCookie(""))
		}
	}
}
