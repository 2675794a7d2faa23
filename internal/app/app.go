// Package app assembles Tend from its parts (store, jobs, catalog, engine,
// dialogs, channels) for the commands that run it. Each capability plugs in
// through a Module, so the assembly reads as a list.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/askperson"
	"github.com/tend-health/tend/dialogs/menu"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/metrics"
	"github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/sample"
)

// Mode, Module and Starter are the host's: modules import internal/host,
// never this package.
type (
	Mode    = host.Mode
	Module  = host.Module
	Starter = host.Starter
)

// Modes of a process.
const (
	ModeCLI   = host.ModeCLI
	ModeServe = host.ModeServe
)

// Options adjust assembly, mostly for tests.
type Options struct {
	Mode   Mode
	Clock  clock.Clock
	Logger *slog.Logger
	// Store overrides the database chosen by the config (tests pass their own).
	Store *store.DB
	// SkipMigrate leaves the schema alone (the caller migrated already).
	SkipMigrate bool
	// Modules are the capabilities, installed in this order.
	Modules []Module
}

// App is an assembled Tend: the host every module installed into, and the
// job client and modules the commands start and stop.
type App struct {
	*host.Host
	Jobs *jobs.Client

	modules  []Module
	ownStore bool
}

// New opens the store, migrates it and assembles every module.
func New(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	a := &App{Host: &host.Host{Config: cfg, Mode: o.Mode, Clock: o.Clock, Log: o.Logger, Metrics: metrics.New(),
		Workers: river.NewWorkers(), Sample: sample.Files()}}
	if a.Clock == nil {
		a.Clock = clock.Real{}
	}
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if err := a.openStore(ctx, o); err != nil {
		return nil, err
	}
	if err := a.useKeys(); err != nil {
		return nil, err
	}
	if err := a.loadClinic(); err != nil {
		return nil, err
	}
	if err := a.loadCatalog(); err != nil {
		return nil, err
	}
	a.Engine = bot.New(bot.Options{DB: a.DB, Clock: a.Clock, Catalog: a.Catalog, Clinic: a.Clinic, Logger: a.Log,
		Metrics: a.Metrics, InlineChannels: []string{"console", "cli"}})
	if a.Mode == ModeServe {
		a.HTTP = httpserver.New(httpserver.Options{Logger: a.Log, Metrics: a.Metrics, DB: a.DB})
	}
	a.modules = o.Modules
	for _, m := range a.modules {
		if err := m.Install(ctx, a.Host); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name(), err)
		}
	}
	a.installCoreDialogs()
	// The clinic's own wording wins over every module's defaults.
	if err := a.Catalog.AddDir(a.Config.MessagesDir); err != nil {
		return nil, err
	}
	a.Engine.AddWorkers(a.Workers)
	a.AddPeriodic(a.Engine.PeriodicJobs()...)
	jo := jobs.Options{Logger: a.Log, ErrorHook: func(kind string) { a.Metrics.Errors.WithLabelValues("job:" + kind).Inc() }}
	if a.Mode == ModeServe {
		jo.Workers, jo.Periodic = a.Workers, a.Periodic()
	}
	var err error
	if a.Jobs, err = jobs.New(a.DB, jo); err != nil {
		return nil, err
	}
	if a.HTTP != nil {
		a.Metrics.QueueDepth(a.Jobs.Depth)
	}
	if err := a.rekeyAtStart(ctx); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

func (a *App) openStore(ctx context.Context, o Options) error {
	if o.Store != nil {
		a.DB = o.Store
	} else {
		db, err := store.Open(ctx, store.Options{PostgresURL: a.Config.DatabaseURL.Reveal(), SQLitePath: a.Config.SQLitePath(), Logger: a.Log,
			SessionURL: a.Config.DatabaseSessionURL.Reveal(), MaxConns: int32(a.Config.DatabasePoolSize),
			Migrations: schema.All()})
		if err != nil {
			return err
		}
		a.DB, a.ownStore = db, true
	}
	if o.SkipMigrate {
		return nil
	}
	res, err := a.DB.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(res.Applied) > 0 {
		a.Log.Info("database migrated", "applied", len(res.Applied), "dialect", string(a.DB.Dialect()))
	}
	return nil
}

func (a *App) loadClinic() error {
	var err error
	if a.Config.ClinicFile != "" {
		a.Clinic, err = clinic.Load(a.Config.ClinicFile)
	} else {
		a.Clinic, err = clinic.Parse(sample.ClinicYAML())
	}
	return err
}

func (a *App) loadCatalog() error {
	a.Catalog = catalog.New(a.Clinic.TemplateData(), a.Log)
	for _, fsys := range localeSets() {
		if err := a.Catalog.AddFS(fsys); err != nil {
			return err
		}
	}
	return nil
}

// installCoreDialogs adds the dialogs every assembly has, unless a module
// installed its own of the name: the menu, "talk to a person" (without a
// staff channel unless the command layer installed it with one) and the
// fallback.
func (a *App) installCoreDialogs() {
	if !a.Engine.HasDialog(menu.Dialog{}.Name()) {
		a.Engine.AddDialog(menu.Dialog{})
	}
	if !a.Engine.HasDialog(handoff.Name) {
		a.Engine.AddDialog(askperson.Dialog{})
	}
	fb := menu.FallbackDialog{}
	a.Engine.AddDialog(fb)
	a.Engine.SetFallback(fb.Name())
}

// Start launches background work: job workers and module pollers.
func (a *App) Start(ctx context.Context) error {
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	if err := a.Engine.StartRecovery(ctx); err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	for _, m := range a.modules {
		if s, ok := m.(Starter); ok {
			if err := s.Start(ctx); err != nil {
				return fmt.Errorf("%s: %w", m.Name(), err)
			}
		}
	}
	return nil
}

// Stop finishes running jobs, waiting up to ctx's deadline.
func (a *App) Stop(ctx context.Context) error {
	if a.Jobs == nil || a.Mode != ModeServe {
		return nil
	}
	return a.Jobs.Stop(ctx)
}

// Close releases everything the app opened.
func (a *App) Close() {
	a.RunClosers()
	if a.ownStore && a.DB != nil {
		_ = a.DB.Close()
		a.DB = nil
	}
}

// ErrNotReady is returned while the app cannot serve.
var ErrNotReady = errors.New("not ready")
