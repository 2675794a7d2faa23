package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
)

// Owners' pages: people (add, disable, a new sign-in link) and named API
// tokens (issue, revoke), the same as `tend users` and `tend tokens`, with
// the same audit rows (user.add, user.disable, user.reset, token.add,
// token.revoke; the subject is the account's id or the token's name). A
// link or a token is shown once, on the page that answers the form (never
// in an address), and only its hash is kept.

// link is the address of a one-time sign-in link: TEND_PUBLIC_URL when
// set, else this request's own host.
func (m *Module) link(r *http.Request, token string) string {
	base := strings.TrimRight(m.h.Config.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if m.h.HTTP.OverTLS(r) {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/admin/welcome?token=" + url.QueryEscape(token)
}

func (m *Module) recordAccount(ctx context.Context, action, subject, role string) {
	detail := map[string]any{}
	if role != "" {
		detail["role"] = role
	}
	if err := audit.Record(ctx, m.h.DB, audit.For(ctx, m.h.Clock.Now(), action, subject, detail)); err != nil {
		m.log.ErrorContext(ctx, "console: audit trail not written", "action", action, "error", err)
	}
}

// me is the signed-in person's own account id (0: a token).
func (m *Module) me(r *http.Request) int64 {
	email, ok := strings.CutPrefix(principal(r).Actor.ID, "user:")
	if !ok {
		return 0
	}
	u, err := m.acc.ByEmail(r.Context(), email)
	if err != nil {
		return 0
	}
	return u.ID
}

func (m *Module) addUser(r *http.Request, email, role string) (accounts.User, string, error) {
	ro, err := accounts.ParseRole(role)
	if err != nil {
		return accounts.User{}, "", userError("role: owner, editor or staff")
	}
	u, token, err := m.acc.Add(r.Context(), email, ro)
	switch {
	case errors.Is(err, accounts.ErrExists):
		return u, "", userError("there is already an account for that address; use “New link” on it")
	case err != nil && strings.HasPrefix(err.Error(), "accounts: "):
		return u, "", userError(strings.TrimPrefix(err.Error(), "accounts: "))
	case err != nil:
		return u, "", err
	}
	m.recordAccount(r.Context(), "user.add", "user:"+strconv.FormatInt(u.ID, 10), string(u.Role))
	return u, m.link(r, token), nil
}

func (m *Module) disableUser(r *http.Request, u accounts.User) error {
	if u.ID == m.me(r) {
		return userError("you cannot disable your own account; another owner can")
	}
	if err := m.acc.Disable(r.Context(), u.Email); err != nil {
		return err
	}
	m.recordAccount(r.Context(), "user.disable", "user:"+strconv.FormatInt(u.ID, 10), "")
	return nil
}

func (m *Module) resetUser(r *http.Request, u accounts.User) (string, error) {
	if u.ID == m.me(r) {
		return "", userError("you cannot reset your own account while signed in with it; another owner can")
	}
	_, token, err := m.acc.Reset(r.Context(), u.Email)
	if err != nil {
		return "", err
	}
	m.recordAccount(r.Context(), "user.reset", "user:"+strconv.FormatInt(u.ID, 10), "")
	return m.link(r, token), nil
}

func (m *Module) issueToken(r *http.Request, name, role string) (accounts.Token, string, error) {
	ro, err := accounts.ParseRole(role)
	if err != nil {
		return accounts.Token{}, "", userError("role: owner, editor or staff")
	}
	t, secret, err := m.acc.AddToken(r.Context(), name, ro, principal(r).Actor.ID)
	switch {
	case errors.Is(err, accounts.ErrExists):
		return t, "", userError("a token with that name exists (names stay taken after a revoke)")
	case err != nil && strings.HasPrefix(err.Error(), "accounts: "):
		return t, "", userError(strings.TrimPrefix(err.Error(), "accounts: "))
	case err != nil:
		return t, "", err
	}
	m.recordAccount(r.Context(), "token.add", "token:"+t.Name, string(t.Role))
	return t, secret, nil
}

func (m *Module) revokeToken(r *http.Request, name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if err := m.acc.RevokeToken(r.Context(), name); err != nil {
		return err
	}
	m.recordAccount(r.Context(), "token.revoke", "token:"+name, "")
	return nil
}

// accountError answers a failed account change.
func accountError(w http.ResponseWriter, err error) {
	var bad userError
	switch {
	case errors.As(err, &bad):
		httpserver.WriteError(w, http.StatusBadRequest, bad.Error())
	case errors.Is(err, accounts.ErrNotFound):
		httpserver.WriteError(w, http.StatusNotFound, "no such account or token")
	default:
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not save; try again")
	}
}

// — API —

func (m *Module) apiUsers(w http.ResponseWriter, r *http.Request) {
	list, err := m.acc.List(r.Context())
	if err != nil {
		accountError(w, err)
		return
	}
	if list == nil {
		list = []accounts.User{}
	}
	httpserver.WriteJSON(w, http.StatusOK, list)
}

type addUserRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

func (m *Module) apiAddUser(w http.ResponseWriter, r *http.Request) {
	var req addUserRequest
	if !httpserver.DecodeJSON(w, r, &req, httpserver.JSONOptions{MaxBytes: 4 << 10, KnownFieldsOnly: true}) {
		return
	}
	u, link, err := m.addUser(r, req.Email, req.Role)
	if err != nil {
		accountError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusCreated, map[string]any{"user": u, "link": link})
}

func (m *Module) userParam(w http.ResponseWriter, r *http.Request) (accounts.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, "id: an account id from GET /api/v1/users")
		return accounts.User{}, false
	}
	u, err := m.acc.ByID(r.Context(), id)
	if err != nil {
		accountError(w, err)
		return accounts.User{}, false
	}
	return u, true
}

func (m *Module) apiDisableUser(w http.ResponseWriter, r *http.Request) {
	u, ok := m.userParam(w, r)
	if !ok {
		return
	}
	if err := m.disableUser(r, u); err != nil {
		accountError(w, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"id": u.ID, "disabled": true})
}

func (m *Module) apiResetUser(w http.ResponseWriter, r *http.Request) {
	u, ok := m.userParam(w, r)
	if !ok {
		return
	}
	link, err := m.resetUser(r, u)
	if err != nil {
		accountError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"id": u.ID, "link": link})
}

func (m *Module) apiTokens(w http.ResponseWriter, r *http.Request) {
	list, err := m.acc.Tokens(r.Context())
	if err != nil {
		accountError(w, err)
		return
	}
	if list == nil {
		list = []accounts.Token{}
	}
	httpserver.WriteJSON(w, http.StatusOK, list)
}

type addTokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

func (m *Module) apiAddToken(w http.ResponseWriter, r *http.Request) {
	var req addTokenRequest
	if !httpserver.DecodeJSON(w, r, &req, httpserver.JSONOptions{MaxBytes: 4 << 10, KnownFieldsOnly: true}) {
		return
	}
	t, secret, err := m.issueToken(r, req.Name, req.Role)
	if err != nil {
		accountError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
}

func (m *Module) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	if err := m.revokeToken(r, r.PathValue("name")); err != nil {
		accountError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// — pages —

type peopleData struct {
	Users   []accounts.User
	Tokens  []accounts.Token
	Me      int64
	Flash   string
	Problem string
	// Shown once: the link of an account just added or reset, or a
	// token just issued, with whom it is for.
	Link, LinkFor     string
	Secret, SecretFor string
}

func (m *Module) peoplePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m.renderPeople(w, r, peopleData{Flash: q.Get("done"), Problem: q.Get("problem")})
}

func (m *Module) renderPeople(w http.ResponseWriter, r *http.Request, d peopleData) {
	var err error
	if d.Users, err = m.acc.List(r.Context()); err == nil {
		d.Tokens, err = m.acc.Tokens(r.Context())
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: people", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the accounts")
		return
	}
	d.Me = m.me(r)
	m.render(w, r, "people", page{Title: "People and API tokens", Data: d})
}

func peopleBack(w http.ResponseWriter, r *http.Request, done string, err error) {
	v := url.Values{}
	if err != nil {
		var bad userError
		msg := "could not save; try again"
		if errors.As(err, &bad) {
			msg = bad.Error()
		} else if errors.Is(err, accounts.ErrNotFound) {
			msg = "no such account or token"
		}
		v.Set("problem", msg)
	} else {
		v.Set("done", done)
	}
	http.Redirect(w, r, "/admin/people?"+v.Encode(), http.StatusSeeOther)
}

// peopleForm handles the page's forms; a new link or token is shown on
// the page that answers (not redirected), once.
func (m *Module) peopleForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	action := r.PathValue("action")
	switch action {
	case "add":
		u, link, err := m.addUser(r, r.PostFormValue("email"), r.PostFormValue("role"))
		if err != nil {
			peopleBack(w, r, "", err)
			return
		}
		m.renderPeople(w, r, peopleData{Link: link, LinkFor: u.Email, Flash: fmt.Sprintf("Added %s (%s).", u.Email, u.Role)})
	case "disable", "reset":
		u, err := m.acc.ByEmail(r.Context(), r.PostFormValue("email"))
		if err != nil {
			peopleBack(w, r, "", err)
			return
		}
		if action == "disable" {
			err = m.disableUser(r, u)
			peopleBack(w, r, "Disabled "+u.Email+"; their sessions have ended.", err)
			return
		}
		link, err := m.resetUser(r, u)
		if err != nil {
			peopleBack(w, r, "", err)
			return
		}
		m.renderPeople(w, r, peopleData{Link: link, LinkFor: u.Email,
			Flash: "Reset " + u.Email + ": password and one-time codes cleared, sessions ended."})
	case "token":
		t, secret, err := m.issueToken(r, r.PostFormValue("name"), r.PostFormValue("role"))
		if err != nil {
			peopleBack(w, r, "", err)
			return
		}
		m.renderPeople(w, r, peopleData{Secret: secret, SecretFor: t.Name + " (" + string(t.Role) + ")"})
	case "revoke":
		name := r.PostFormValue("name")
		peopleBack(w, r, "Revoked "+name+".", m.revokeToken(r, name))
	default:
		http.NotFound(w, r)
	}
}
