package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/rekey"
	"github.com/tend-health/tend/internal/store/storetest"
)

func runEnv(t *testing.T, db *store.DB, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	vars["TEND_DATA_DIR"] = t.TempDir()
	cfg, err := config.LoadFrom(vars)
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Config: cfg,
		AppOptions: app.Options{Store: db, SkipMigrate: true, Logger: logging.Discard()}}
	code := Main(context.Background(), args, env)
	return code, out.String(), errOut.String()
}

func TestKeysGenerateStatusRotate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		code, out, _ := runEnv(t, db, map[string]string{}, "keys", "generate")
		require.Equal(t, 0, code)
		k1 := strings.TrimSpace(out)
		_, err := sealed.Parse(k1)
		require.NoError(t, err, "a generated key is a valid key")

		// A conversation and the sample registry, before any key.
		code, _, errOut := runEnv(t, db, map[string]string{}, "chat")
		require.Equal(t, 0, code, errOut)
		code, _, errOut = runEnv(t, db, map[string]string{}, "patients", "import", "--sample")
		require.Equal(t, 0, code, errOut)
		code, out, errOut = runEnv(t, db, map[string]string{}, "keys", "status")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "no encryption key is configured")
		require.Contains(t, out, "patients.first_name")

		code, _, errOut = runEnv(t, db, map[string]string{}, "keys", "rotate")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "no encryption key is configured")

		// A key for the first time: rotate seals everything under it.
		withKey := map[string]string{"TEND_ENCRYPTION_KEY": k1}
		code, out, errOut = runEnv(t, db, withKey, "keys", "rotate", "--foreground")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "sealing patients.first_name")
		require.Contains(t, out, "done: every value is sealed under key")
		require.NotContains(t, out+errOut, k1, "keys are never printed")

		// A key file with a new key first: the old key is still used
		// until the rotation has run, then it can go.
		k2 := sealed.Generate()
		file := filepath.Join(t.TempDir(), "keys")
		require.NoError(t, os.WriteFile(file, []byte("# new\n"+k2+"\n# old\n"+k1+"\n"), 0o600))
		withFile := map[string]string{"TEND_ENCRYPTION_KEY_FILE": file}
		code, out, errOut = runEnv(t, db, withFile, "keys", "status")
		require.Equal(t, 0, code, errOut)
		ids := db.Keyring().IDs()
		require.Contains(t, out, "key "+ids[1]+" is still used by")
		code, _, errOut = runEnv(t, db, withFile, "keys", "rotate", "--foreground")
		require.Equal(t, 0, code, errOut)
		code, out, errOut = runEnv(t, db, withFile, "keys", "status", "--json")
		require.Equal(t, 0, code, errOut)
		var s rekey.Status
		require.NoError(t, json.Unmarshal([]byte(out), &s))
		require.Equal(t, []string{ids[0]}, s.InUse())
		require.Zero(t, s.Totals[""])
		code, out, _ = runEnv(t, db, withFile, "keys", "status")
		require.Equal(t, 0, code)
		require.Contains(t, out, "key "+ids[1]+" is no longer used: it can be removed")

		// Queued for a server: the job is in the queue.
		code, out, errOut = runEnv(t, db, withFile, "keys", "rotate")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "queued")
		running, err := rekey.Running(context.Background(), db.Q())
		require.NoError(t, err)
		require.True(t, running)
		code, out, errOut = runEnv(t, db, withFile, "keys", "rotate")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "already under way", "one rotation at a time")

		code, _, _ = runEnv(t, db, map[string]string{}, "keys", "shred")
		require.Equal(t, 2, code)
	})
}
