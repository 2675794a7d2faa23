package survey

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/outreach"
)

//go:embed post-visit.yaml
var defaultYAML []byte

// Default is the bundled post-visit survey.
func Default() *Questionnaire {
	q, err := Parse(defaultYAML, "post-visit.yaml")
	if err != nil {
		panic(err) // the bundled file is tested
	}
	return q
}

// DefaultYAML is the bundled survey file (for `tend` to print and docs).
func DefaultYAML() []byte { return defaultYAML }

// Module installs surveys: the dialog, the invitation jobs, the staff API
// and the admin page.
type Module struct {
	// Config overrides the settings taken from the host's Config (tests).
	Config *Config
	// Channels overrides which channels can be reached first (tests).
	Channels outreach.Channels
	// Staff is told of low scores and complaints; nil when no staff
	// channel is configured.
	Staff handoff.Notifier

	// Service is set by Install, for the CLI and tests.
	Service *Service
	Worker  *Worker
}

// Name implements host.Module.
func (*Module) Name() string { return Name }

// Install implements host.Module. A survey file that does not validate
// stops the start, with every problem named.
func (m *Module) Install(_ context.Context, a *host.Host) error {
	cfg := ConfigFrom(a.Config)
	if m.Config != nil {
		cfg = *m.Config
	}
	q := Default()
	if cfg.File != "" {
		var err error
		if q, err = LoadFile(cfg.File); err != nil {
			return err
		}
	}
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	ch := m.Channels
	if ch == nil {
		ch = outreach.ChannelsFromConfig(a.Config)
	}
	s := &Service{DB: a.DB, Engine: a.Engine, Catalog: a.Catalog, Clinic: a.Clinic, Clock: a.Clock, Log: a.Log, Q: q,
		Cfg: cfg, Channels: ch, Staff: m.Staff}
	a.Engine.AddDialog(&Dialog{S: s})
	m.Worker = &Worker{S: s}
	river.AddWorker(a.Workers, m.Worker)
	if a.HTTP != nil {
		token := a.Config.AdminToken.Reveal()
		(&api{S: s}).routes(a.HTTP, func(h http.Handler) http.Handler { return httpserver.RequireAdmin(token, h) })
	}
	m.Service = s
	return nil
}
