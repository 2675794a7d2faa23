package optout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/campaign"
	"github.com/tend-health/tend/guards/optout"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// codeInbox keeps the one-time codes booking sends, for the test to type.
type codeInbox struct {
	mu   sync.Mutex
	last map[int64]string
}

func (c *codeInbox) SendCode(_ context.Context, to booking.Destination, code, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[int64]string{}
	}
	c.last[to.PatientID] = code
	return nil
}

func (c *codeInbox) code(id int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[id]
}

const consentAdmin = "consent-admin-token-1"

type patientEnv struct {
	t     *testing.T
	app   *app.App
	camp  *campaign.Module
	codes *codeInbox
	clock *clock.Fake
	n     int
}

func newPatientEnv(t *testing.T, db *store.DB) *patientEnv {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_ADMIN_TOKEN": consentAdmin})
	require.NoError(t, err)
	// Tuesday 2026-10-06, 10:00 in Maple Grove: outside quiet hours.
	e := &patientEnv{t: t, codes: &codeInbox{}, clock: clock.NewFake(time.Date(2026, 10, 6, 15, 0, 0, 0, time.UTC)),
		camp: &campaign.Module{Channels: func(string) bool { return true }}}
	bc := booking.DefaultConfig()
	bc.LinkSecret = "test"
	e.app, err = app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Clock: e.clock, Store: db, SkipMigrate: true,
		Modules: []app.Module{&optout.Module{}, &booking.Module{Config: &bc, Codes: e.codes}, e.camp}})
	require.NoError(t, err)
	t.Cleanup(e.app.Close)
	return e
}

func (e *patientEnv) say(channel, chat, text string, meta map[string]string) string {
	e.t.Helper()
	e.n++
	e.clock.Advance(time.Second)
	out, err := e.app.Engine.Handle(context.Background(), bot.Inbound{Channel: channel, ChatID: chat, SenderID: chat,
		MessageID: fmt.Sprint("m", e.n), Text: text, Meta: meta})
	require.NoError(e.t, err)
	return joined(out.Replies)
}

// campaignTo runs a campaign on one channel and reports whether a new
// campaign message reached the chat.
func (e *patientEnv) campaignTo(id, channel, chat string) (campaign.Plan, bool) {
	e.t.Helper()
	ctx := context.Background()
	before := e.campaignMessages(channel, chat)
	c, err := campaign.Parse([]byte(`id: `+id+`
name: Flu shots
audience: {min_age: 30}
message: {en: "Hello {{.FirstName}}, flu shots are in."}
channels: [`+channel+`]
`), "test.yaml")
	require.NoError(e.t, err)
	plan, err := e.camp.Service.Run(ctx, c)
	require.NoError(e.t, err)
	args := "args::text"
	if e.app.DB.Dialect() == store.SQLite {
		args = "json(args)"
	}
	rs, err := e.app.DB.Q().Query(ctx, `SELECT `+args+` FROM river_job WHERE kind = 'campaign_send' ORDER BY id`)
	require.NoError(e.t, err)
	var jobs []campaign.SendArgs
	for rs.Next() {
		var raw []byte
		require.NoError(e.t, rs.Scan(&raw))
		var a campaign.SendArgs
		require.NoError(e.t, json.Unmarshal(raw, &a))
		jobs = append(jobs, a)
	}
	rs.Close()
	for _, j := range jobs {
		require.NoError(e.t, e.app.DB.InTx(ctx, func(tx *store.Tx) error {
			_, err := e.camp.Service.Send(ctx, tx, j)
			return err
		}))
	}
	return plan, e.campaignMessages(channel, chat) > before
}

func (e *patientEnv) campaignMessages(channel, chat string) int {
	e.t.Helper()
	ctx := context.Background()
	conv, err := e.app.DB.Q().FindConversation(ctx, channel, chat)
	if err != nil {
		return 0
	}
	hist, err := e.app.Engine.History(ctx, conv.ID, 0, 100)
	require.NoError(e.t, err)
	n := 0
	for _, m := range hist {
		if m.Kind == bot.KindCampaign {
			n++
		}
	}
	return n
}

type consentView struct {
	Effective map[string]bool `json:"effective"`
	Events    []struct {
		Channel string `json:"channel"`
		Via     string `json:"via"`
		Purpose string `json:"purpose"`
		Status  string `json:"status"`
	} `json:"events"`
}

func (e *patientEnv) consentView(id int64) consentView {
	e.t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/patients/"+strconv.FormatInt(id, 10)+"/consent", nil)
	req.Header.Set("Authorization", "Bearer "+consentAdmin)
	rec := httptest.NewRecorder()
	e.app.HTTP.Handler().ServeHTTP(rec, req)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	var v consentView
	require.NoError(e.t, json.Unmarshal(rec.Body.Bytes(), &v))
	return v
}

// Issue 13, item 10: consent belongs to the patient. STOP on WhatsApp (the
// registry's number, never verified there) stops a campaign to the same
// patient known on Telegram; the staff view shows the opt-out with its
// channel; START on the web (verified) brings the campaign back.
func TestConsentBelongsToThePatient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPatientEnv(t, db)
		ctx := context.Background()
		p := patients.Patient{ExternalID: "MG-77", FirstName: "Nadia", LastName: "Park", BirthDate: "1968-04-12",
			Phone: "15550147777", Email: "nadia@example.com", Lang: "en", ConsentReminders: true, ConsentMessages: true}
		require.NoError(t, patients.Upsert(ctx, db.Q(), &p, e.clock.Now()))

		// Known on Telegram: verified by her shared contact and birth date.
		e.say("telegram", "tg-77", "I need a follow-up", nil)
		e.say("telegram", "tg-77", "+15550147777", map[string]string{bot.MetaPhone: "+15550147777"})
		require.Contains(t, e.say("telegram", "tg-77", "04/12/1968", nil), "Thank you, Nadia")

		// STOP on WhatsApp, from the registry's number.
		require.Contains(t, e.say("whatsapp", "15550147777", "STOP", nil), "You're unsubscribed")
		require.Contains(t, e.say("telegram", "tg-77", "HELP", nil), "You're currently unsubscribed", "HELP on Telegram knows")

		plan, sent := e.campaignTo("flu-1", "telegram", "tg-77")
		require.False(t, sent, "no campaign on Telegram after STOP on WhatsApp")
		require.Equal(t, map[string]int{"opted_out": 1}, plan.Excluded)

		view := e.consentView(p.ID)
		require.False(t, view.Effective["campaigns"])
		require.False(t, view.Effective["surveys"])
		require.True(t, view.Effective["reminders"], "STOP keeps reminders of booked visits")
		var said []string
		for _, ev := range view.Events {
			said = append(said, ev.Status+"/"+ev.Via)
		}
		require.Equal(t, []string{"stopped/whatsapp"}, said, "the opt-out, with the channel it was said on")

		// START on the web, verified by a code.
		e.say("web", "web-77", "my appointments", nil)
		e.say("web", "web-77", "nadia@example.com", nil)
		e.say("web", "web-77", "04/12/1968", nil)
		require.Contains(t, e.say("web", "web-77", e.codes.code(p.ID), nil), "Thank you, Nadia")
		require.Contains(t, e.say("web", "web-77", "START", nil), "subscribed again")

		plan, sent = e.campaignTo("flu-2", "telegram", "tg-77")
		require.True(t, sent, "START on the web brings Telegram back")
		require.Equal(t, 1, plan.Eligible)
		d, err := consent.Check(ctx, db.Q(), consent.Subject{PatientID: &p.ID, Channel: "whatsapp", ChatID: p.Phone}, &p,
			consent.Campaigns)
		require.NoError(t, err)
		require.True(t, d.Allowed, "and on WhatsApp, where she said STOP")

		view = e.consentView(p.ID)
		require.True(t, view.Effective["campaigns"])
		said = nil
		for _, ev := range view.Events {
			said = append(said, ev.Status+"/"+ev.Via)
		}
		require.Equal(t, []string{"stopped/whatsapp", "resumed/web"}, said)
	})
}
