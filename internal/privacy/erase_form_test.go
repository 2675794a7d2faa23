package privacy_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// The console's erase form names the console page to come back to; an
// address anywhere else is not followed (no open redirect), and programs
// get the JSON result.
func TestEraseFormComesBackToTheConsole(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		erase := func(record, next string) *httptest.ResponseRecorder {
			p := e.patient(record)
			form := url.Values{"next": {next}}
			r := httptest.NewRequest("POST", "/api/v1/patients/"+strconv.FormatInt(p.ID, 10)+"/erase", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", "Bearer "+staff)
			rec := httptest.NewRecorder()
			e.http.ServeHTTP(rec, r)
			return rec
		}
		rec := erase("MG-1001", "/admin/patients?erased=1")
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, "/admin/patients?erased=1", rec.Header().Get("Location"))

		for i, next := range []string{"https://evil.example/admin/", "//evil.example/admin/", "/admin/\r\nSet-Cookie: x=1"} {
			rec = erase([]string{"MG-1003", "MG-1004", "MG-1005"}[i], next)
			require.Equal(t, http.StatusOK, rec.Code, "%q: %s", next, rec.Body.String())
			require.Empty(t, rec.Header().Get("Location"))
			require.Equal(t, "application/json", strings.Split(rec.Header().Get("Content-Type"), ";")[0])
		}
	})
}
