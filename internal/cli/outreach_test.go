package cli

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/dialogs/campaign"
	"github.com/tend-health/tend/dialogs/survey"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestVisitsImport: `tend visits import` schedules one survey per visit,
// once, and reports bad rows by line with nothing recorded.
func TestVisitsImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		env, out, errb := testEnv(t, db)
		ctx := context.Background()
		require.Equal(t, 0, Main(ctx, []string{"patients", "import", "--sample"}, env), errb.String())
		end := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		file := write(t, "visits.csv", fmt.Sprintf("visit_id,patient,provider,location,ended_at\nV1,MG-1001,chen,main,%s\nV2,MG-1003,patel,main,%s\n", end, end))
		require.Equal(t, 0, Main(ctx, []string{"visits", "import", file}, env), errb.String())
		require.Contains(t, out.String(), "2 visits: 2 surveys scheduled")
		require.Equal(t, 0, Main(ctx, []string{"visits", "import", file}, env), errb.String())
		require.Contains(t, out.String(), "2 visits: 0 surveys scheduled, 2 already known")
		list, err := survey.List(ctx, db.Q(), survey.Filter{})
		require.NoError(t, err)
		require.Len(t, list, 2)

		bad := write(t, "bad.csv", "visit_id,patient,ended_at\nV3,MG-1001,yesterday\n")
		require.Equal(t, 1, Main(ctx, []string{"visits", "import", bad}, env))
		require.Contains(t, errb.String(), `line 2: ended_at "yesterday"`)
		unknown := write(t, "unknown.json", fmt.Sprintf(`[{"visit_id": "V4", "patient": "MG-9999", "ended_at": %q}]`, end))
		require.Equal(t, 1, Main(ctx, []string{"visits", "import", unknown}, env))
		require.Contains(t, errb.String(), "no patient with that record number (nothing recorded)")
	})
}

// TestCampaignPreviewAndRun: the bundled refill campaign over imported
// due items; previews name exclusions by record number; a second run
// queues nothing.
func TestCampaignPreviewAndRun(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	env, out, errb := testEnv(t, db)
	ctx := context.Background()
	require.Equal(t, 0, Main(ctx, []string{"patients", "import", "--sample"}, env), errb.String())
	require.Equal(t, 0, Main(ctx, []string{"campaign", "examples"}, env))
	require.Contains(t, out.String(), "# refill.yaml")
	refill := write(t, "refill.yaml", string(examplesFile(t, "refill.yaml")))
	require.Equal(t, 0, Main(ctx, []string{"campaign", "preview", refill}, env), errb.String())
	require.Contains(t, out.String(), "audience: 0 patients match; 0 can be sent, 0 excluded")

	soon := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	due := write(t, "due.csv", "patient,item,due\nMG-1001,prescription,"+soon+"\nMG-1003,prescription,"+soon+"\n")
	require.Equal(t, 0, Main(ctx, []string{"campaign", "due", "import", due}, env), errb.String())
	// Rosa is reachable on the web chat she used; Grace has no chat yet.
	_, err := db.Q().Exec(ctx, `INSERT INTO conversations (channel, chat_id, lang, patient_id, created_at, updated_at)
		SELECT 'web', 'rosa-chat', 'es', id, $1, $1 FROM patients WHERE external_id = 'MG-1001'`, time.Now())
	require.NoError(t, err)
	out.Reset()
	require.Equal(t, 0, Main(ctx, []string{"campaign", "preview", refill}, env), errb.String())
	require.Contains(t, out.String(), "audience: 2 patients match; 1 can be sent, 1 excluded")
	require.Contains(t, out.String(), "excluded, unreachable: 1 (MG-1003)")
	require.Contains(t, out.String(), "sample for MG-1001 (web, es):\n  Hola Rosa, una receta de Maple Grove Family Clinic vence el "+soon)
	out.Reset()
	require.Equal(t, 0, Main(ctx, []string{"campaign", "run", refill}, env), errb.String())
	require.Contains(t, out.String(), "queued: 1 now, 0 by an earlier run")
	out.Reset()
	require.Equal(t, 0, Main(ctx, []string{"campaign", "run", refill}, env), errb.String())
	require.Contains(t, out.String(), "queued: 0 now, 1 by an earlier run (not sent again)")
	require.NotContains(t, out.String(), "Alvarez", "no names beyond the sample's first name")

	bad := write(t, "bad.yaml", "id: x\nname: y\nmessage: {en: 'hi {{.Nope}}'}\n")
	require.Equal(t, 1, Main(ctx, []string{"campaign", "preview", bad}, env))
	require.Contains(t, errb.String(), "message.en")
}

func examplesFile(t *testing.T, name string) []byte {
	t.Helper()
	b, ok := campaign.Examples()[name]
	require.True(t, ok, name)
	return b
}
