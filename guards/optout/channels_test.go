package optout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/guards/optout"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

type webReply struct {
	Replies []bot.Sent `json:"replies"`
}

func webSay(t *testing.T, h http.Handler, session, id, text, payload string) []bot.Sent {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"session": session, "id": id, "text": text, "payload": payload})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/web/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var r webReply
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r))
	return r.Replies
}

func newSession(t *testing.T, h http.Handler) string {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/web/sessions", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusCreated, rec.Code)
	var j struct{ Session string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &j))
	return j.Session
}

// TestWebStopStartHelp: on the web chat STOP confirms once and records the
// opt-out with its audit trail; the patient can still ask questions; the
// confirmation's button stops reminders too; START resumes; HELP gives the
// clinic's number and the menu. A linked patient is stopped on every channel.
func TestWebStopStartHelp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir()})
		require.NoError(t, err)
		a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Config: &cfg,
			Modules: []app.Module{&optout.Module{}, web.Module{}}})
		h := a.HTTP.Handler()
		ctx := context.Background()
		p := patients.Patient{ExternalID: "MG-9", FirstName: "Ana", LastName: "Ruiz", BirthDate: "1950-01-01",
			Phone: "15550000009", ConsentReminders: true, ConsentMessages: true}
		require.NoError(t, patients.Upsert(ctx, db.Q(), &p, time.Now()))

		s := newSession(t, h)
		webSay(t, h, s, "m1", "hello", "")
		var convID int64
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT id FROM conversations WHERE channel = 'web'`).Scan(&convID))
		conv, err := db.Q().GetConversation(ctx, convID)
		require.NoError(t, err)
		conv.PatientID = &p.ID // verified earlier, as booking records it
		require.NoError(t, db.Q().SaveConversation(ctx, &conv, time.Now()))

		out := webSay(t, h, s, "m2", "STOP", "")
		require.Len(t, out, 1)
		require.Contains(t, out[0].Text, "You're unsubscribed")
		require.Contains(t, out[0].Text, "reminders for visits you've already booked")
		require.Equal(t, "consent:stopall", out[0].Buttons[0].Payload)

		// Every channel of this patient is stopped, reminders are not.
		whatsapp := consent.Subject{PatientID: &p.ID, Channel: "whatsapp", ChatID: p.Phone}
		for purpose, allowed := range map[string]bool{consent.Campaigns: false, consent.Surveys: false, consent.Reminders: true} {
			d, err := consent.Check(ctx, db.Q(), whatsapp, &p, purpose)
			require.NoError(t, err)
			require.Equal(t, allowed, d.Allowed, purpose)
		}
		require.Contains(t, joined(webSay(t, h, s, "m3", "hello", "")), "Maple Grove", "the patient can still talk to us")

		out = webSay(t, h, s, "m4", "Stop reminders too", "consent:stopall")
		require.Contains(t, out[0].Text, "appointment reminders included")
		d, err := consent.Check(ctx, db.Q(), whatsapp, &p, consent.Reminders)
		require.NoError(t, err)
		require.False(t, d.Allowed)

		out = webSay(t, h, s, "m5", "START", "")
		require.Contains(t, out[0].Text, "subscribed again")
		d, err = consent.Check(ctx, db.Q(), whatsapp, &p, consent.Campaigns)
		require.NoError(t, err)
		require.True(t, d.Allowed, "START restores the registry's consent")

		out = webSay(t, h, s, "m6", "HELP", "")
		require.Contains(t, out[0].Text, "(555) 014-2000")
		require.Contains(t, out[0].Text, "Reply STOP")
		require.NotEmpty(t, out[0].Buttons, "the menu's buttons")

		// START from someone who never stopped is a greeting.
		s2 := newSession(t, h)
		require.Contains(t, joined(webSay(t, h, s2, "n1", "start", "")), "virtual assistant")

		events, err := consent.Events(ctx, db.Q(), consent.PatientSubject(p.ID))
		require.NoError(t, err)
		var trail []string
		for _, e := range events {
			trail = append(trail, e.Status+"/"+e.Source)
			require.Equal(t, conv.ID, *e.ConversationID)
		}
		require.Equal(t, []string{"stopped/keyword", "stopped_all/button", "resumed/keyword"}, trail)
	})
}

func joined(rs []bot.Sent) string {
	var s string
	for _, r := range rs {
		s += r.Text + "\n"
	}
	return s
}

// TestTelegramStopStartHelp: Telegram's /stop command arrives as STOP and
// is confirmed in the chat; START and HELP work as typed words; an
// unlinked chat is stopped by its own identity.
func TestTelegramStopStartHelp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fake := telegramtest.New(t)
		cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(),
			"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_ENDPOINT": fake.Endpoint()})
		require.NoError(t, err)
		mod := &telegram.Module{Options: telegram.Options{PollTimeout: time.Second, MinBackoff: 10 * time.Millisecond,
			MaxBackoff: 200 * time.Millisecond, SendPerSecond: 10000, DrainTimeout: 5 * time.Second}}
		apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Config: &cfg, Start: true,
			Modules: []app.Module{&optout.Module{}, mod}})
		u := telegramtest.User{ID: 4242, FirstName: "Pat", LanguageCode: "en"}
		wait := func(n int) []telegramtest.Message {
			var got []telegramtest.Message
			require.Eventually(t, func() bool { got = fake.SentTo(u.ID); return len(got) >= n },
				60*time.Second, 20*time.Millisecond)
			return got
		}
		fake.PushText(u, "/stop")
		got := wait(1)
		require.Contains(t, got[0].Text, "You're unsubscribed")
		level, err := consent.OptOut(context.Background(), db.Q(), consent.Subject{Channel: "telegram", ChatID: "4242"})
		require.NoError(t, err)
		require.Equal(t, consent.Stopped, level)

		fake.PushText(u, "START")
		require.Contains(t, wait(2)[1].Text, "subscribed again")
		fake.PushText(u, "help")
		require.Contains(t, wait(3)[2].Text, "(555) 014-2000")
		level, err = consent.OptOut(context.Background(), db.Q(), consent.Subject{Channel: "telegram", ChatID: "4242"})
		require.NoError(t, err)
		require.Empty(t, level)
	})
}

// TestConsentAPI: staff read a patient's consent and its audit trail, and
// record a change the patient asked for by phone.
func TestConsentAPI(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_ADMIN_TOKEN": "consent-admin-token-1"})
	require.NoError(t, err)
	a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Config: &cfg, Modules: []app.Module{&optout.Module{}}})
	p := patients.Patient{ExternalID: "MG-7", FirstName: "A", LastName: "B", BirthDate: "1950-01-01", Phone: "15550000007", ConsentReminders: true}
	require.NoError(t, patients.Upsert(context.Background(), db.Q(), &p, time.Now()))
	call := func(method, body, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/api/v1/patients/"+strconv.FormatInt(p.ID, 10)+"/consent", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		a.HTTP.Handler().ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusUnauthorized, call("GET", "", "").Code)
	rec := call("PUT", `{"purpose": "campaigns", "granted": true}`, "consent-admin-token-1")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got struct {
		Effective map[string]bool
		Events    []consent.Event
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, map[string]bool{"reminders": true, "surveys": true, "campaigns": true}, got.Effective)
	require.Len(t, got.Events, 1)
	require.Equal(t, "api", got.Events[0].Source)
	require.Equal(t, http.StatusUnprocessableEntity, call("PUT", `{"purpose": "ads", "granted": true}`, "consent-admin-token-1").Code)
}
