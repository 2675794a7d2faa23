// Package host is what a module installs itself into: the shared services
// the assembly (internal/app) builds before any module, and the few ways a
// module adds to them (dialogs and guards on the engine, routes on the HTTP
// server, job workers, periodic jobs, cleanup).
//
// Modules import this package, never the assembly. A module's other
// collaborators (the staff side of handoffs, the knowledge base booking
// quotes) are arguments of its constructor, given by the command layer
// (internal/cli/modules.go), so what depends on what is written in one
// place instead of being read off a shared object at turn time.
package host

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/metrics"
	"github.com/tend-health/tend/internal/store"
)

// Mode says what the process will do, so that modules start only what it needs.
type Mode int

const (
	// ModeCLI handles messages in-process (chat, ask) and works no jobs.
	ModeCLI Mode = iota
	// ModeServe runs the HTTP server, channels and job workers.
	ModeServe
)

// Module is one capability (knowledge base, a channel, booking, ...).
type Module interface {
	Name() string
	// Install registers dialogs, guards, senders, workers and routes.
	Install(ctx context.Context, h *Host) error
}

// Starter is a module with background work in serve mode (a poller).
type Starter interface {
	Start(ctx context.Context) error
}

// Host holds the services every module may use. The assembly fills it
// before the first Install and nothing replaces a field afterwards;
// modules add to the engine, the router, the catalog and the job lists
// through their own methods.
type Host struct {
	Config  config.Config
	Mode    Mode
	Clock   clock.Clock
	Log     *slog.Logger
	DB      *store.DB
	Catalog *catalog.Catalog
	Clinic  *clinic.Profile
	Metrics *metrics.Metrics
	Engine  *bot.Engine
	// HTTP is the server's router (serve mode only; nil otherwise).
	HTTP *httpserver.Server
	// Workers collects every module's job workers (river.AddWorker).
	Workers *river.Workers
	// Sample is the bundled demo clinic's files: what a fresh database
	// starts from (nil: none). Only the assembly loads package sample.
	Sample fs.FS

	periodic []*river.PeriodicJob
	closers  []func()
}

// AddPeriodic adds recurring jobs (run by River's leader in serve mode).
func (h *Host) AddPeriodic(jobs ...*river.PeriodicJob) { h.periodic = append(h.periodic, jobs...) }

// Periodic are the recurring jobs added so far.
func (h *Host) Periodic() []*river.PeriodicJob { return h.periodic }

// OnClose registers cleanup to run when the app closes (in reverse order).
func (h *Host) OnClose(fn func()) { h.closers = append(h.closers, fn) }

// RunClosers runs the cleanup registered with OnClose, newest first, once.
func (h *Host) RunClosers() {
	for i := len(h.closers) - 1; i >= 0; i-- {
		h.closers[i]()
	}
	h.closers = nil
}
