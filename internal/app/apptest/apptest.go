// Package apptest assembles a real Tend (real store, real jobs, real
// engine and dialogs) for tests, on a store from storetest.
package apptest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/store"
)

// Options adjust the assembly.
type Options struct {
	Mode    app.Mode
	Clock   clock.Clock
	Config  *config.Config
	Modules []app.Module
	// Start runs the job workers (serve mode) until the test ends.
	Start bool
}

// Epoch is a fixed instant tests start their fake clocks at: a Tuesday
// morning in clinic hours (America/Chicago).
var Epoch = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// New builds an app on db. The config defaults to the zero environment.
func New(t testing.TB, db *store.DB, o Options) *app.App {
	t.Helper()
	cfg := o.Config
	if cfg == nil {
		c, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir()})
		if err != nil {
			t.Fatalf("config: %v", err)
		}
		cfg = &c
	}
	log := logging.Discard()
	if os.Getenv("TEND_TEST_LOG") != "" {
		log = logging.New(os.Stderr, "debug", "text")
	}
	a, err := app.New(context.Background(), *cfg, app.Options{
		Mode: o.Mode, Clock: o.Clock, Logger: log, Store: db, SkipMigrate: true, Modules: o.Modules,
	})
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	t.Cleanup(a.Close)
	if o.Start {
		ctx, cancel := context.WithCancel(context.Background())
		if err := a.Start(ctx); err != nil {
			cancel()
			t.Fatalf("start: %v", err)
		}
		t.Cleanup(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			_ = a.Stop(sctx)
			cancel()
		})
	}
	return a
}

// Logger returns a logger for tests (quiet unless TEND_TEST_LOG is set).
func Logger() *slog.Logger {
	if os.Getenv("TEND_TEST_LOG") != "" {
		return logging.New(os.Stderr, "debug", "text")
	}
	return logging.Discard()
}
