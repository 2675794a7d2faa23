package whatsapp_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// sendProactive queues a message to a conversation as a dialog or the
// staff relay would.
func (e *env) sendProactive(convID int64, rs ...bot.Reply) {
	e.t.Helper()
	ctx := context.Background()
	require.NoError(e.t, e.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := e.app.Engine.Send(ctx, tx, convID, rs...)
		return err
	}))
}

// Outside the 24-hour window only the template goes out; the message itself
// is held and delivered as soon as the patient writes again.
func TestOutsideWindowSendsTemplate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tpl, err := whatsapp.ParseTemplates([]byte(`
templates:
  staff: {name: tend_new_message, language: en_US, languages: {es: es_MX}, params: [clinic]}
  reminder: {name: tend_appointment_reminder, language: en_US, params: [clinic, param1]}
`), "test")
		require.NoError(t, err)
		e := newEnv(t, db, withTemplates(tpl))
		wa := newPatient()
		e.say(wa, wamid(), "hi")
		e.waitSent(wa, 1)
		conv := e.conversation(wa)

		e.clock.Advance(25 * time.Hour)
		e.sendProactive(conv.ID, bot.Reply{Text: "Your lab results are in.", Kind: bot.KindStaff, From: "Anna"})
		sent := e.waitSent(wa, 2)
		require.Equal(t, "template", sent[1].Type)
		require.Equal(t, "tend_new_message", sent[1].Template)
		require.Equal(t, "en_US", sent[1].Language)
		require.Equal(t, []string{e.app.Clinic.Name}, sent[1].Params, "no health details in the template")
		out := e.waitOutbound(conv.ID, 2)
		require.Equal(t, store.OutboundSent, out[1].Status)
		require.Equal(t, sent[1].ID, out[1].ExternalID)

		e.sendProactive(conv.ID, bot.Reply{Text: "Reminder: visit on Tuesday", Kind: bot.KindReminder,
			Template: &bot.Template{Purpose: bot.KindReminder, Params: []string{"Tuesday\n10:00"}}})
		sent = e.waitSent(wa, 3)
		require.Equal(t, "tend_appointment_reminder", sent[2].Template)
		require.Equal(t, []string{e.app.Clinic.Name, "Tuesday 10:00"}, sent[2].Params)

		// The patient answers the template: the window opens and the held
		// messages go first, free-form and in order, then the reply.
		e.say(wa, wamid(), "ok")
		sent = e.waitSent(wa, 6)
		var texts []string
		for _, m := range sent[3:] {
			texts = append(texts, m.Text)
		}
		require.Contains(t, texts, "*Anna:* Your lab results are in.")
		require.Contains(t, texts, "Reminder: visit on Tuesday")
		require.Equal(t, []string{"*Anna:* Your lab results are in.", "Reminder: visit on Tuesday"}, texts[:2])
		e.waitOutbound(conv.ID, 4) // the held ones were recorded with their templates
		require.Len(t, e.api.SentTo(wa), 6, "nothing twice")
	})
}

// Without a template for the purpose, a message outside the window fails
// with a clear error: it is never attempted, never reported as sent.
func TestOutsideWindowWithoutTemplateFails(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tpl, err := whatsapp.ParseTemplates([]byte("templates:\n  reminder: {name: tend_appointment_reminder, language: en_US}\n"), "test")
		require.NoError(t, err)
		e := newEnv(t, db, withTemplates(tpl))
		wa := newPatient()
		e.say(wa, wamid(), "hi")
		e.waitSent(wa, 1)
		conv := e.conversation(wa)
		e.clock.Advance(24 * time.Hour)
		e.sendProactive(conv.ID, bot.Reply{Text: "We tried to reach you.", Kind: bot.KindStaff})
		out := e.waitOutbound(conv.ID, 2)
		require.Equal(t, store.OutboundFailed, out[1].Status)
		require.Contains(t, out[1].Error, `no template is configured for "staff" messages`)
		require.Len(t, e.api.SentTo(wa), 1, "nothing was attempted")
		require.False(t, e.conversation(wa).Unreachable)
	})
}

// WhatsApp's own verdict (131047: the window has closed) falls back to the
// template.
func TestReengagementFallsBackToTemplate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		wa := newPatient()
		e.api.Reengage(wa)
		e.say(wa, wamid(), "hi")
		sent := e.waitSent(wa, 1)
		require.Equal(t, "template", sent[0].Type)
		require.Equal(t, "tend_new_message", sent[0].Template)
		out := e.waitOutbound(e.conversation(wa).ID, 1)
		require.Equal(t, store.OutboundSent, out[0].Status)
	})
}

// A number that is not on WhatsApp is marked unreachable, not retried.
func TestInvalidRecipientIsUnreachable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		wa := newPatient()
		e.api.Invalid(wa)
		e.say(wa, wamid(), "hi")
		conv := e.conversation(wa)
		out := e.waitOutbound(conv.ID, 1)
		require.Equal(t, store.OutboundFailed, out[0].Status)
		require.Contains(t, out[0].Error, "131026")
		// The engine marks the conversation just after the message.
		require.Eventually(t, func() bool { return e.conversation(wa).Unreachable }, 10*time.Second, 10*time.Millisecond)
		require.Equal(t, 1, out[0].Attempts)
	})
}

// An API that fails for a while (5xx, rate limits) delays the replies; they
// go out in order, each once.
func TestOutageDelaysButKeepsOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		wa := newPatient()
		e.api.FailNext(
			whatsapptest.Failure{Status: http.StatusInternalServerError},
			whatsapptest.Failure{Status: http.StatusServiceUnavailable, Code: 2, Message: "Service temporarily unavailable", RetryAfter: "1"},
			whatsapptest.Failure{Status: http.StatusTooManyRequests, Code: 130429, Message: "Rate limit hit", RetryAfter: "1"},
			whatsapptest.Failure{Status: http.StatusBadRequest, Code: 131056, Message: "Pair rate limit hit", RetryAfter: "1"},
		)
		require.Equal(t, 200, e.post(e.api.Notification(whatsapptest.Inbound(wa, "Ana",
			whatsapptest.Text(wa, wamid(), "hi"), whatsapptest.Text(wa, wamid(), "help"),
			whatsapptest.Text(wa, wamid(), "what is the meaning of life")))))
		conv := e.conversation(wa)
		out := e.waitOutbound(conv.ID, 3)
		sent := e.api.SentTo(wa)
		require.Len(t, sent, 3, "each reply once")
		for i, o := range out {
			require.Equal(t, store.OutboundSent, o.Status)
			r, err := bot.DecodeReply(o.Body)
			require.NoError(t, err)
			require.Equal(t, r.Text, sent[i].Text, "in order")
		}
		require.GreaterOrEqual(t, e.api.Requests(), 7) // 4 refusals + 3 sends (+ read receipts)
	})
}

// Stopping the server in the middle of a burst of webhooks and starting a
// new one on the same store loses and duplicates nothing: what was not
// answered 200 is delivered again by Meta, and is recognised if it was in
// fact recorded.
func TestRestartDuringBurst(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const n = 40
		patients := make([]string, n)
		bodies := make([][]byte, n)
		for i := range patients {
			patients[i] = newPatient()
			bodies[i] = e.api.Notification(whatsapptest.Inbound(patients[i], "P", whatsapptest.Text(patients[i], wamid(), "hi")))
		}
		url, client := e.webhookURL(), e.srv.Client()
		var mu sync.Mutex
		var again []int
		var wg sync.WaitGroup
		next := make(chan int)
		for range 4 {
			wg.Go(func() {
				for i := range next {
					if whatsapptest.PostWebhook(t, client, url, appSecret, bodies[i]) != 200 {
						mu.Lock()
						again = append(again, i)
						mu.Unlock()
					}
				}
			})
		}
		for i := range n {
			if i == n/2 {
				go e.stop() // mid-burst: in-flight requests finish, new ones are refused
			}
			next <- i
		}
		close(next)
		wg.Wait()
		e.stop()

		e.start()
		for _, i := range again {
			require.Equal(t, 200, e.post(bodies[i]))
		}
		for i := 0; i < n; i += 3 { // Meta's redeliveries of answered ones
			require.Equal(t, 200, e.post(bodies[i]))
		}
		for _, wa := range patients {
			e.waitOutbound(e.conversation(wa).ID, 1)
		}
		require.Equal(t, n, e.countInbound())
		for _, wa := range patients {
			require.Len(t, e.api.SentTo(wa), 1, "patient %s", wa)
		}
		t.Logf("%d of %d webhooks were refused during the restart and delivered again", len(again), n)
	})
}

// A rejected token keeps messages queued (retried, not failed) and is
// logged loudly; neither the token, the app secret nor the patient's number
// reaches the log or the stored error.
func TestRejectedTokenKeepsMessagesAndSecrets(t *testing.T) {
	t.Parallel()
	var logs apptest.SyncBuffer
	const badToken = "EAAwrong-token-value-123"
	e := newEnv(t, storetest.OpenSQLite(t), withLog(&logs), withToken(badToken))
	wa := newPatient()
	e.say(wa, wamid(), "hi")
	conv := e.conversation(wa)
	require.Eventually(t, func() bool {
		out := e.outbound(conv.ID)
		return len(out) == 1 && out[0].Attempts >= 1 && out[0].Status == store.OutboundQueued && out[0].Error != ""
	}, 20*time.Second, 20*time.Millisecond)
	out := e.outbound(conv.ID)
	require.Contains(t, out[0].Error, "code 190")
	require.NotContains(t, out[0].Error, badToken)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "refused our credentials") }, 10*time.Second, 10*time.Millisecond)
	e.stop()
	for _, secret := range []string{badToken, e.api.Token, appSecret, verifyToken, wa, wa[1:]} {
		require.NotContains(t, logs.String(), secret)
	}
}

// A held message that waited more than a week is dropped, not sent late;
// DiscardHeld (opt-out) drops them at once.
func TestHeldRepliesExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	wa := newPatient()
	e.say(wa, wamid(), "hi")
	e.waitSent(wa, 1)
	conv := e.conversation(wa)
	e.clock.Advance(25 * time.Hour)
	e.sendProactive(conv.ID, bot.Reply{Text: "Old news", Kind: bot.KindNotice})
	require.Equal(t, "template", e.waitSent(wa, 2)[1].Type)
	e.waitOutbound(conv.ID, 2)
	e.clock.Advance(8 * 24 * time.Hour)
	e.say(wa, wamid(), "hi")
	sent := e.waitSent(wa, 3)
	e.waitOutbound(conv.ID, 3)
	require.Len(t, e.api.SentTo(wa), 3)
	require.NotEqual(t, "Old news", sent[2].Text)

	e.clock.Advance(25 * time.Hour)
	e.sendProactive(conv.ID, bot.Reply{Text: "Campaign text", Kind: bot.KindCampaign})
	e.waitOutbound(conv.ID, 4)
	require.NoError(t, whatsapp.DiscardHeld(context.Background(), e.db.Q(), conv.ID))
	e.say(wa, wamid(), "hi")
	e.waitOutbound(conv.ID, 5)
	for _, m := range e.api.SentTo(wa) {
		require.NotEqual(t, "Campaign text", m.Text)
	}
}

// Messages of one purpose sent together to a closed window (a survey's
// invitation and first question) are announced by one template; both go
// out, in order, when the patient answers. One sent later gets its own.
func TestOneTemplateForMessagesSentTogether(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		wa := newPatient()
		e.say(wa, wamid(), "hi")
		e.waitSent(wa, 1)
		conv := e.conversation(wa)

		e.clock.Advance(25 * time.Hour)
		survey := &bot.Template{Purpose: bot.KindSurvey, Params: []string{"Maple Grove"}}
		e.sendProactive(conv.ID, bot.Reply{Text: "A few questions?", Kind: bot.KindSurvey, Template: survey},
			bot.Reply{Text: "How was your visit?", Kind: bot.KindSurvey, Template: survey})
		e.waitOutbound(conv.ID, 3)
		sent := e.api.SentTo(wa)
		require.Len(t, sent, 2, "one template for both")
		require.Equal(t, "tend_survey_invitation", sent[1].Template)

		e.clock.Advance(48 * time.Hour)
		e.sendProactive(conv.ID, bot.Reply{Text: "Still there?", Kind: bot.KindSurvey, Template: survey})
		sent = e.waitSent(wa, 3)
		require.Equal(t, "tend_survey_invitation", sent[2].Template, "a later message is announced again")

		e.say(wa, wamid(), "ok")
		sent = e.waitSent(wa, 7)
		var texts []string
		for _, m := range sent[3:6] {
			texts = append(texts, m.Text)
		}
		require.Equal(t, []string{"A few questions?", "How was your visit?", "Still there?"}, texts)
	})
}
