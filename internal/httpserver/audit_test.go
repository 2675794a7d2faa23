package httpserver_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
)

// auditCall is what the Auditor was told.
type auditCall struct {
	pattern, refusal string
	actor            audit.Actor
	hasActor         bool
}

type auditLog struct {
	mu    sync.Mutex
	calls []auditCall
	fail  error
}

func (l *auditLog) auditor(r *http.Request, refusal string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := audit.ActorFrom(r.Context())
	l.calls = append(l.calls, auditCall{pattern: r.Pattern, refusal: refusal, actor: a, hasActor: ok})
	if refusal == "" {
		return l.fail
	}
	return nil
}

func (l *auditLog) take() []auditCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// Every request RequireAdmin lets through is handed to the Auditor before
// its handler runs, with the actor in the context (the shared token:
// "admin-token", by bearer or cookie); a refused one is handed over with
// the reason; when the audit trail cannot be written the handler does not
// run and the answer is 503. Sign-ins are recorded the same way.
func TestAdminRequestsGoThroughTheAuditor(t *testing.T) {
	t.Parallel()
	const token = "admin-token-0123456789"
	s := newServer(t)
	s.Secure(httpserver.Security{AdminToken: token})
	log := &auditLog{}
	s.SetAuditor(log.auditor)
	ran := 0
	var seen audit.Actor
	s.Handle("POST /api/v1/patients/{id}/thing", httpserver.RequireAdmin(token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		seen, _ = audit.ActorFrom(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})))
	do := func(r *http.Request) int {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		return rec.Code
	}
	req := func(auth, cookie string, csrf bool) *http.Request {
		r := httptest.NewRequest("POST", "/api/v1/patients/12/thing", nil)
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: httpserver.AdminCookie, Value: cookie})
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		if csrf {
			r.Header.Set(httpserver.CSRFHeader, httpserver.CSRFToken(token))
		}
		return r
	}

	require.Equal(t, http.StatusNoContent, do(req(token, "", false)))
	require.Equal(t, 1, ran)
	require.Equal(t, audit.Actor{ID: audit.ActorAdminToken, Via: "bearer"}, seen, "the handler sees the actor")
	require.Equal(t, []auditCall{{pattern: "POST /api/v1/patients/{id}/thing", actor: seen, hasActor: true}}, log.take())

	require.Equal(t, http.StatusNoContent, do(req("", httpserver.AdminBrowserKey(token), true)))
	calls := log.take()
	require.Len(t, calls, 1)
	require.Equal(t, audit.Actor{ID: audit.ActorAdminToken, Via: "cookie"}, calls[0].actor)

	// Refusals: a wrong token, a cookie change without its CSRF token; a
	// request with no credentials at all is not worth a row.
	require.Equal(t, http.StatusUnauthorized, do(req("wrong-token-0123456789", "", false)))
	require.Equal(t, http.StatusForbidden, do(req("", httpserver.AdminBrowserKey(token), false)))
	require.Equal(t, http.StatusUnauthorized, do(req("", "", false)))
	calls = log.take()
	require.Len(t, calls, 2)
	require.Equal(t, "token", calls[0].refusal)
	require.Equal(t, "csrf", calls[1].refusal)
	require.Equal(t, 2, ran, "refused requests never reach the handler")

	// The audit trail cannot be written: nothing is done.
	log.fail = errors.New("database away")
	require.Equal(t, http.StatusServiceUnavailable, do(req(token, "", false)))
	require.Equal(t, 2, ran)
	log.take()

	// Sign-in: recorded before the cookie is set; not set if it cannot be.
	signIn := func(tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/v1/admin/session", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		return rec
	}
	rec := signIn(token)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Empty(t, rec.Result().Cookies())
	log.fail = nil
	log.take()
	rec = signIn(token)
	require.Equal(t, http.StatusOK, rec.Code)
	require.NotEmpty(t, rec.Result().Cookies())
	calls = log.take()
	require.Len(t, calls, 1)
	require.Equal(t, "POST /api/v1/admin/session", calls[0].pattern)
	require.Equal(t, "bearer", calls[0].actor.Via)
	require.Equal(t, http.StatusUnauthorized, signIn("not-the-token-0123456789").Code)
	calls = log.take()
	require.Len(t, calls, 1)
	require.Equal(t, "token", calls[0].refusal)
	require.False(t, calls[0].hasActor)
}

// Without an Auditor (tests of single modules, RequireAdmin used outside a
// Server) requests are served as before.
func TestNoAuditorNoChange(t *testing.T) {
	t.Parallel()
	const token = "admin-token-0123456789"
	h := httpserver.RequireAdmin(token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := audit.ActorFrom(r.Context())
		require.True(t, ok)
		require.Equal(t, audit.ActorAdminToken, a.ID)
		w.WriteHeader(http.StatusNoContent)
	}))
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	require.Equal(t, http.StatusNoContent, rec.Code)
}
