package prices_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

const adminToken = "staff-token-0123456789"

func TestAPIReplacesAndListsPriceLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cfg, err := config.LoadFrom(map[string]string{"TEND_ADMIN_TOKEN": adminToken, "TEND_DATA_DIR": t.TempDir()})
		require.NoError(t, err)
		a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Config: &cfg, Modules: []app.Module{&prices.Module{}}})
		h := a.HTTP.Handler()
		do := func(method, path, body, token string) (int, map[string]any) {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var out map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			return rec.Code, out
		}
		jsonFile := example(t, prices.JSON)
		code, _ := do("PUT", "/api/v1/prices/west-mercy.json", jsonFile, "")
		require.Equal(t, http.StatusUnauthorized, code)
		code, _ = do("PUT", "/api/v1/prices/west-mercy.json", jsonFile, "wrong-token-0123456789")
		require.Equal(t, http.StatusUnauthorized, code)

		code, out := do("PUT", "/api/v1/prices/west-mercy.json?dry_run=true", jsonFile, adminToken)
		require.Equal(t, http.StatusOK, code)
		require.EqualValues(t, 25, out["items"])
		code, out = do("GET", "/api/v1/prices", "", adminToken)
		require.Equal(t, http.StatusOK, code)
		require.Empty(t, out["lists"], "a dry run imports nothing")

		code, out = do("PUT", "/api/v1/prices/west-mercy.json", jsonFile, adminToken)
		require.Equal(t, http.StatusOK, code, out)
		require.EqualValues(t, 45, out["rates"])

		broken := strings.Replace(jsonFile, `"setting": "inpatient"`, `"setting": "ward"`, 1)
		code, out = do("PUT", "/api/v1/prices/west-mercy.json", broken, adminToken)
		require.Equal(t, http.StatusUnprocessableEntity, code)
		problems := out["problems"].([]any)
		require.Equal(t, "$.standard_charge_information[2].standard_charges[0]", problems[0].(map[string]any)["where"])
		require.Contains(t, problems[0].(map[string]any)["message"], `setting "ward"`)

		code, _ = do("PUT", "/api/v1/prices/prices.xlsx", "x", adminToken)
		require.Equal(t, http.StatusBadRequest, code)
		code, _ = do("PUT", "/api/v1/prices/..json", "x", adminToken)
		require.Equal(t, http.StatusBadRequest, code)

		code, out = do("GET", "/api/v1/prices", "", adminToken)
		require.Equal(t, http.StatusOK, code)
		lists := out["lists"].([]any)
		require.Len(t, lists, 1)
		l := lists[0].(map[string]any)
		require.Equal(t, "west-mercy.json", l["name"])
		require.Equal(t, "json", l["format"], "the broken upload left the list as it was")
		require.EqualValues(t, 25, l["items"])
		require.Equal(t, "2026-04-01", l["last_updated_on"])
	})
}

// TestPricesDirIsImportedAtStart: TEND_PRICES_DIR's files become price
// lists when the server starts; a broken file is skipped (and logged) and
// an unchanged file is not read again.
func TestPricesDirIsImportedAtStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		for _, f := range []prices.Format{prices.TallCSV, prices.JSON} {
			data, err := os.ReadFile(examples[f])
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(examples[f])), data, 0o600))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.csv"), []byte("a,b\n1,2\n"), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a price file"), 0o600))
		cfg, err := config.LoadFrom(map[string]string{"TEND_PRICES_DIR": dir, "TEND_DATA_DIR": t.TempDir()})
		require.NoError(t, err)
		a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Config: &cfg, Modules: []app.Module{&prices.Module{}},
			Start: true})
		a.Close() // waits for the start-up import

		c := prices.NewCatalog(db, nil)
		lists, err := c.Lists(context.Background(), db.Q())
		require.NoError(t, err)
		require.Len(t, lists, 2)
		require.Equal(t, "V3.0.0_Tall_CSV_Format_Example.csv", lists[0].Name)
		require.Equal(t, "v3_json_format_example.json", lists[1].Name)

		res, err := prices.ImportDir(context.Background(), c, dir, nil)
		require.NoError(t, err)
		require.Len(t, res, 3)
		for _, r := range res {
			if r.Name == "broken.csv" {
				require.False(t, r.Report.OK())
				require.False(t, r.Skipped)
			} else {
				require.True(t, r.Skipped, r.Name)
			}
		}

		_, err = prices.ImportDir(context.Background(), c, filepath.Join(dir, "missing"), nil)
		require.ErrorContains(t, err, "is not a readable folder")
	})
}
