package privacy_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestConfigAndKnowledgeChanges: what changed in the configuration since
// the last start is recorded once (the names, never the values), a new
// triage rules file or new content in it as "triage.load", and a knowledge
// base re-indexed by something that recorded nothing as "kb.change". Both
// stores.
func TestConfigAndKnowledgeChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		rules := filepath.Join(dir, "rules.yaml")
		require.NoError(t, os.WriteFile(rules, []byte("version: 1\n"), 0o600))
		env := map[string]string{"TEND_DATA_DIR": dir, "TEND_TRIAGE_FILE": rules, "TEND_ADMIN_TOKEN": "a-secret-admin-token-42"}
		load := func() config.Config {
			t.Helper()
			c, err := config.LoadFrom(env)
			require.NoError(t, err)
			return c
		}
		now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
		record := func() []audit.Row {
			t.Helper()
			before, _, err := audit.Head(ctx, db.Q())
			require.NoError(t, err)
			require.NoError(t, privacy.RecordConfigChanges(ctx, db, load(), now))
			rows, err := audit.List(ctx, db.Q(), audit.Filter{})
			require.NoError(t, err)
			var out []audit.Row
			for _, r := range rows {
				if r.Seq > before {
					out = append([]audit.Row{r}, out...)
				}
			}
			return out
		}
		changed := func(r audit.Row) []string {
			var d struct{ Changed []string }
			require.NoError(t, json.Unmarshal(r.Detail, &d))
			return d.Changed
		}

		rows := record()
		require.Len(t, rows, 2)
		require.Equal(t, "triage.load", rows[0].Action)
		require.Equal(t, "system:start", rows[0].Actor)
		require.Contains(t, string(rows[0].Detail), `"rules":"file"`)
		require.Equal(t, "config.change", rows[1].Action)
		require.Equal(t, []string{"TEND_ADMIN_TOKEN", "TEND_DATA_DIR"}, changed(rows[1]))
		require.NotContains(t, string(rows[1].Detail), "a-secret-admin-token-42")

		require.Empty(t, record(), "nothing changed")

		require.NoError(t, os.WriteFile(rules, []byte("version: 1\n# reviewed\n"), 0o600))
		rows = record()
		require.Len(t, rows, 1)
		require.Equal(t, "triage.load", rows[0].Action)

		env["TEND_WEB_RATE_PER_MINUTE"] = "20"
		env["TEND_ADMIN_TOKEN"] = "another-secret-admin-token"
		rows = record()
		require.Len(t, rows, 1)
		require.Equal(t, []string{"TEND_WEB_RATE_PER_MINUTE"}, changed(rows[0]),
			"without an encryption key a secret counts only as set or not")

		// With an encryption key, a secret's keyed hash is kept: a new admin
		// token is a change (its value is never kept).
		storetest.Sealed(t, db)
		rows = record()
		require.Len(t, rows, 1)
		require.Equal(t, []string{"TEND_ADMIN_TOKEN"}, changed(rows[0]), "first seen under the key")
		require.Empty(t, record())
		env["TEND_ADMIN_TOKEN"] = "yet-another-secret-admin-token"
		rows = record()
		require.Len(t, rows, 1)
		require.Equal(t, []string{"TEND_ADMIN_TOKEN"}, changed(rows[0]))
		stored, err := db.Q().GetKV(ctx, "audit:config")
		require.NoError(t, err)
		require.NotContains(t, stored, "yet-another-secret-admin-token")

		// The knowledge base: nothing indexed yet, nothing to record; then
		// a sync the server did not record.
		require.NoError(t, privacy.RecordKBChange(ctx, db, now))
		_, err = db.Q().Exec(ctx, `UPDATE kb_state SET generation = 3, chunks = 42, synced_at = $1 WHERE id = 1`, now)
		require.NoError(t, err)
		require.NoError(t, privacy.RecordKBChange(ctx, db, now))
		require.NoError(t, privacy.RecordKBChange(ctx, db, now))
		kb, err := audit.List(ctx, db.Q(), audit.Filter{Action: "kb.change"})
		require.NoError(t, err)
		require.Len(t, kb, 1)
		require.Equal(t, "system:kb", kb[0].Actor)
		require.Contains(t, string(kb[0].Detail), `"generation":3`)
	})
}
