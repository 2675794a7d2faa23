package whatsapp_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store/storetest"
)

// A bad templates file stops the start with a message naming the problem.
func TestInstallRejectsBadTemplates(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	path := filepath.Join(t.TempDir(), "templates.yaml")
	require.NoError(t, os.WriteFile(path, []byte("templates:\n  reminder: {name: Reminder!, language: en_US}\n"), 0o600))
	cfg := config.Config{DataDir: t.TempDir(), WhatsApp: config.WhatsApp{PhoneNumberID: "1", AccessToken: "t",
		AppSecret: "s", VerifyToken: "v"}}
	_, err := app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true,
		Modules: []app.Module{&whatsapp.Module{TemplatesFile: path}}})
	require.ErrorContains(t, err, `reminder: name "Reminder!"`)

	_, err = app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true,
		Modules: []app.Module{&whatsapp.Module{TemplatesFile: filepath.Join(t.TempDir(), "missing.yaml")}}})
	require.ErrorContains(t, err, whatsapp.TemplatesEnv)

	// Without the module's own field, the file comes from the config
	// (TEND_WHATSAPP_TEMPLATES), never from the process environment.
	withFile := cfg
	withFile.WhatsApp.TemplatesFile = path
	_, err = app.New(context.Background(), withFile, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true,
		Modules: []app.Module{&whatsapp.Module{}}})
	require.ErrorContains(t, err, `reminder: name "Reminder!"`)

	cfg.WhatsApp.AppSecret = ""
	_, err = app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true,
		Modules: []app.Module{&whatsapp.Module{}}})
	require.ErrorContains(t, err, "WHATSAPP_APP_SECRET")
}
