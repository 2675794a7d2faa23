package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
)

// BackgroundHeader marks a page's own refresh (the inbox's polling): it is
// answered like any request but does not count as activity, so a tab left
// open still signs out after TEND_CONSOLE_IDLE.
const BackgroundHeader = "X-Tend-Background"

// auth is the accounts seam of the HTTP server (httpserver.Accounts).
type auth struct {
	acc      *accounts.Service
	clientIP func(*http.Request) string
}

func (a *auth) Session(r *http.Request, id string) (httpserver.Principal, bool, error) {
	s, err := a.acc.Session(r.Context(), id, r.Header.Get(BackgroundHeader) == "")
	if errors.Is(err, accounts.ErrNoSession) {
		return httpserver.Principal{}, false, nil
	}
	if err != nil {
		return httpserver.Principal{}, false, err
	}
	return httpserver.Principal{Actor: audit.Actor{ID: "user:" + s.User.Email, Via: "session"}, Role: string(s.User.Role),
		CSRF: s.CSRF, Session: true}, true, nil
}

func (a *auth) Token(r *http.Request, token string) (httpserver.Principal, bool, error) {
	t, err := a.acc.LookupToken(r.Context(), token)
	if errors.Is(err, accounts.ErrNotFound) {
		return httpserver.Principal{}, false, nil
	}
	if err != nil {
		return httpserver.Principal{}, false, err
	}
	return httpserver.Principal{Actor: audit.Actor{ID: "token:" + t.Name, Via: "bearer"}, Role: string(t.Role)}, true, nil
}

func (a *auth) Allowed(role string, r *http.Request) bool {
	area, any := areaOf(r.Pattern)
	return any || accounts.Role(role).May(area)
}

// areas maps route prefixes (the path of a mux pattern) to the console's
// areas; the longest prefix wins, and a route under none is the owner's.
var areaPrefixes = []struct {
	prefix string
	area   accounts.Area
}{
	{"/admin/kb", accounts.AreaKB}, {"/api/v1/kb", accounts.AreaKB},
	{"/admin/wording", accounts.AreaWording}, {"/api/v1/wording", accounts.AreaWording},
	{"/admin/inbox", accounts.AreaInbox}, {"/api/v1/handoffs", accounts.AreaInbox},
	{"/admin/conversations", accounts.AreaInbox}, {"/api/v1/conversations", accounts.AreaInbox}, {"/api/v1/flags", accounts.AreaInbox},
	{"/admin/appointments", accounts.AreaAppointments},
	{"/api/v1/patients/{id}/export", accounts.AreaOwner}, {"/api/v1/patients/{id}/erase", accounts.AreaOwner},
	{"/api/v1/patients", accounts.AreaPatients}, {"/admin/patients", accounts.AreaPatients},
	{"/api/v1/appointments", accounts.AreaAppointments}, {"/api/v1/schedule", accounts.AreaAppointments},
	{"/api/v1/visits", accounts.AreaAppointments}, {"/api/v1/booking", accounts.AreaAppointments},
	{"/api/v1/surveys", accounts.AreaSurveys}, {"/admin/surveys", accounts.AreaSurveys},
	{"/api/v1/campaigns", accounts.AreaCampaigns}, {"/admin/campaigns", accounts.AreaCampaigns},
	{"/api/v1/consent", accounts.AreaPatients},
}

// areaOf is the area of a mux pattern ("GET /api/v1/kb/documents"); any
// is true for the pages every signed-in person has (the home page).
func areaOf(pattern string) (area accounts.Area, any bool) {
	path := pattern
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		path = pattern[i+1:]
	}
	if path == "/admin" || path == "/api/v1/console/me" {
		return "", true
	}
	best := -1
	area = accounts.AreaOwner
	for _, p := range areaPrefixes {
		if (path == p.prefix || strings.HasPrefix(path, p.prefix+"/")) && len(p.prefix) > best {
			best, area = len(p.prefix), p.area
		}
	}
	return area, false
}

// pageGuard sends a browser that is not signed in (or whose session has
// ended) to the sign-in page, and admits the others as RequireAdmin does.
func (m *Module) pageGuard(token string, next http.Handler) http.Handler {
	guarded := httpserver.RequireAdmin(token, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, hasBearer := httpserver.Bearer(r)
		_, adminErr := r.Cookie(httpserver.AdminCookie)
		if !hasBearer && (adminErr != nil || token == "") {
			c, err := r.Cookie(httpserver.SessionCookie)
			if err != nil || c.Value == "" {
				http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
				return
			}
			if _, err := m.acc.Session(r.Context(), c.Value, false); err != nil {
				clearSession(w, m.h.HTTP, r)
				http.Redirect(w, r, "/admin/login?ended=1&next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
				return
			}
		}
		guarded.ServeHTTP(w, r)
	})
}

func (m *Module) apiGuard(token string, next http.Handler) http.Handler {
	return httpserver.RequireAdmin(token, next)
}

// principal is who the request was admitted as.
func principal(r *http.Request) httpserver.Principal {
	p, _ := httpserver.PrincipalFrom(r.Context())
	return p
}

// staffActor is the person the handoff machine records and the patient
// sees: "console:<e-mail>", with the name before the @ ("anna.lee" → Anna).
func staffActor(p httpserver.Principal) (id, name string) {
	id = strings.TrimPrefix(p.Actor.ID, "user:")
	local, _, _ := strings.Cut(id, "@")
	local = strings.TrimPrefix(local, "token:")
	first, _, _ := strings.Cut(local, ".")
	first, _, _ = strings.Cut(first, "_")
	if first == "" || first == "admin-token" {
		first = "staff"
	}
	name = strings.ToUpper(first[:1]) + first[1:]
	return "console:" + id, name
}
