package booking_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

const staff = "staff-token-0123456789"

func (e *env) do(method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+staff)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.http.ServeHTTP(rec, req)
	return rec
}

func TestStaffAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	_, a := bookFar(t, e)

	rec := e.get("/api/v1/appointments?from=2026-12-01&to=2026-12-31&provider=chen", staff)
	require.Equal(t, http.StatusOK, rec.Code)
	var list struct {
		Appointments []struct {
			ID          int64  `json:"id"`
			PatientName string `json:"patient_name"`
			Status      string `json:"status"`
		} `json:"appointments"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	require.Len(t, list.Appointments, 1)
	require.Equal(t, a.ID, list.Appointments[0].ID)
	require.Equal(t, "Rosa Alvarez", list.Appointments[0].PatientName)
	rec = e.get("/api/v1/appointments?provider=patel", staff)
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	require.Empty(t, list.Appointments)
	require.Equal(t, http.StatusBadRequest, e.get("/api/v1/appointments?from=yesterday", staff).Code)

	rec = e.get("/api/v1/schedule/slots?provider=chen&visit_type=new-patient&limit=2", staff)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `"provider":"chen"`)
	require.Equal(t, http.StatusBadRequest, e.get("/api/v1/schedule/slots?provider=nobody&visit_type=follow-up", staff).Code)

	// A schedule with errors: 422, every problem listed, nothing imported.
	rec = e.get("/api/v1/schedule", staff)
	require.Equal(t, http.StatusOK, rec.Code)
	var cur struct {
		Version  int64               `json:"version"`
		Schedule scheduling.Schedule `json:"schedule"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &cur))
	bad := cur.Schedule
	bad.Providers = bad.Providers[1:] // drop Dr. Chen, who has an upcoming appointment
	body, _ := json.Marshal(bad)
	rec = e.do("PUT", "/api/v1/schedule", string(body))
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "unknown provider")
	require.Equal(t, http.StatusUnprocessableEntity, e.do("PUT", "/api/v1/schedule", `{"locations": 7}`).Code)
	good, _ := json.Marshal(cur.Schedule)
	rec = e.do("PUT", "/api/v1/schedule", string(good))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), `"version":`)

	// Patients: JSON import with line (index) errors, then success.
	rec = e.do("POST", "/api/v1/patients", `[{"external_id":"X-1","first_name":"Ann","last_name":"Lee","birth_date":"1990-02-30","phone":"555"}]`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Contains(t, rec.Body.String(), `"line":1`)
	rec = e.do("POST", "/api/v1/patients", `[{"external_id":"X-1","first_name":"Ann","last_name":"Lee","birth_date":"1990-02-03","phone":"5550149999","consent_reminders":true}]`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = e.get("/api/v1/patients", staff)
	require.Contains(t, rec.Body.String(), `"external_id":"X-1"`)
	require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/patients", "wrong-token-0123456789").Code)
}

// TestPatientImportRefusesCrossSite: a form on another site could make a
// staff member's browser POST /api/v1/patients with the admin cookie and
// import a patient with a phone number of the attacker's choosing (which
// then passed verification). The cookie now needs the same origin and the
// CSRF token; JSON must be sent as application/json, one value, nothing
// after it. Scripts with the bearer token are not affected.
func TestPatientImportRefusesCrossSite(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		body := `[{"external_id":"X-9","first_name":"Eve","last_name":"Mallory","birth_date":"1950-01-01","phone":"5550100999"}]`
		try := func(ct string, hdr map[string]string, cookie string, b string) int {
			req := httptest.NewRequest("POST", "http://tend.example/api/v1/patients", strings.NewReader(b))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			if cookie != "" {
				req.AddCookie(&http.Cookie{Name: httpserver.AdminCookie, Value: cookie})
			}
			rec := httptest.NewRecorder()
			e.http.ServeHTTP(rec, req)
			return rec.Code
		}
		imported := func() bool {
			var n int
			require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT count(*) FROM patients WHERE external_id = 'X-9'`).Scan(&n))
			return n > 0
		}
		browserKey, csrf := httpserver.AdminBrowserKey(staff), httpserver.CSRFToken(staff)
		crossSite := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
		// The attack as a form sends it (text/plain to avoid a preflight), and as JSON.
		require.Equal(t, http.StatusForbidden, try("text/plain", crossSite, staff, body))
		require.Equal(t, http.StatusForbidden, try("application/json", crossSite, browserKey, body))
		require.Equal(t, http.StatusForbidden, try("application/json", map[string]string{"Origin": "http://tend.example"}, browserKey, body),
			"same origin without the CSRF token")
		require.False(t, imported())

		// Content types and trailing bytes, even with the bearer token.
		bearer := map[string]string{"Authorization": "Bearer " + staff}
		require.Equal(t, http.StatusUnsupportedMediaType, try("", bearer, "", body))
		require.Equal(t, http.StatusUnsupportedMediaType, try("application/jsonp", bearer, "", body))
		require.Equal(t, http.StatusUnsupportedMediaType, try("text/plain", bearer, "", body))
		require.Equal(t, http.StatusBadRequest, try("application/json", bearer, "", body+`[]`))
		require.False(t, imported())

		// The admin page itself (same origin, CSRF token), and a script.
		require.Equal(t, http.StatusOK, try("application/json", map[string]string{"Origin": "http://tend.example",
			"Sec-Fetch-Site": "same-origin", httpserver.CSRFHeader: csrf}, browserKey, body))
		require.True(t, imported())
		require.Equal(t, http.StatusOK, try("application/json; charset=utf-8", bearer, "", body))
	})
}
