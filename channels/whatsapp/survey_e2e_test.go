package whatsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/dialogs/campaign"
	"github.com/tend-health/tend/dialogs/survey"
	"github.com/tend-health/tend/guards/optout"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// reportVisit tells Tend a visit took place, as the clinic's system does
// (POST /api/v1/visits).
func (e *env) reportVisit(id, patient string, ended time.Time) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"visit_id": id, "patient": patient, "provider": "chen", "location": "main",
		"visit_type": "follow-up", "ended_at": ended})
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/visits", bytes.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
}

// TestSurveyAndStopOnWhatsApp: a visit becomes a survey invitation after
// the delay (fake clock); the patient's 24-hour window has closed, so the
// survey template goes out, not the survey. When she answers, the held
// invitation and the 0-10 question arrive (11 options: numbered, and a
// typed "9" is 9), then the next question as a list she taps. STOP
// opts her out: the confirmation comes, the survey's reminder sends
// nothing, and a campaign preview and run exclude her as opted out.
func TestSurveyAndStopOnWhatsApp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sc := survey.DefaultConfig()
		camp := &campaign.Module{}
		optOut := optout.Hook(func(ctx context.Context, q store.Q, conv int64) error {
			return whatsapp.DiscardHeld(ctx, q, conv)
		})
		e := newEnv(t, db, withModules(&optout.Module{Hooks: []optout.Hook{optOut}}, &survey.Module{Config: &sc}, camp))
		bookingtest.LoadSamplePatients(t, db, e.clock.Now())
		grace := &waPatient{e: e, waID: "15550142003", name: "Grace Okafor"} // MG-1003: surveys and messages agreed
		setClock := func(at time.Time) { e.clock.Advance(at.Sub(e.clock.Now())) }
		jobs := apptest.NewJobs(t, db)

		// She wrote once, two days before her visit.
		grace.Send(t, "hi", "")
		lastWrote := e.clock.Now()
		e.clock.Advance(48 * time.Hour)
		e.reportVisit("V-77", "MG-1003", e.clock.Now())

		invite := jobs.FireNext(t, "survey", setClock)
		require.Contains(t, string(invite.EncodedArgs), `"invite"`)
		require.GreaterOrEqual(t, e.clock.Now().Sub(lastWrote), 48*time.Hour+sc.Delay)
		apptest.Settle(t, db, whatsapp.Channel, grace.waID, grace.handled)
		sent := e.api.SentTo(grace.waID)[grace.seen:]
		require.NotEmpty(t, sent)
		for _, m := range sent {
			require.Equal(t, "template", m.Type, "nothing free-form outside the window")
			require.Equal(t, "tend_survey_invitation", m.Template)
			require.Equal(t, "en_US", m.Language)
			require.Equal(t, []string{e.app.Clinic.Name}, m.Params, "no health details in the template")
		}
		require.Len(t, sent, 1, "one invitation template, not one per held message")
		grace.seen += len(sent)

		// She answers the template: the invitation and the 0-10 question,
		// held until now, come first.
		out := grace.Send(t, "Sure", "")
		require.Len(t, out, 3, "the invitation, the question, the thanks")
		require.Contains(t, out[0].Text, "Could you answer a few quick questions about your visit?")
		require.Equal(t, "Thank you! Please answer the question above: tap an answer or type it.", out[2].Text)
		scale := e.api.SentTo(grace.waID)[grace.seen-2]
		require.Contains(t, scale.Text, "How likely are you to recommend our clinic")
		require.Equal(t, "text", scale.Type, "eleven options are one more than a list holds")
		require.Contains(t, scale.Text, "0 · 1 · 2 · 3 · 4 · 5 · 6 · 7 · 8 · 9 · 10")

		out = grace.Send(t, "9", "")
		explained := e.api.SentTo(grace.waID)[grace.seen-1]
		require.Contains(t, explained.Text, "Did the provider explain things")
		require.Equal(t, "interactive", explained.Type)
		require.Equal(t, "list", explained.Interactive)
		require.Equal(t, []string{"Never", "Sometimes", "Usually", "Always", "Skip"}, titles(explained))
		require.Equal(t, 9, answers(t, db)["recommend"], "the typed 9 is 9, not the ninth option")

		out = grace.Send(t, "Always", out[len(out)-1].Buttons[3].Payload)
		require.Contains(t, out[len(out)-1].Text, "Did the provider listen carefully")
		require.Equal(t, "list", e.api.SentTo(grace.waID)[grace.seen-1].Interactive)

		// Until she says STOP, a campaign would reach her.
		c, err := campaign.Parse([]byte(`id: e2e-flu
name: Flu shots
audience: {patients: [MG-1003]}
message: {en: "Hello {{.FirstName}}, flu shots are in at {{.Clinic}}."}
buttons: [book, later, not_interested]
channels: [whatsapp]
`), "e2e.yaml")
		require.NoError(t, err)
		plan, err := camp.Service.Preview(context.Background(), c)
		require.NoError(t, err)
		require.Equal(t, 1, plan.Eligible)

		// STOP in the middle of the survey.
		out = grace.Send(t, "STOP", "")
		require.Len(t, out, 1)
		require.Contains(t, out[0].Text, "You're unsubscribed")
		p, err := patients.GetByExternalID(context.Background(), db.Q(), "MG-1003")
		require.NoError(t, err)
		subject := consent.Subject{PatientID: &p.ID, Channel: whatsapp.Channel, ChatID: grace.waID}
		for _, purpose := range []string{consent.Surveys, consent.Campaigns} {
			d, err := consent.Check(context.Background(), db.Q(), subject, &p, purpose)
			require.NoError(t, err)
			require.False(t, d.Allowed, purpose)
		}

		// Nothing further: the survey's reminder comes due and sends nothing.
		before := len(e.api.SentTo(grace.waID))
		remind := jobs.FireNext(t, "survey", setClock)
		require.Contains(t, string(remind.EncodedArgs), `"remind"`)
		apptest.Settle(t, db, whatsapp.Channel, grace.waID, grace.handled)

		// A campaign for her excludes her as opted out, in the preview and the run.
		preview, err := camp.Service.Preview(context.Background(), c)
		require.NoError(t, err)
		run, err := camp.Service.Run(context.Background(), c)
		require.NoError(t, err)
		for _, plan := range []campaign.Plan{preview, run} {
			require.Equal(t, 1, plan.Matched)
			require.Zero(t, plan.Eligible)
			require.Equal(t, []campaign.Exclusion{{Patient: "MG-1003", Reason: consent.ReasonOptedOut}}, plan.Exclusions)
		}
		require.Zero(t, run.Queued)
		require.Empty(t, jobs.Scheduled(t, "campaign_send"))
		apptest.Settle(t, db, whatsapp.Channel, grace.waID, grace.handled)
		require.Len(t, e.api.SentTo(grace.waID), before, "nothing after STOP")
	})
}

// answers are the survey's stored integer answers by linkId.
func answers(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	list, err := survey.List(context.Background(), db.Q(), survey.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	out := map[string]int{}
	for id, a := range list[0].Answers() {
		if a.ValueInteger != nil {
			out[id] = *a.ValueInteger
		}
	}
	return out
}
