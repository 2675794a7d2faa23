package booking_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/scheduling"
)

const staff = "staff-token-0123456789"

func (e *env) do(method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+staff)
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
