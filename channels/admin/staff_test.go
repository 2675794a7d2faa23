package admin_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

// clinic loads the sample clinic's patients and schedule and books Rosa
// Alvarez (MG-1001) with Dr. Chen; it returns her id.
func (e *env) clinic(t testing.TB) int64 {
	t.Helper()
	ctx := context.Background()
	ps, err := patients.ParseCSV(strings.NewReader(string(sample.PatientsCSV())), time.Now())
	require.NoError(t, err)
	require.NoError(t, patients.Import(ctx, e.db, ps, time.Now()))
	s, err := scheduling.ParseYAML(sample.ScheduleYAML())
	require.NoError(t, err)
	require.NoError(t, e.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := scheduling.Save(ctx, tx, s, "test", time.Now())
		return err
	}))
	rosa, err := patients.GetByExternalID(ctx, e.db.Q(), "MG-1001")
	require.NoError(t, err)
	svc := scheduling.NewService(nil, nil, nil)
	slots, err := svc.FreeSlots(ctx, e.db.Q(), "chen", "follow-up", time.Now(), time.Time{}, 1)
	require.NoError(t, err)
	require.NotEmpty(t, slots)
	require.NoError(t, e.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := svc.Book(ctx, tx.Q, scheduling.BookRequest{PatientID: rosa.ID, VisitType: "follow-up", Slot: slots[0]})
		return err
	}))
	require.NoError(t, consent.Set(ctx, e.db.Q(), consent.PatientSubject(rosa.ID), "", consent.Campaigns, false, "front desk", time.Now()))
	return rosa.ID
}

// page GETs a console page (or any answer that is not JSON) with a bearer token.
func (e *env) page(t testing.TB, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestPatientsThroughTheAPI: staff find a patient by record number, name
// or phone; opening the patient shows consent with its events and the
// appointments with provider and location by name; the search and the
// opening are in the audit trail (the search without what was typed);
// editors may not.
func TestPatientsThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		staff := e.token(t, "front-desk", accounts.Staff)
		ed := e.token(t, "kb-bot", accounts.Editor)
		rosa := e.clinic(t)

		var found []struct {
			ID                        int64
			Record, Name, Phone, Born string
		}
		for _, q := range []string{"MG-1001", "rosa alv", "(555) 014-2001"} {
			require.Equal(t, 200, e.call(t, "GET", "/api/v1/patients/search?q="+strings.ReplaceAll(q, " ", "+"), staff, nil, nil, &found), q)
			require.Len(t, found, 1, q)
			require.Equal(t, rosa, found[0].ID, q)
			require.Equal(t, "Rosa Alvarez", found[0].Name)
			require.NotContains(t, found[0].Phone, "014-2001", "masked in a list")
		}
		require.Equal(t, 403, e.call(t, "GET", "/api/v1/patients/search?q=rosa", ed, nil, nil, nil))

		var v struct {
			Patient      patients.Patient
			Consent      []consent.State
			Events       []consent.Event `json:"consent_events"`
			Appointments []struct {
				ProviderName string `json:"provider_name"`
				LocationName string `json:"location_name"`
				VisitType    string `json:"visit_type_name"`
			}
		}
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/patients/"+itoa(rosa)+"/card", staff, nil, nil, &v))
		require.Equal(t, "MG-1001", v.Patient.ExternalID)
		require.Len(t, v.Appointments, 1)
		require.Equal(t, "Dr. Emily Chen", v.Appointments[0].ProviderName)
		require.NotEqual(t, "main", v.Appointments[0].LocationName)
		require.Equal(t, "Follow-up visit", v.Appointments[0].VisitType)
		require.Len(t, v.Events, 1)
		require.Equal(t, consent.Campaigns, v.Events[0].Purpose)
		require.Equal(t, 404, e.call(t, "GET", "/api/v1/patients/999999/card", staff, nil, nil, nil))

		code, html := e.page(t, "/admin/appointments?days=62", staff)
		require.Equal(t, 200, code)
		require.Contains(t, html, "Dr. Emily Chen")
		require.Contains(t, html, "MG-1001")

		rows, err := audit.List(context.Background(), db.Q(), audit.Filter{})
		require.NoError(t, err)
		var seen []string
		for _, r := range rows {
			require.NotContains(t, string(r.Detail), "rosa", "what was typed is not recorded")
			if r.Action == "patient.card.read" || r.Action == "patients.search.result" {
				seen = append(seen, r.Action+" "+r.Subject+" "+r.Actor)
			}
		}
		require.Contains(t, seen, "patient.card.read patient:"+itoa(rosa)+" token:front-desk")
		require.Contains(t, seen, "patients.search.result  token:front-desk")
	})
}

// TestEmergencyFlagsThroughTheAPI: a conversation triage flags is listed
// with its open request, and still listed once the request is resolved;
// its conversation view has the transcript and the consent state.
func TestEmergencyFlagsThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		staff := e.token(t, "front-desk", accounts.Staff)
		e.patientSays(t, "f1", "I have crushing chest pain and can't breathe")
		var flags []struct {
			ConversationID int64 `json:"conversation_id"`
			Handoff        *struct {
				ID     int64
				Status string
			}
		}
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/flags", staff, nil, nil, &flags))
		require.Len(t, flags, 1)
		require.NotNil(t, flags[0].Handoff)
		first := flags[0]
		require.Equal(t, 200, e.call(t, "POST", "/api/v1/handoffs/"+itoa(first.Handoff.ID)+"/resolve", staff, nil, nil, nil))
		flags = nil
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/flags", staff, nil, nil, &flags))
		require.Len(t, flags, 1, "listed without a request too")
		require.Nil(t, flags[0].Handoff)
		handoffID := first.Handoff.ID

		var c struct {
			Channel    string
			FlaggedAt  *time.Time `json:"flagged_at"`
			Transcript []struct{ Role, Text string }
			Consent    []consent.State
		}
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/conversations/"+itoa(flags[0].ConversationID), staff, nil, nil, &c))
		require.Equal(t, "cli", c.Channel)
		require.NotNil(t, c.FlaggedAt)
		require.Equal(t, "I have crushing chest pain and can't breathe", c.Transcript[0].Text)
		require.NotNil(t, c.Consent)
		code, html := e.page(t, "/admin/inbox", staff)
		require.Equal(t, 200, code)
		require.Contains(t, html, `data-conversation="`+itoa(flags[0].ConversationID)+`"`)
		for _, path := range []string{"/admin/conversations/" + itoa(flags[0].ConversationID), "/admin/inbox/" + itoa(handoffID)} {
			code, html = e.page(t, path, staff)
			require.Equal(t, 200, code, path)
			require.Contains(t, html, "<h2>Consent</h2>", path)
			require.Contains(t, html, "Back to the inbox</a></p>", path)
			require.Contains(t, html, "</html>", "%s: the whole page", path)
		}
	})
}
