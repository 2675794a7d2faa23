package admin

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
)

// The sign-in pages need no session; their forms are protected from other
// sites by the browser's Origin (net/http's cross-origin protection), and
// sign-out by the session's CSRF token.
var crossOrigin = http.NewCrossOriginProtection()

type loginData struct {
	Email, Next, Error, Notice string
}

func (m *Module) loginPage(w http.ResponseWriter, r *http.Request) {
	d := loginData{Next: safeNext(r.URL.Query().Get("next"))}
	switch {
	case r.URL.Query().Get("ended") != "":
		d.Notice = "Your session ended (signed out after " + m.idle().String() + " without activity, or signed out elsewhere). Please sign in again."
	case r.URL.Query().Get("out") != "":
		d.Notice = "You are signed out."
	case r.URL.Query().Get("welcome") != "":
		d.Notice = "Your password is set. Sign in with it" + map[bool]string{true: " and a code from your app.", false: "."}[r.URL.Query().Get("welcome") == "totp"]
	}
	m.render(w, r, "login", page{Title: "Sign in", Data: d})
}

func (m *Module) login(w http.ResponseWriter, r *http.Request) {
	if err := crossOrigin.Check(r); err != nil {
		httpserver.WriteError(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, "unreadable form")
		return
	}
	email, next := strings.TrimSpace(r.PostFormValue("email")), safeNext(r.PostFormValue("next"))
	sess, id, err := m.acc.SignIn(r.Context(), email, r.PostFormValue("password"), r.PostFormValue("code"), m.h.HTTP.ClientIP(r))
	if err != nil {
		d := loginData{Email: email, Next: next, Error: "Wrong e-mail, password or code."}
		status := http.StatusUnauthorized
		if errors.Is(err, accounts.ErrThrottled) {
			d.Error = "Too many failed sign-ins. Wait " + m.acc.RetryAfter().String() + " and try again."
			status = http.StatusTooManyRequests
		} else if !errors.Is(err, accounts.ErrBadCredentials) {
			m.log.ErrorContext(r.Context(), "console: sign-in failed", "error", err)
			d.Error, status = "Signing in is not possible right now; try again in a moment.", http.StatusServiceUnavailable
		}
		m.record(r, audit.ActorAnonymous, "console.sign_in_refused", map[string]any{"reason": reasonOf(err)})
		w.WriteHeader(status)
		m.render(w, r, "login", page{Title: "Sign in", Data: d})
		return
	}
	m.record(r, "user:"+sess.User.Email, "console.sign_in", map[string]any{"role": string(sess.User.Role)})
	if err := m.acc.Prune(r.Context()); err != nil {
		m.log.WarnContext(r.Context(), "console: pruning ended sessions", "error", err)
	}
	http.SetCookie(w, &http.Cookie{Name: httpserver.SessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: m.h.HTTP.OverTLS(r)})
	if next == "" {
		next = "/admin"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, accounts.ErrThrottled):
		return "throttled"
	case errors.Is(err, accounts.ErrBadCredentials):
		return "credentials"
	}
	return "error"
}

// record writes a sign-in row to the audit trail (the admin routes are
// recorded by RequireAdmin; these pages have no session yet).
func (m *Module) record(r *http.Request, actor, action string, detail map[string]any) {
	ctx := audit.WithActor(r.Context(), audit.Actor{ID: actor, Via: "password"})
	if err := audit.Record(ctx, m.h.DB, audit.For(ctx, m.h.Clock.Now(), action, "", detail)); err != nil {
		m.log.ErrorContext(r.Context(), "console: audit trail not written", "action", action, "error", err)
	}
}

func (m *Module) logout(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(httpserver.SessionCookie)
	if err == nil && c.Value != "" {
		sess, serr := m.acc.Session(r.Context(), c.Value, false)
		if serr == nil {
			// A page of this server, with the session's own token: another
			// site cannot sign a person out either.
			r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
			if crossOrigin.Check(r) != nil || r.PostFormValue(httpserver.CSRFField) != sess.CSRF {
				httpserver.WriteError(w, http.StatusForbidden, "missing or wrong CSRF token; reload the page")
				return
			}
			if err := m.acc.End(r.Context(), c.Value); err != nil {
				httpserver.WriteError(w, http.StatusServiceUnavailable, "could not sign out; try again")
				return
			}
			m.record(r, "user:"+sess.User.Email, "console.sign_out", nil)
		}
	}
	clearSession(w, m.h.HTTP, r)
	http.Redirect(w, r, "/admin/login?out=1", http.StatusSeeOther)
}

func clearSession(w http.ResponseWriter, s *httpserver.Server, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: httpserver.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.OverTLS(r)})
}

// safeNext keeps a redirect after sign-in on the console.
func safeNext(s string) string {
	if strings.HasPrefix(s, "/admin") && !strings.HasPrefix(s, "/admin/login") && !strings.ContainsAny(s, "\\\r\n") && !strings.HasPrefix(s, "//") {
		return s
	}
	return ""
}

type welcomeData struct {
	Token, Email, Role, Secret, Error string
	// URI is the otpauth:// address, which html/template would otherwise
	// refuse as an unknown scheme; it is made here, from the account.
	URI      template.URL
	Required bool
	Min      int
}

// welcomePage is the one-time link's page: set a password and, for owners
// and staff, add the account to an authenticator app (the otpauth:// URI
// and the secret as text; no QR image, so nothing leaves the page).
func (m *Module) welcomePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := r.URL.Query().Get("token")
	inv, err := m.acc.OpenLink(r.Context(), token)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		m.render(w, r, "message", page{Title: "Link not valid", Data: accounts.ErrLinkInvalid.Error()[len("accounts: "):]})
		return
	}
	m.render(w, r, "welcome", page{Title: "Set your password", Data: welcomeData{Token: token, Email: inv.User.Email,
		Role: string(inv.User.Role), Secret: inv.TOTPSecret, URI: template.URL(inv.TOTPURI), Required: inv.TOTPRequired, Min: accounts.MinPasswordLength}})
}

func (m *Module) welcome(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	if err := crossOrigin.Check(r); err != nil {
		httpserver.WriteError(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	token := r.PostFormValue("token")
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password2") {
		m.welcomeAgain(w, r, token, "The two passwords differ.")
		return
	}
	u, err := m.acc.Redeem(r.Context(), token, pw, strings.TrimSpace(r.PostFormValue("code")))
	switch {
	case errors.Is(err, accounts.ErrWeakPassword), errors.Is(err, accounts.ErrBadCode):
		m.welcomeAgain(w, r, token, strings.TrimPrefix(err.Error(), "accounts: "))
		return
	case errors.Is(err, accounts.ErrLinkInvalid):
		w.WriteHeader(http.StatusNotFound)
		m.render(w, r, "message", page{Title: "Link not valid", Data: strings.TrimPrefix(err.Error(), "accounts: ")})
		return
	case err != nil:
		m.log.ErrorContext(r.Context(), "console: set password failed", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not save; try again")
		return
	}
	m.record(r, "user:"+u.Email, "console.password_set", map[string]any{"totp": u.TOTP})
	flag := "1"
	if u.TOTP {
		flag = "totp"
	}
	http.Redirect(w, r, "/admin/login?welcome="+flag, http.StatusSeeOther)
}

func (m *Module) welcomeAgain(w http.ResponseWriter, r *http.Request, token, msg string) {
	inv, err := m.acc.OpenLink(r.Context(), token)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		m.render(w, r, "message", page{Title: "Link not valid", Data: strings.TrimPrefix(accounts.ErrLinkInvalid.Error(), "accounts: ")})
		return
	}
	w.WriteHeader(http.StatusUnprocessableEntity)
	m.render(w, r, "welcome", page{Title: "Set your password", Data: welcomeData{Token: token, Email: inv.User.Email,
		Role: string(inv.User.Role), Secret: inv.TOTPSecret, URI: template.URL(inv.TOTPURI), Required: inv.TOTPRequired,
		Min: accounts.MinPasswordLength, Error: msg}})
}
