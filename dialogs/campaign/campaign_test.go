package campaign_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/campaign"
	"github.com/tend-health/tend/guards/optout"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

const adminToken = "campaign-admin-token-01"

var chicago, _ = time.LoadLocation("America/Chicago")

// tuesday10 is Tuesday 2026-10-06, 10:00 in Maple Grove.
var tuesday10 = time.Date(2026, 10, 6, 10, 0, 0, 0, chicago)

type env struct {
	t     *testing.T
	app   *app.App
	mod   *campaign.Module
	clock *clock.Fake
	http  http.Handler
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_ADMIN_TOKEN": adminToken})
	require.NoError(t, err)
	e := &env{t: t, clock: clock.NewFake(tuesday10)}
	e.mod = &campaign.Module{Channels: func(string) bool { return true }}
	bc := booking.DefaultConfig()
	bc.LinkSecret = "test"
	e.app, err = app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Clock: e.clock, Store: db, SkipMigrate: true,
		Modules: []app.Module{&optout.Module{}, &booking.Module{Config: &bc}, e.mod}})
	require.NoError(t, err)
	t.Cleanup(e.app.Close)
	ctx := context.Background()
	ps, err := patients.ParseCSV(strings.NewReader(string(sample.PatientsCSV())), tuesday10)
	require.NoError(t, err)
	ps = append(ps,
		patients.Patient{ExternalID: "MG-2001", FirstName: "Nora", LastName: "Web", BirthDate: "1970-02-02", Email: "nora@example.com", ConsentMessages: true, ConsentReminders: true},
		patients.Patient{ExternalID: "MG-2002", FirstName: "Omar", LastName: "Ok", BirthDate: "1960-02-02", Phone: "15550142202", ConsentMessages: true, ConsentReminders: true, Lang: "en"},
		patients.Patient{ExternalID: "MG-2003", FirstName: "Pia", LastName: "Ok", BirthDate: "1975-02-02", Phone: "15550142203", ConsentMessages: true, ConsentReminders: true, Lang: "es"},
	)
	require.NoError(t, patients.Import(ctx, db, ps, tuesday10))
	e.http = e.app.HTTP.Handler()
	return e
}

func (e *env) patient(record string) patients.Patient {
	p, err := patients.GetByExternalID(context.Background(), e.app.DB.Q(), record)
	require.NoError(e.t, err)
	return p
}

func parse(t *testing.T, yaml string) *campaign.Campaign {
	t.Helper()
	c, err := campaign.Parse([]byte(yaml), "test.yaml")
	require.NoError(t, err)
	return c
}

const fluYAML = `id: test-flu
name: Test flu campaign
audience: {min_age: 30}
message:
  en: "Hello {{.FirstName}}, flu shots are in at {{.Clinic}}."
  es: "Hola {{.FirstName}}, ya hay vacunas en {{.Clinic}}."
buttons: [book, later, not_interested]
channels: [whatsapp, telegram, web]
frequency_cap: {max: 1, per_days: 7}
per_second: 2
`

// setUpExclusions makes one patient of each kind of exclusion: Grace
// opted out, Rosa capped by another campaign yesterday, Nora unreachable
// (no phone, no conversation); Walter, Luis and Helen never consented.
func (e *env) setUpExclusions() {
	ctx := context.Background()
	grace := e.patient("MG-1003")
	require.NoError(e.t, consent.Stop(ctx, e.app.DB.Q(), consent.PatientSubject(grace.ID), false, "keyword", nil, tuesday10))
	rosa := e.patient("MG-1001")
	_, err := e.app.DB.Q().Exec(ctx, `INSERT INTO campaign_deliveries (campaign_id, patient_id, channel, status, send_at,
		sent_at, created_at, updated_at) VALUES ('other', $1, 'whatsapp', 'sent', $2, $2, $2, $2)`, rosa.ID, tuesday10.Add(-24*time.Hour))
	require.NoError(e.t, err)
}

func (e *env) jobs() []campaign.SendArgs {
	e.t.Helper()
	return apptest.JobArgs[campaign.SendArgs](e.t, e.app.DB, "campaign_send")
}

// work runs a send job inline at the fake clock's time.
func (e *env) work(a campaign.SendArgs) time.Duration {
	e.t.Helper()
	var snooze time.Duration
	require.NoError(e.t, e.app.DB.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		snooze, err = e.mod.Service.Send(context.Background(), tx, a)
		return err
	}))
	return snooze
}

func (e *env) sent(chatID string) []bot.Sent {
	e.t.Helper()
	conv, err := e.app.DB.Q().FindConversation(context.Background(), "whatsapp", chatID)
	if err != nil {
		return nil
	}
	out, err := e.app.Engine.History(context.Background(), conv.ID, 0, 100)
	require.NoError(e.t, err)
	return out
}

// TestPreviewAndDoubleRunSendOnce: the preview counts the audience and
// names every exclusion; running twice queues once; the jobs send once.
func TestPreviewAndDoubleRunSendOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.setUpExclusions()
		c := parse(t, fluYAML)
		plan, err := e.mod.Service.Preview(context.Background(), c)
		require.NoError(t, err)
		require.Equal(t, 8, plan.Matched)
		require.Equal(t, 2, plan.Eligible)
		require.Equal(t, map[string]int{"no_consent": 3, "opted_out": 1, "unreachable": 1, "capped": 1}, plan.Excluded)
		require.Len(t, plan.Samples, 2)
		require.Equal(t, "Hello Omar, flu shots are in at Maple Grove Family Clinic.", plan.Samples[0].Text)
		require.Equal(t, "Hola Pia, ya hay vacunas en Maple Grove Family Clinic.", plan.Samples[1].Text)
		require.Equal(t, []string{"Reservar cita", "Recordarme luego", "No me interesa"}, plan.Samples[1].Buttons)
		require.Empty(t, e.jobs(), "a preview sends nothing")

		first, err := e.mod.Service.Run(context.Background(), c)
		require.NoError(t, err)
		require.Equal(t, 2, first.Queued)
		second, err := e.mod.Service.Run(context.Background(), c)
		require.NoError(t, err)
		require.Zero(t, second.Queued)
		require.Equal(t, 2, second.Already)
		jobs := e.jobs()
		require.Len(t, jobs, 2)
		for _, j := range jobs {
			require.Zero(t, e.work(j))
			require.Zero(t, e.work(j), "a job run twice sends once")
		}
		omar := e.sent("15550142202")
		require.Len(t, omar, 1)
		require.Equal(t, bot.KindCampaign, omar[0].Kind)
		require.Equal(t, &bot.Template{Purpose: "campaign", Params: []string{"Maple Grove Family Clinic"}}, omar[0].Template)
		require.Len(t, e.sent("15550142203"), 1)

		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/api/v1/campaigns/test-flu/deliveries", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		e.http.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		var body struct{ Deliveries []campaign.Delivery }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		statuses := map[string]int{}
		for _, d := range body.Deliveries {
			statuses[d.Status+"/"+d.Reason+"/"+d.Delivered]++
		}
		require.Equal(t, map[string]int{"sent//queued": 2, "excluded/no_consent/": 3, "excluded/opted_out/": 1,
			"excluded/unreachable/": 1, "excluded/capped/": 1}, statuses)

		// The staff page counts the outcomes.
		rec = httptest.NewRecorder()
		req = httptest.NewRequest("GET", "/admin/campaigns", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		e.http.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), `<tr data-campaign="test-flu"><td>test-flu</td>`)
		require.Contains(t, rec.Body.String(), "sent: 2")
		require.Contains(t, rec.Body.String(), "excluded: 6")
	})
}

// TestNobodyMatches: a filter that matches nobody previews as zero and
// sends nothing.
func TestNobodyMatches(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := parse(t, strings.Replace(fluYAML, "{min_age: 30}", "{min_age: 30, sex: [X]}", 1))
		plan, err := e.mod.Service.Preview(context.Background(), c)
		require.NoError(t, err)
		require.Zero(t, plan.Matched)
		require.Empty(t, plan.Samples)
		plan, err = e.mod.Service.Run(context.Background(), c)
		require.NoError(t, err)
		require.Zero(t, plan.Queued)
		require.Empty(t, e.jobs())
	})
}

// TestQuietHoursAndWindow: a run at 21:00 sends at 09:00 the next morning
// (quiet hours end at 8, the window opens at 9), spaced per channel; a job
// run early snoozes; a patient who opts out meanwhile is skipped.
func TestQuietHoursAndWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	e.clock.Set(time.Date(2026, 10, 6, 21, 0, 0, 0, chicago))
	c := parse(t, fluYAML+`window: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}`+"\n")
	_, err := e.mod.Service.Run(context.Background(), c)
	require.NoError(t, err)
	list, err := campaign.Deliveries(context.Background(), e.app.DB.Q(), "test-flu")
	require.NoError(t, err)
	var sendAt []time.Time
	for _, d := range list {
		if d.Status == campaign.StatusQueued {
			sendAt = append(sendAt, d.SendAt.In(chicago))
		}
	}
	nine := time.Date(2026, 10, 7, 9, 0, 0, 0, chicago)
	require.Len(t, sendAt, 4)
	require.True(t, sendAt[0].Equal(nine) || sendAt[1].Equal(nine), "%v", sendAt)
	jobs := e.jobs()
	require.Equal(t, 12*time.Hour, e.work(jobs[0]), "21:00 waits for 09:00")
	pia := e.patient("MG-2003")
	require.NoError(t, consent.Stop(context.Background(), e.app.DB.Q(), consent.PatientSubject(pia.ID), false, "keyword", nil, e.clock.Now()))
	e.clock.Set(nine.Add(time.Minute))
	for _, j := range jobs {
		e.work(j)
	}
	require.Empty(t, e.sent("15550142203"), "opted out after the run: skipped")
	require.Len(t, e.sent("15550142202"), 1)
}

// TestRepliesFlowIntoDialogs: Book now starts booking; Remind me later
// sends once more in three days; a typed "refill" records a request.
func TestRepliesFlowIntoDialogs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		_, err := e.mod.Service.Run(ctx, parse(t, strings.Replace(fluYAML, "{min_age: 30}", "{patients: [MG-2002]}", 1)))
		require.NoError(t, err)
		jobs := e.jobs()
		require.Len(t, jobs, 1)
		e.work(jobs[0])
		msg := e.sent("15550142202")[0]
		n := 0
		say := func(text, payload string) string {
			n++
			out, err := e.app.Engine.Handle(ctx, bot.Inbound{Channel: "whatsapp", ChatID: "15550142202", SenderID: "15550142202",
				MessageID: fmt.Sprint("m", n), Text: text, Payload: payload, Meta: map[string]string{bot.MetaPhone: "15550142202"}})
			require.NoError(t, err)
			var parts []string
			for _, r := range out.Replies {
				parts = append(parts, r.Text)
			}
			return strings.Join(parts, "\n")
		}
		require.Contains(t, say("Remind me later", msg.Buttons[1].Payload), "remind you in a few days")
		later := e.jobs()
		require.Len(t, later, 2)
		e.clock.Advance(campaign.LaterAfter)
		require.Zero(t, e.work(later[1]))
		again := e.sent("15550142202")
		require.Equal(t, msg.Text, again[len(again)-1].Text)
		require.Contains(t, say("Book now", msg.Buttons[0].Payload), "date of birth", "booking takes over")

		// A refill campaign, once the booking has lapsed: the due item, the
		// message, a typed "refill".
		e.clock.Advance(time.Hour)
		require.NoError(t, campaign.ImportDue(ctx, db, []campaign.DueRow{{Patient: "MG-2002", Item: "prescription",
			Due: e.clock.Now().In(chicago).AddDate(0, 0, 5).Format(time.DateOnly)}}, e.clock.Now()))
		_, err = e.mod.Service.Run(ctx, parse(t, string(campaign.Examples()["refill.yaml"])))
		require.NoError(t, err)
		all := e.jobs()
		e.work(all[len(all)-1])
		last := e.sent("15550142202")
		require.Contains(t, last[len(last)-1].Text, "ends on "+e.clock.Now().In(chicago).AddDate(0, 0, 5).Format(time.DateOnly))
		require.Contains(t, say("refill please", ""), "refill request to our staff")
		reqs, err := campaign.Requests(ctx, db.Q())
		require.NoError(t, err)
		require.Len(t, reqs, 1)
		require.Equal(t, "MG-2002", reqs[0]["patient"])
	})
}
