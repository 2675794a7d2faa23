package privacy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestExport: `GET /api/v1/patients/{id}/export` answers everything held
// about Walter, decrypted (the store seals it): the registry record, his
// three conversations with every message, his appointments, his survey
// answers, his consent events (the STOP), his verification history (the
// wrong birth date typed with his e-mail), the Slack copy of his handoff,
// what he is due for; and the export is in the audit trail, with the
// actor, before it was answered. Both stores.
func TestExport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.Sealed(t, db)
		e := newEnv(t, db)
		web, wa := walterEverywhere(t, e)
		p := e.patient(walter.record)
		path := "/api/v1/patients/" + strconv.FormatInt(p.ID, 10) + "/export"

		rec := e.do("GET", path, "")
		require.Contains(t, rec.Header().Get("Content-Disposition"), "attachment")
		x := decode[privacy.Export](t, rec)
		require.Equal(t, privacy.ExportFormat, x.Format)
		require.Equal(t, walter.first, x.Patient.FirstName)
		require.Equal(t, walter.dob, x.Patient.BirthDate)
		require.Equal(t, walter.email, x.Patient.Email)

		byChat := map[string]privacy.ExportConversation{}
		for _, c := range x.Conversations {
			byChat[c.ChatID] = c
		}
		require.Len(t, byChat, 3)
		w := byChat[web.id]
		require.Contains(t, w.LinkedBy, "verified")
		var said, replied bool
		for _, m := range w.Messages {
			said = said || (m.Direction == "in" && strings.Contains(m.Text, "please call me on 555 014 2002"))
			replied = replied || (m.Direction == "out" && strings.Contains(string(m.Reply), "You're booked"))
		}
		require.True(t, said, "his own words, decrypted")
		require.True(t, replied, "the bot's replies, decrypted")
		require.NotNil(t, w.Verification)
		require.Len(t, w.Handoffs, 1)
		require.Contains(t, string(w.Handoffs[0].SlackCopy), "Walter Brooks", "the Slack copy, decrypted")
		require.Len(t, w.Unanswered, 1)
		require.Contains(t, byChat[wa.id].LinkedBy, "registry_phone")
		require.Len(t, byChat[wa.id].WhatsAppHeld, 1)
		require.Len(t, byChat[wa.id].Rejections, 1)
		require.Contains(t, byChat["web-guess"].LinkedBy, "identity_claim")

		require.GreaterOrEqual(t, len(x.Appointments), 2)
		require.Len(t, x.SurveyResponses, 1)
		require.Contains(t, string(x.SurveyResponses[0].Answers), "says thanks")
		stop := false
		for _, ev := range x.Consent.Events {
			stop = stop || (ev.Via == "whatsapp" && strings.HasPrefix(ev.Status, "stopped"))
		}
		require.True(t, stop, "%+v", x.Consent.Events)
		kinds := map[string]int{}
		for _, ev := range x.Verification.Events {
			kinds[ev.Kind]++
		}
		require.Positive(t, kinds["success"])
		require.Positive(t, kinds["failure"], "the wrong birth date typed with his e-mail")
		require.Len(t, x.DueItems, 1)
		require.Len(t, x.CampaignRequests, 1)

		rows, err := audit.List(ctx, db.Q(), audit.Filter{Subject: audit.Patient(p.ID), Action: "patient.export"})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		require.Equal(t, audit.ActorAdminToken, rows[0].Actor)
		require.JSONEq(t, `{"via":"bearer"}`, string(rows[0].Detail))
		again := decode[privacy.Export](t, e.do("GET", path, ""))
		require.Len(t, again.AccessLog, 2, "the next export lists the exports in its access log")

		// An export is refused without the token, and for nobody.
		r := e.do("GET", "/api/v1/patients/999999/export", "")
		require.Equal(t, http.StatusNotFound, r.Code)
		var none map[string]any
		require.NoError(t, json.Unmarshal(r.Body.Bytes(), &none))
	})
}
