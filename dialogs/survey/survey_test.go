package survey_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/survey"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

// wednesday8 is 08:00 the morning after the visit, when quiet hours end.
var wednesday8 = time.Date(2026, 3, 11, 8, 0, 0, 0, chicago)

// invite reports Rosa's visit and sends its invitation at 08:00 the next
// morning; it returns her WhatsApp chat and the response id.
func invite(t *testing.T, e *env) (*chat, int64) {
	t.Helper()
	s := e.visit("v-1001", "MG-1001", visitEnd)
	require.Equal(t, survey.StatusScheduled, s.Status)
	e.clock.Set(wednesday8)
	require.Zero(t, e.run(s.ResponseID, "invite"))
	c := e.chat("whatsapp", "15550142001")
	c.last = c.history()
	return c, s.ResponseID
}

// TestVisitBecomesInvitationAtTheRightHour: a visit ending at 18:30 is
// surveyed two hours later, but 20:30 is quiet, so the invitation is
// scheduled for 08:00; it goes out as a survey message with a template
// that names no health detail, and a worker that runs early snoozes.
func TestVisitBecomesInvitationAtTheRightHour(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		s := e.visit("v-1001", "MG-1001", visitEnd)
		require.True(t, s.InviteAt.Equal(wednesday8), "invite at %s", s.InviteAt.In(chicago))
		require.True(t, e.scheduledAt(s.ResponseID, "invite").Equal(wednesday8))
		require.Equal(t, "duplicate", e.visit("v-1001", "MG-1001", visitEnd).Status, "never twice per visit")

		// A job run in quiet hours (a queue backlog) waits for the morning.
		e.clock.Set(wednesday8.Add(-3 * time.Hour))
		require.Equal(t, 3*time.Hour, e.run(s.ResponseID, "invite"))
		require.Equal(t, survey.StatusScheduled, e.response(s.ResponseID).Status)

		e.clock.Set(wednesday8)
		require.Zero(t, e.run(s.ResponseID, "invite"))
		sent := e.chat("whatsapp", "15550142001").history()
		require.Len(t, sent, 2)
		require.Contains(t, sent[0].Text, "Gracias por visitar Maple Grove", "Rosa reads Spanish")
		require.Contains(t, sent[1].Text, "recomiende nuestra clínica")
		require.Len(t, sent[1].Buttons, 11, "0-10 as buttons")
		for _, m := range sent {
			require.Equal(t, bot.KindSurvey, m.Kind)
			require.Equal(t, &bot.Template{Purpose: "survey", Params: []string{"Maple Grove Family Clinic"}}, m.Template)
		}
		r := e.response(s.ResponseID)
		require.Equal(t, survey.StatusInvited, r.Status)
		require.True(t, r.ExpiresAt.Equal(wednesday8.Add(7*24*time.Hour)))
		require.True(t, e.scheduledAt(s.ResponseID, "remind").Equal(wednesday8.Add(48*time.Hour)))
		require.Zero(t, e.run(s.ResponseID, "invite"), "a repeated job sends nothing")
		require.Len(t, e.chat("whatsapp", "15550142001").history(), 2)
	})
}

// TestSkipLogicAndDetractorAlert: a low score asks for the reason, every
// answer is kept as a QuestionnaireResponse item, and staff get an alert
// with the answers.
func TestSkipLogicAndDetractorAlert(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		st := &staff{}
		e.mod.Service.Staff = st
		sched, err := scheduling.ParseYAML(sample.ScheduleYAML())
		require.NoError(t, err)
		require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := scheduling.Save(context.Background(), tx, sched, "test", visitEnd)
			return err
		}))
		c, id := invite(t, e)
		require.Contains(t, c.press("3"), "razón principal", "0-6 asks why")
		require.Contains(t, c.say("La espera fue muy larga"), "explicó las cosas")
		require.Contains(t, c.press("A veces"), "escuchó con atención")
		require.Contains(t, c.say("2"), "recepcionistas", "a typed option number")
		require.Contains(t, c.say("saltar"), "algo más")
		require.Contains(t, c.say("saltar"), "¡Gracias!")
		r := e.response(id)
		require.Equal(t, survey.StatusCompleted, r.Status)
		require.Equal(t, 3, *r.Score)
		require.Equal(t, survey.AlertSent, r.Alert)
		links := []string{}
		for _, it := range r.Items {
			links = append(links, it.LinkID)
		}
		require.Equal(t, []string{"recommend", "low-reason", "explained", "listened"}, links)
		alerts := st.list()
		require.Len(t, alerts, 1)
		require.Contains(t, alerts[0].summary, "3/10")
		require.Contains(t, alerts[0].summary, "(Dr. Emily Chen), patient MG-1001.", "the provider by name, the patient's record number")
		rec := e.do("GET", "/api/v1/surveys/responses?format=csv", adminToken, nil)
		rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		require.NoError(t, err)
		require.Equal(t, []string{"provider", "location"}, rows[0][5:7])
		require.Equal(t, []string{"Dr. Emily Chen", "Maple Grove Main Office"}, rows[1][5:7], "names, not ids")
		require.Equal(t, []string{"provider_id", "location_id"}, rows[0][len(rows[0])-2:])
		require.Equal(t, []string{"chen", "main"}, rows[1][len(rows[1])-2:])
		rec = e.do("GET", "/api/v1/surveys/summary", adminToken, nil)
		var sum struct {
			ByProvider []struct{ Key, Name string } `json:"by_provider"`
			ByLocation []struct{ Key, Name string } `json:"by_location"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &sum))
		require.Equal(t, "chen", sum.ByProvider[0].Key)
		require.Equal(t, "Dr. Emily Chen", sum.ByProvider[0].Name, "the summary names providers too")
		require.Equal(t, "Maple Grove Main Office", sum.ByLocation[0].Name)
		require.Equal(t, "La espera fue muy larga", alerts[0].answers[1].Answer)
		require.Equal(t, *r.ConversationID, alerts[0].conv)

		// A promoter skips the reason and raises nothing.
		s2 := e.visit("v-1003", "MG-1003", visitEnd)
		require.Zero(t, e.run(s2.ResponseID, "invite"))
		g := e.chat("whatsapp", "15550142003")
		g.last = g.history()
		require.Contains(t, g.say("9"), "explain things")
		require.Len(t, st.list(), 1)
	})
}

// TestResumeAfterAQuestion: a FAQ question in the middle is answered by
// the FAQ, then the survey picks up where it was; a typed "8" is a tap, and
// an out-of-range number is asked again politely.
func TestResumeAfterAQuestion(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c, id := invite(t, e)
		out := c.say("12")
		require.Contains(t, out, "del 0 al 10")
		require.Contains(t, c.say("8"), "explicó las cosas")
		c.send("How much does a flu shot cost?", "")
		require.Len(t, c.last, 3)
		require.Equal(t, "A flu shot costs $30 without insurance.", c.last[0].Text)
		// She asked in English, so the engine answers in English from here.
		require.Contains(t, c.last[1].Text, "back to our short survey")
		require.Contains(t, c.last[2].Text, "explain things")
		require.Equal(t, survey.StatusInProgress, e.response(id).Status, "partial answers kept")
		require.Contains(t, c.press("Always"), "listen carefully")
		require.Contains(t, c.say("casi siempre"), "receptionists", "an option named in either language")
	})
}

// TestStopMidSurvey: STOP in the middle stops the survey (answers kept)
// and every proactive message; no reminder follows; START resumes.
func TestStopMidSurvey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c, id := invite(t, e)
		c.press("10")
		out := c.say("STOP")
		require.Contains(t, out, "se ha dado de baja")
		r := e.response(id)
		require.Equal(t, survey.StatusStopped, r.Status)
		require.Equal(t, 10, *r.Score)
		require.Len(t, r.Items, 1)
		require.NotContains(t, c.say("Siempre"), "escuchó", "the survey no longer answers")
		before := len(c.history())
		e.clock.Set(wednesday8.Add(48 * time.Hour))
		require.Zero(t, e.run(id, "remind"))
		require.Len(t, c.history(), before, "no reminder after STOP")

		// Another visit is not surveyed while she is opted out.
		s := e.visit("v-1001b", "MG-1001", e.clock.Now())
		e.clock.Advance(3 * time.Hour)
		require.Zero(t, e.run(s.ResponseID, "invite"))
		require.Equal(t, "opted_out", e.response(s.ResponseID).Reason)
	})
}

// TestExpiryAndReminder: one reminder, then the invitation expires; later
// answers and old buttons get a polite "closed".
func TestExpiryAndReminder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c, id := invite(t, e)
		first := c.last
		e.clock.Set(wednesday8.Add(48 * time.Hour))
		require.Zero(t, e.run(id, "remind"))
		sent := c.history()
		require.Len(t, sent, 4)
		require.Contains(t, sent[2].Text, "recordatorio")
		require.Equal(t, bot.KindSurvey, sent[2].Kind)
		require.Zero(t, e.run(id, "remind"))
		require.Len(t, c.history(), 4, "at most one reminder")

		e.clock.Set(wednesday8.Add(7 * 24 * time.Hour))
		require.Zero(t, e.run(id, "expire"))
		require.Equal(t, survey.StatusExpired, e.response(id).Status)
		c.last = first
		require.Contains(t, c.press("7"), "encuesta ya se cerró")
		require.NotContains(t, c.say("7"), "explicó")
	})
}

// TestNoSurveyWithoutConsentOrTwice: a patient who declined reminders (and
// so surveys) is skipped; one survey at a time per patient.
func TestNoSurveyWithoutConsentOrTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	s := e.visit("v-1005", "MG-1005", visitEnd)
	e.clock.Set(wednesday8.Add(time.Hour)) // Helen lives on New York time
	require.Zero(t, e.run(s.ResponseID, "invite"))
	require.Equal(t, "no_consent", e.response(s.ResponseID).Reason)

	_, first := invite(t, e)
	second := e.visit("v-1001-2", "MG-1001", e.clock.Now())
	e.clock.Advance(2 * time.Hour)
	require.Zero(t, e.run(second.ResponseID, "invite"))
	require.Equal(t, survey.ReasonAnotherSurvey, e.response(second.ResponseID).Reason)
	require.Equal(t, survey.StatusInvited, e.response(first).Status)
}

// TestBookedAppointment: a visit booked in the chat is reported fulfilled
// by its appointment id; the invitation goes to the conversation it was
// booked in, at the visit's end plus the delay.
func TestBookedAppointment(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		c := e.chat("web", "grace-web")
		c.say("hello")
		conv, err := db.Q().FindConversation(ctx, "web", "grace-web")
		require.NoError(t, err)
		var apptID int64
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO appointments (patient_id, conversation_id, provider_id, location_id,
			visit_type, starts_at, ends_at, status, created_at, updated_at)
			SELECT id, $1, 'garcia', 'main', 'follow-up', $2, $3, 'booked', $2, $2 FROM patients WHERE external_id = 'MG-1003'
			RETURNING id`, conv.ID, visitEnd.Add(-5*time.Hour), visitEnd.Add(-4*time.Hour)).Scan(&apptID))
		e.clock.Set(visitEnd.Add(-4 * time.Hour)) // the visit just ended
		rec := e.do("POST", "/api/v1/visits", adminToken, map[string]any{"appointment_id": apptID})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"status":"scheduled"`)
		var out struct{ Visits []survey.Scheduled }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		require.True(t, out.Visits[0].InviteAt.Equal(visitEnd.Add(-2*time.Hour)), "two hours after the 14:30 end")
		e.clock.Set(out.Visits[0].InviteAt)
		require.Zero(t, e.run(out.Visits[0].ResponseID, "invite"))
		require.Contains(t, c.say("9"), "explain things", "typed in the booking conversation")
		r := e.response(out.Visits[0].ResponseID)
		require.Equal(t, "garcia", r.ProviderID)
		require.Equal(t, conv.ID, *r.ConversationID)

		bad := e.do("POST", "/api/v1/visits", adminToken, map[string]any{"appointment_id": 999999})
		require.Equal(t, http.StatusUnprocessableEntity, bad.Code)
		require.Equal(t, http.StatusUnauthorized, e.do("POST", "/api/v1/visits", "", map[string]any{"appointment_id": apptID}).Code)
	})
}

// TestAgreeingToTheInvitation: "sure" (here "claro") in answer to the
// invitation is thanked, not called an error, and the question is not
// asked twice; a typed score then answers it.
func TestAgreeingToTheInvitation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c, id := invite(t, e)
	out := c.send("Claro", "")
	require.Len(t, out, 1)
	require.Equal(t, "¡Gracias! Por favor responda la pregunta de arriba: toque una respuesta o escríbala.", out[0].Text)
	require.Contains(t, joined(c.send("9", "")), "le explicó las cosas")
	require.Equal(t, 9, *e.response(id).Answers()["recommend"].ValueInteger)
}
