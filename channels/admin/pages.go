package admin

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/httpserver"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFS embed.FS

func staticFiles() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	// cardOf is the card part's data: whether the patient is verified and
	// the card, when it was asked for.
	"cardOf": func(verified bool, c *card) map[string]any { return map[string]any{"Verified": verified, "Card": c} },
	// channel names a consent row's channel ("*" and "": every channel).
	"channel": func(c string) string {
		if c == "" || c == "*" {
			return "every channel"
		}
		return c
	},
	"pct": func(f float64) string {
		return strings.TrimRight(strings.TrimRight(template.HTMLEscapeString(fmtFloat(f)), "0"), ".")
	},
}

// templates: each page is the layout, the shared parts (_*.html) and its
// own file.
var templates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	names, _ := fs.Glob(templateFiles, "templates/*.html")
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		out[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", n))
	}
	return out
}()

// page is what every console page renders with.
type page struct {
	Title string
	Data  any
	// Filled by render from the request.
	Who   string
	Role  string
	CSRF  string
	Nav   []navItem
	Idle  int // seconds before the page signs itself out
	Token bool
}

type navItem struct {
	Href, Label string
	Current     bool
}

var navAreas = []struct {
	href, label string
	area        accounts.Area
}{
	{"/admin/inbox", "Inbox", accounts.AreaInbox},
	{"/admin/patients", "Patients", accounts.AreaPatients},
	{"/admin/appointments", "Appointments", accounts.AreaAppointments},
	{"/admin/kb", "Documents", accounts.AreaKB},
	{"/admin/kb/try", "Try a question", accounts.AreaKB},
	{"/admin/kb/unanswered", "Unanswered", accounts.AreaKB},
	{"/admin/wording", "Wording", accounts.AreaWording},
	{"/admin/surveys", "Surveys", accounts.AreaSurveys},
	{"/admin/campaigns", "Campaigns", accounts.AreaCampaigns},
	{"/admin/people", "People", accounts.AreaOwner},
}

func (m *Module) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	if pr, ok := httpserver.PrincipalFrom(r.Context()); ok {
		p.Who, p.Role, p.CSRF = strings.TrimPrefix(pr.Actor.ID, "user:"), pr.Role, pr.CSRF
		p.Token = !pr.Session
		if pr.Session {
			p.Idle = int(m.idle().Seconds())
		}
		for _, n := range navAreas {
			if accounts.Role(pr.Role).May(n.area) {
				p.Nav = append(p.Nav, navItem{Href: n.href, Label: n.label, Current: r.URL.Path == n.href})
			}
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "same-origin")
	t := templates[name]
	if t == nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "no such page")
		return
	}
	// Rendered whole before anything is sent: a template error answers 500
	// rather than half a page.
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		m.log.ErrorContext(r.Context(), "console: render", "page", name, "error", err)
		httpserver.WriteError(w, http.StatusInternalServerError, "the page could not be made")
		return
	}
	_, _ = w.Write(b.Bytes())
}

func (m *Module) idle() time.Duration {
	if m.acc.Idle > 0 {
		return m.acc.Idle
	}
	return accounts.DefaultIdle
}

// home is /admin: what the person's role may open.
func (m *Module) home(w http.ResponseWriter, r *http.Request) {
	m.render(w, r, "home", page{Title: "Clinic console"})
}

// apiMe says who the caller is, their role and (for a session) the CSRF
// token a script must send.
func (m *Module) apiMe(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"actor": p.Actor.ID, "role": p.Role, "csrf_token": p.CSRF})
}
