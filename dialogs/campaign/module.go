package campaign

import (
	"context"
	"embed"
	"errors"
	"net/http"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/outreach"
	"github.com/tend-health/tend/internal/quiet"
)

//go:embed examples/*.yaml
var examples embed.FS

// Examples are the bundled campaign files (flu shots, screening
// mammograms, refills), by file name.
func Examples() map[string][]byte {
	out := map[string][]byte{}
	entries, _ := examples.ReadDir("examples")
	for _, e := range entries {
		b, _ := examples.ReadFile("examples/" + e.Name())
		out[e.Name()] = b
	}
	return out
}

// Module installs campaigns: the reply dialog, the send worker and the
// staff API.
type Module struct {
	// Channels overrides which channels can be reached first (tests).
	Channels outreach.Channels
	// Quiet overrides the host's Config.QuietHours (tests).
	Quiet *quiet.Hours

	// Service is set by Install, for the CLI and tests.
	Service *Service
	Worker  *Worker
}

// Name implements host.Module.
func (*Module) Name() string { return Name }

// Install implements host.Module.
func (m *Module) Install(_ context.Context, a *host.Host) error {
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	q := a.Config.QuietHours
	if m.Quiet != nil {
		q = *m.Quiet
	}
	ch := m.Channels
	if ch == nil {
		ch = outreach.ChannelsFromConfig(a.Config)
	}
	s := &Service{DB: a.DB, Engine: a.Engine, Catalog: a.Catalog, Clinic: a.Clinic, Clock: a.Clock, Log: a.Log,
		Channels: ch, Quiet: q}
	a.Engine.AddDialog(&Dialog{S: s})
	m.Worker = &Worker{S: s}
	river.AddWorker(a.Workers, m.Worker)
	if a.HTTP != nil {
		token := a.Config.AdminToken.Reveal()
		guard := func(h http.HandlerFunc) http.Handler { return httpserver.RequireAdmin(token, h) }
		a.HTTP.Handle("POST /api/v1/campaigns/preview", guard(s.httpPlan(false)))
		a.HTTP.Handle("POST /api/v1/campaigns/run", guard(s.httpPlan(true)))
		a.HTTP.Handle("GET /api/v1/campaigns/{id}/deliveries", guard(s.httpDeliveries))
		a.HTTP.Handle("GET /api/v1/campaigns/requests", guard(s.httpRequests))
		a.HTTP.Handle("GET /admin/campaigns", guard(s.httpPage(a.HTTP)))
	}
	m.Service, m.Worker.S = s, s
	return nil
}

// httpPlan previews or runs a campaign given as JSON (the file's fields).
func (s *Service) httpPlan(run bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := httpserver.ReadJSON(w, r, httpserver.JSONOptions{MaxBytes: 1 << 20})
		if !ok {
			return
		}
		c, err := Parse(body, "request")
		if err != nil {
			httpserver.WriteError(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
		var plan Plan
		if run {
			plan, err = s.Run(r.Context(), c)
		} else {
			plan, err = s.Preview(r.Context(), c)
		}
		switch {
		case errors.Is(err, ErrEnded):
			httpserver.WriteError(w, http.StatusConflict, err.Error())
		case err != nil:
			s.Log.ErrorContext(r.Context(), "campaign", "campaign", c.ID, "error", err)
			httpserver.WriteError(w, http.StatusInternalServerError, "the campaign could not be evaluated")
		default:
			httpserver.WriteJSON(w, http.StatusOK, plan)
		}
	}
}

func (s *Service) httpDeliveries(w http.ResponseWriter, r *http.Request) {
	list, err := Deliveries(r.Context(), s.DB.Q(), r.PathValue("id"))
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the deliveries")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"deliveries": list})
}

func (s *Service) httpRequests(w http.ResponseWriter, r *http.Request) {
	list, err := Requests(r.Context(), s.DB.Q())
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the requests")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"requests": list})
}
