package triage

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store/storetest"
)

func newApp(t *testing.T, mode app.Mode, m Module) (*app.App, error) {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir()})
	require.NoError(t, err)
	a, err := app.New(context.Background(), cfg, app.Options{Mode: mode, Store: storetest.OpenSQLite(t), SkipMigrate: true,
		Modules: []app.Module{m}})
	if a != nil {
		t.Cleanup(a.Close)
	}
	return a, err
}

// TestModuleInstalls: in both modes the guard answers emergencies through
// the assembled engine.
func TestModuleInstalls(t *testing.T) {
	t.Parallel()
	for _, mode := range []app.Mode{app.ModeCLI, app.ModeServe} {
		a, err := newApp(t, mode, Module{})
		require.NoError(t, err)
		out, err := a.Engine.Handle(context.Background(), bot.Inbound{Channel: "cli", ChatID: "m", SenderID: "m", MessageID: "1",
			Text: "my chest hurts really bad"})
		require.NoError(t, err)
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
		require.True(t, a.Catalog.Has("en", "triage.emergency"))
		require.Empty(t, a.Catalog.Missing("es"), "every message has a Spanish translation")
	}
}

// TestModuleClinicFile: a clinic's file replaces the built-in rules.
func TestModuleClinicFile(t *testing.T) {
	t.Parallel()
	a, err := newApp(t, app.ModeCLI, Module{File: filepath.Join("testdata", "clinic-rules.yaml")})
	require.NoError(t, err)
	out, err := a.Engine.Handle(context.Background(), bot.Inbound{Channel: "cli", ChatID: "p", SenderID: "p", MessageID: "1",
		Text: "my insulin pump is beeping"})
	require.NoError(t, err)
	require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
}

// TestModuleBadFile: a file that does not validate stops the start, naming
// the file and the problem.
func TestModuleBadFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "triage.yaml")
	require.NoError(t, os.WriteFile(path, []byte("version: 1\ncategories: []\n"), 0o600))
	_, err := newApp(t, app.ModeCLI, Module{File: path})
	require.ErrorContains(t, err, path)
	require.ErrorContains(t, err, "at least one category")
	_, err = newApp(t, app.ModeCLI, Module{File: filepath.Join(t.TempDir(), "missing.yaml")})
	require.ErrorContains(t, err, "missing.yaml")
}
