package httpserver

import (
	"context"
	"mime"
	"net/http"

	"github.com/tend-health/tend/internal/audit"
)

// SessionCookie carries a console session's id (internal/accounts): set at
// sign-in, HttpOnly, SameSite=Strict, Secure over TLS, path /.
const SessionCookie = "tend_session"

// CSRFField is the form field a console form carries its session's CSRF
// token in (a script sends the X-CSRF-Token header instead).
const CSRFField = "csrf_token"

// maxFormBody bounds a cookie-authenticated form read for its CSRF token
// (a knowledge-base upload is the largest).
const maxFormBody = 32 << 20

// Principal is who an authenticated admin request is: the actor the audit
// trail names, their role ("owner", "editor", "staff"; the admin token is
// an owner), and the CSRF token a cookie-authenticated page must put in its
// forms ("" for a bearer token, which needs none).
type Principal struct {
	Actor audit.Actor
	Role  string
	CSRF  string
	// Session: signed in with a console session (it can sign out).
	Session bool
}

// Accounts authenticates console sessions and named API tokens and says
// which routes a role may use; the console module installs one
// (SetAccounts). Session and Token return ok false for an unknown, ended
// or revoked credential; an error means the answer could not be found
// (the request is answered 503).
type Accounts interface {
	Session(r *http.Request, id string) (p Principal, ok bool, err error)
	Token(r *http.Request, token string) (p Principal, ok bool, err error)
	// Allowed reports whether role may use the route r matched (r.Pattern).
	Allowed(role string, r *http.Request) bool
}

// SetAccounts makes RequireAdmin accept console sessions and named API
// tokens besides TEND_ADMIN_TOKEN, each limited to its role's routes.
func (s *Server) SetAccounts(a Accounts) {
	if a == nil {
		s.accounts.Store(nil)
		return
	}
	s.accounts.Store(&a)
}

type accountsKey struct{}
type principalKey struct{}

func accountsFrom(ctx context.Context) Accounts {
	a, _ := ctx.Value(accountsKey{}).(Accounts)
	return a
}

// PrincipalFrom is who the request was admitted as (RequireAdmin).
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// admitAs puts the principal in the request's context and admits it.
func admitAs(w http.ResponseWriter, r *http.Request, p Principal, next http.Handler) {
	admit(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), p.Actor, next)
}

// viaAccount authenticates a request by a named token (bearer) or a
// console session (cookie) when accounts are installed; handled is false
// when the request carries neither, for the admin token's checks.
func viaAccount(w http.ResponseWriter, r *http.Request, acc Accounts, next http.Handler) (handled bool) {
	if acc == nil {
		return false
	}
	if got, ok := bearer(r); ok {
		p, found, err := acc.Token(r, got)
		return finishAccount(w, r, acc, p, found, err, "token", next)
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return false
	}
	p, found, err := acc.Session(r, c.Value)
	if err == nil && found && !safeMethod(r.Method) && !sameOriginCSRF(w, r, p.CSRF) {
		return true
	}
	return finishAccount(w, r, acc, p, found, err, "session", next)
}

func finishAccount(w http.ResponseWriter, r *http.Request, acc Accounts, p Principal, found bool, err error, what string, next http.Handler) bool {
	switch {
	case err != nil:
		WriteError(w, http.StatusServiceUnavailable, "accounts unavailable; try again")
	case !found:
		refuse(r, what)
		unauthorized(w)
	case !acc.Allowed(p.Role, r):
		r = r.WithContext(audit.WithActor(r.Context(), p.Actor))
		refuse(r, "role")
		WriteError(w, http.StatusForbidden, "your role ("+p.Role+") may not use this page")
	default:
		admitAs(w, r, p, next)
	}
	return true
}

// sameOriginCSRF checks a cookie-authenticated change: it must come from a
// page of this server and carry the session's CSRF token, in X-CSRF-Token
// or (a form) in the csrf_token field. It answers 403 itself when not.
func sameOriginCSRF(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") == "" {
		refuse(r, "origin")
		WriteError(w, http.StatusForbidden, "cookie-authenticated changes must come from a browser page of this server; use the Authorization header")
		return false
	}
	if err := http.NewCrossOriginProtection().Check(r); err != nil {
		refuse(r, "origin")
		WriteError(w, http.StatusForbidden, "cross-site request refused")
		return false
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			if mt == "multipart/form-data" {
				_ = r.ParseMultipartForm(8 << 20)
			} else {
				_ = r.ParseForm()
			}
			got = r.PostFormValue(CSRFField)
		}
	}
	if want == "" || !equal(got, want) {
		refuse(r, "csrf")
		WriteError(w, http.StatusForbidden, "missing or wrong CSRF token; reload the page")
		return false
	}
	return true
}

// OverTLS reports whether the browser reached the server over TLS
// (directly, through a trusted proxy, or as an https TEND_PUBLIC_URL): a
// cookie set for it is Secure.
func (s *Server) OverTLS(r *http.Request) bool { return s.overTLS(r) }
