package httpserver

import (
	"context"
	"net/http"

	"github.com/tend-health/tend/internal/audit"
)

// Auditor writes the audit trail of the admin API (internal/audit).
// RequireAdmin calls it for every request it lets through, once the actor
// is in the request's context (audit.ActorFrom) and before the handler
// runs, with refusal ""; if it fails the request is answered 503 and the
// handler does not run, so nothing is read or changed without its row. For
// a request it refuses because of a wrong token or a missing CSRF token it
// calls it with the reason ("token", "origin", "csrf"); that error is
// ignored (the request was refused anyway). The sign-in endpoint does the
// same.
type Auditor func(r *http.Request, refusal string) error

// SetAuditor makes every admin request recorded by a (the privacy module
// installs it). Without one nothing is recorded.
func (s *Server) SetAuditor(a Auditor) {
	if a == nil {
		s.auditor.Store(nil)
		return
	}
	s.auditor.Store(&a)
}

type auditorKey struct{}

// withAuditor lets RequireAdmin, a function with no server at hand, find
// the server's Auditor in the request's context.
func (s *Server) withAuditor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := s.auditor.Load(); a != nil {
			r = r.WithContext(context.WithValue(r.Context(), auditorKey{}, *a))
		}
		if a := s.accounts.Load(); a != nil {
			r = r.WithContext(context.WithValue(r.Context(), accountsKey{}, *a))
		}
		next.ServeHTTP(w, r)
	})
}

func auditorFrom(ctx context.Context) Auditor {
	a, _ := ctx.Value(auditorKey{}).(Auditor)
	return a
}

// admit names the actor in the request's context (the seam where console
// accounts and named tokens will put theirs), records the request and
// runs next; 503 when the audit trail cannot be written.
func admit(w http.ResponseWriter, r *http.Request, actor audit.Actor, next http.Handler) {
	r = r.WithContext(audit.WithActor(r.Context(), actor))
	if a := auditorFrom(r.Context()); a != nil {
		if err := a(r, ""); err != nil {
			WriteError(w, http.StatusServiceUnavailable, "the audit trail could not be written; nothing was done")
			return
		}
	}
	if next != nil {
		next.ServeHTTP(w, r)
	}
}

// refuse records a refused admin request, if an Auditor is set.
func refuse(r *http.Request, reason string) {
	if a := auditorFrom(r.Context()); a != nil {
		_ = a(r, reason)
	}
}
