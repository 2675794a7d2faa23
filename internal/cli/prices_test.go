package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

const pricesTestdata = "../prices/testdata/"

func TestPricesCommands(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tall := pricesTestdata + "V3.0.0_Tall_CSV_Format_Example.csv"
		r := runCLI(t, db, "prices", "import", "--dry-run", tall)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "is valid: 26 items, 45 payer-specific charges (csv-tall 3.0.0; nothing imported: --dry-run)")
		r = runCLI(t, db, "prices", "list")
		require.Contains(t, r.stdout, "no price lists")

		r = runCLI(t, db, "prices", "import", tall, pricesTestdata+"v3_json_format_example.json")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, `imported `+tall+` as price list "V3.0.0_Tall_CSV_Format_Example.csv": 26 items, 45 payer-specific charges (West Mercy Hospital, updated 2026-04-01)`)
		r = runCLI(t, db, "prices", "list")
		require.Equal(t, 2, strings.Count(r.stdout, "West Mercy Hospital, updated 2026-04-01"), r.stdout)
		require.Contains(t, r.stdout, "payers: Platform Health Insurance PPO, Region Health Insurance HMO")

		r = runCLI(t, db, "prices", "show", "CPT 70551")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "2 item(s) found by code CPT 70551")
		require.Contains(t, r.stdout, "MRI of brain (no contrast) — RC 611, CPT 70551 — outpatient")
		require.Contains(t, r.stdout, "discounted cash price: $1,080")
		require.Contains(t, r.stdout, "Platform Health Insurance / PPO: $400; methodology: fee schedule")
		r = runCLI(t, db, "prices", "show", "ER level 3")
		require.Contains(t, r.stdout, "Platform Health Insurance / PPO: 80 %; methodology: percent of total billed charges; "+
			"median $12,000.12; 10th percentile $5,123.74; 90th percentile $16,784.22; count 299")
		r = runCLI(t, db, "prices", "show", "--lang", "es", "resonancia del cerebro")
		require.Contains(t, r.stdout, "MRI of brain (no contrast)")
		r = runCLI(t, db, "prices", "show", "colonoscopy")
		require.Contains(t, r.stdout, "no item of the price lists matches")

		broken := filepath.Join(t.TempDir(), "V3.0.0_Tall_CSV_Format_Example.csv")
		data, err := os.ReadFile(tall)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(broken, []byte(strings.Replace(string(data), ",1080,", ",1O80,", 1)), 0o600))
		r = runCLI(t, db, "prices", "import", broken)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "line 4: standard_charge | discounted_cash: \"1O80\" is not a number")
		require.Contains(t, r.stderr, "1 of 1 files not imported")
		r = runCLI(t, db, "prices", "show", "CPT 70551")
		require.Contains(t, r.stdout, "2 item(s) found", "the previous list stays")

		r = runCLI(t, db, "prices", "import", "prices.xlsx")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "a price file ends in .json or .csv")
	})
}
