package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// `tend patients export` prints everything held about a patient;
// `tend patients erase` says what it would erase, and erases with --yes;
// each command that touches patients' data is in the audit trail as
// "cli:<os user>"; `tend audit verify` checks the chain and names the
// first broken row (exit 1). Both stores.
func TestPatientsExportEraseAndAudit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		code, _, errOut := run(t, db, "", "patients", "import", "--sample")
		require.Equal(t, 0, code, errOut)
		code, _, errOut = run(t, db, "", "patients", "import", "--dry-run", "--sample")
		require.Equal(t, 0, code, errOut)
		walter, err := patients.GetByExternalID(ctx, db.Q(), "MG-1002")
		require.NoError(t, err)
		subject := audit.Patient(walter.ID)

		code, out, errOut := run(t, db, "", "patients", "export", "MG-1002")
		require.Equal(t, 0, code, errOut)
		var x privacy.Export
		require.NoError(t, json.Unmarshal([]byte(out), &x))
		require.Equal(t, "Brooks", x.Patient.LastName)
		require.Equal(t, privacy.ExportFormat, x.Format)
		code, _, errOut = run(t, db, "", "patients", "export", "MG-9999")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "no patient")

		code, out, errOut = run(t, db, "", "patients", "erase", strconv.FormatInt(walter.ID, 10))
		require.Equal(t, 1, code)
		require.Contains(t, out, "would be erased")
		require.Contains(t, errOut, "--yes")
		p, err := patients.Get(ctx, db.Q(), walter.ID)
		require.NoError(t, err)
		require.Equal(t, "Walter", p.FirstName, "nothing erased without --yes")

		code, out, errOut = run(t, db, "", "patients", "erase", "--yes", "MG-1002")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "erased")
		p, err = patients.Get(ctx, db.Q(), walter.ID)
		require.NoError(t, err)
		require.Empty(t, p.FirstName+p.LastName+p.Phone+p.Email+p.BirthDate)

		code, _, errOut = run(t, db, "", "patients", "unlock", "MG-1001")
		require.Equal(t, 0, code, errOut)
		rosa, err := patients.GetByExternalID(ctx, db.Q(), "MG-1001")
		require.NoError(t, err)

		rows, err := audit.List(ctx, db.Q(), audit.Filter{})
		require.NoError(t, err)
		var got []string
		for i := len(rows) - 1; i >= 0; i-- {
			r := rows[i]
			require.True(t, strings.HasPrefix(r.Actor, "cli:"), r.Actor)
			require.Contains(t, string(r.Detail), `"via":"os-user"`)
			got = append(got, r.Action+" "+r.Subject)
		}
		require.Equal(t, []string{"patients.import ", "patient.export " + subject, "patient.erase " + subject,
			"patient.verification.unlock " + audit.Patient(rosa.ID)}, got, "a dry run and a refused erase change nothing")

		code, out, errOut = run(t, db, "", "audit", "verify")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "intact: 4 rows")
		code, out, errOut = run(t, db, "", "audit", "list", "--subject", subject)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "patient.erase")
		require.Contains(t, out, "patient.export")
		require.NotContains(t, out, "Brooks")

		// Someone with the database's keys changes a row.
		if db.Dialect() == store.Postgres {
			_, err = db.Q().Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
		} else {
			_, err = db.Q().Exec(ctx, `DROP TRIGGER audit_log_no_update`)
		}
		require.NoError(t, err)
		_, err = db.Q().Exec(ctx, `UPDATE audit_log SET actor = 'cli:nobody' WHERE seq = 2`)
		require.NoError(t, err)
		code, _, errOut = run(t, db, "", "audit", "verify")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "broken at row 2")
	})
}

// `tend kb sync` is in the audit trail with the index's generation, and the
// server does not record the same change again.
func TestKBSyncIsAudited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "flu.md"), []byte("## How much is a flu shot?\n\nA flu shot costs $30.\n"), 0o600))
		r := runCLI(t, db, "kb", "sync", dir)
		require.Equal(t, 0, r.code, r.stderr)
		rows, err := audit.List(ctx, db.Q(), audit.Filter{Action: "kb."})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		require.Equal(t, "kb.sync", rows[0].Action)
		require.True(t, strings.HasPrefix(rows[0].Actor, "cli:"))
		require.Contains(t, string(rows[0].Detail), `"generation":1`)
		require.NoError(t, privacy.RecordKBChange(ctx, db, time.Now()))
		rows, err = audit.List(ctx, db.Q(), audit.Filter{Action: "kb."})
		require.NoError(t, err)
		require.Len(t, rows, 1, "already recorded")
	})
}
