package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store/storetest"
)

// Every sentence the bot writes exists in every shipped language.
func TestCatalogIsComplete(t *testing.T) {
	t.Parallel()
	a := apptest.New(t, storetest.OpenSQLite(t), apptest.Options{Mode: app.ModeServe})
	langs := a.Catalog.Languages()
	require.Contains(t, langs, "en")
	require.Contains(t, langs, "es")
	for _, lang := range langs {
		require.Empty(t, a.Catalog.Missing(lang), "messages missing in %s", lang)
	}
}

// A clinic's override directory rewords a message without touching code.
func TestClinicMessagesOverrideDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "active.en.yaml"),
		[]byte(`menu.main: "What can {{.Clinic}} do for you today?"`+"\n"), 0o600))
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_MESSAGES_DIR": dir})
	require.NoError(t, err)
	a := apptest.New(t, storetest.OpenSQLite(t), apptest.Options{Config: &cfg})
	require.Equal(t, "What can Maple Grove Family Clinic do for you today?", a.Catalog.Text("en", "menu.main", nil))
	require.Contains(t, a.Catalog.Text("es", "menu.main", nil), "¿En qué puedo ayudarle?", "other languages keep their text")
}

func TestBadClinicFileStopsStartWithAClearError(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "clinic.yaml")
	require.NoError(t, os.WriteFile(p, []byte("name: X\ntimezone: Mars/Olympus\n"), 0o600))
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_CLINIC_FILE": p})
	require.NoError(t, err)
	_, err = app.New(context.Background(), cfg, app.Options{Store: storetest.OpenSQLite(t), SkipMigrate: true})
	require.ErrorContains(t, err, "phone is required")
	require.ErrorContains(t, err, "Mars/Olympus")
}
