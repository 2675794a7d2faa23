package httpserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/audit"
)

// AdminCookie is the cookie a staff member's browser carries for the admin
// pages and API: the value POST /api/v1/admin/session sets (see
// AdminBrowserKey), or the admin token itself set by hand.
const AdminCookie = "tend_admin"

// CSRFHeader carries the CSRF token (CSRFToken) on every state-changing
// request authenticated by the admin cookie.
const CSRFHeader = "X-CSRF-Token"

// adminCookieAge is how long the browser keeps the admin cookie.
const adminCookieAge = 12 * time.Hour

// RequireAdmin guards staff and admin endpoints with a bearer token
// (TEND_ADMIN_TOKEN), and, once the console installs its Accounts
// (SetAccounts), console sessions and named API tokens within their role.
// With neither the endpoints do not exist (404), so a bare install exposes
// no patient data over HTTP.
//
// A request authenticated by the Authorization header needs nothing else:
// a browser never adds that header to a cross-site request on its own. A
// request authenticated by the AdminCookie is one a page on another site
// could make the browser send, so when it changes anything (any method but
// GET, HEAD and OPTIONS) it must also come from this server's own origin
// (Origin or Sec-Fetch-Site, checked by net/http's CrossOriginProtection,
// and at least one of the two present) and carry the CSRF token in
// X-CSRF-Token; otherwise 403.
//
// A request let through carries its actor in its context (audit.ActorFrom:
// "admin-token" today, via "bearer" or "cookie"; console accounts and
// named tokens will set their own) and is recorded by the server's Auditor
// before the handler runs (see SetAuditor).
func RequireAdmin(token string, next http.Handler) http.Handler {
	origin := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acc := accountsFrom(r.Context())
		if token == "" && acc == nil {
			http.NotFound(w, r)
			return
		}
		if got, ok := bearer(r); ok && token != "" && equal(got, token) {
			admitAs(w, r, Principal{Actor: audit.Actor{ID: audit.ActorAdminToken, Via: "bearer"}, Role: "owner"}, next)
			return
		}
		// Console sessions and named tokens (internal/accounts), when the
		// console is installed; the admin token's own checks below as before.
		if viaAccount(w, r, acc, next) {
			return
		}
		if token == "" {
			unauthorized(w)
			return
		}
		if got, ok := bearer(r); ok {
			if !equal(got, token) {
				refuse(r, "token")
				unauthorized(w)
				return
			}
			admit(w, r, audit.Actor{ID: audit.ActorAdminToken, Via: "bearer"}, next)
			return
		}
		c, err := r.Cookie(AdminCookie)
		if err != nil || !(equal(c.Value, AdminBrowserKey(token)) || equal(c.Value, token)) {
			if err == nil {
				refuse(r, "token")
			}
			unauthorized(w)
			return
		}
		if !safeMethod(r.Method) {
			if r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") == "" {
				refuse(r, "origin")
				WriteError(w, http.StatusForbidden, "cookie-authenticated changes must come from a browser page of this server; use the Authorization header")
				return
			}
			if err := origin.Check(r); err != nil {
				refuse(r, "origin")
				WriteError(w, http.StatusForbidden, "cross-site request refused")
				return
			}
			if !equal(r.Header.Get(CSRFHeader), CSRFToken(token)) {
				refuse(r, "csrf")
				WriteError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader)
				return
			}
		}
		admitAs(w, r, Principal{Actor: audit.Actor{ID: audit.ActorAdminToken, Via: "cookie"}, Role: "owner", CSRF: CSRFToken(token)}, next)
	})
}

// CSRFToken is the token a cookie-authenticated change must carry in
// X-CSRF-Token. It is derived from the admin token with HMAC, so it needs no
// storage, is the same on every replica and changes when the admin token
// does; a page on another site can neither read it nor compute it.
func CSRFToken(adminToken string) string { return derive(adminToken, "tend admin csrf v1") }

// AdminBrowserKey is the value of the admin cookie that
// POST /api/v1/admin/session sets: derived from the admin token, so the
// token itself is not kept in the browser.
func AdminBrowserKey(adminToken string) string { return derive(adminToken, "tend admin cookie v1") }

func derive(key, purpose string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(purpose))
	return hex.EncodeToString(m.Sum(nil))
}

// adminRoutes lets a browser sign in to the admin pages: POST with the
// bearer token sets the cookie and returns the CSRF token; GET returns the
// CSRF token to a page already signed in; DELETE signs out.
func (s *Server) adminRoutes(token string) {
	s.mux.HandleFunc("POST /api/v1/admin/session", func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r)
		if !ok || !equal(got, token) {
			if ok {
				refuse(r, "token")
			}
			unauthorized(w)
			return
		}
		signedIn := false
		admit(w, r, audit.Actor{ID: audit.ActorAdminToken, Via: "bearer"}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			signedIn = true
		}))
		if !signedIn {
			return // the sign-in could not be recorded: no cookie
		}
		http.SetCookie(w, &http.Cookie{Name: AdminCookie, Value: AdminBrowserKey(token), Path: "/",
			MaxAge: int(adminCookieAge.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.overTLS(r)})
		WriteJSON(w, http.StatusOK, map[string]string{"csrf_token": CSRFToken(token)})
	})
	s.mux.Handle("GET /api/v1/admin/session", RequireAdmin(token, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"csrf_token": CSRFToken(token)})
	})))
	s.mux.Handle("DELETE /api/v1/admin/session", RequireAdmin(token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: AdminCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.overTLS(r)})
		w.WriteHeader(http.StatusNoContent)
	})))
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return "", false
	}
	return strings.TrimSpace(h[7:]), true
}

// Bearer returns the request's bearer token, if it has one.
func Bearer(r *http.Request) (string, bool) { return bearer(r) }

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="tend"`)
	WriteError(w, http.StatusUnauthorized, "admin token required")
}
