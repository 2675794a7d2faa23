package telegram_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestEndToEndPolling: a patient writes on Telegram; the poller records the
// message, the engine answers, the delivery job sends it; the reply and its
// buttons are exactly what the web chat gives for the same message. Pressing
// a button is answered and routed like a web button.
func TestEndToEndPolling(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.start()
		u := patient(1001)
		session := httpserver.RandomToken(24)

		h.fake.PushText(u, "hello")
		got := h.waitSent(u.ID, 1)
		web := h.webReply(session, "m1", "hello", "")
		requireSame(t, web, got)
		require.Equal(t, "HTML", got[0].ParseMode)
		require.JSONEq(t, `["message","edited_message","callback_query"]`, h.fake.AllowedUpdates())

		// Pressing a button: answered at once, routed by its payload.
		_, queryID := h.fake.Press(u, got[0], "Costs")
		got = h.waitSent(u.ID, 2)
		require.Eventually(t, func() bool { return slices.Contains(h.fake.Answered(), queryID) }, waitFor, 20*time.Millisecond)
		web = h.webReply(session, "m2", "", "menu:topic:costs")
		requireSame(t, web, got[1:])

		// The press is recorded with the label as what the patient said.
		var text, payload string
		require.NoError(t, db.Q().QueryRow(context.Background(),
			`SELECT text, payload FROM inbound_messages WHERE channel = 'telegram' ORDER BY id DESC LIMIT 1`).Scan(&text, &payload))
		require.Equal(t, "Costs", text)
		require.Equal(t, "menu:topic:costs", payload)

		// /help opens the main menu, as the web's menu button does.
		h.fake.PushText(u, "/help")
		got = h.waitSent(u.ID, 3)
		requireSame(t, h.webReply(session, "m3", "", "menu:main"), got[2:])

		// A Spanish-speaking patient is answered in Spanish from the first message.
		es := telegramtest.User{ID: 1002, FirstName: "Ana", LanguageCode: "es"}
		h.fake.PushText(es, "/start")
		got = h.waitSent(es.ID, 1)
		require.Contains(t, got[0].Text, "asistente virtual")
		require.Equal(t, "es", h.conversation("1002").Lang)

		// A photo gets the polite "text only" reply, as the engine words it.
		h.fake.Push("message", h.fake.Message(u, map[string]any{"photo": []map[string]any{{"file_id": "p1", "width": 90, "height": 90}}}))
		got = h.waitSent(u.ID, 4)
		require.Equal(t, h.app.Catalog.Text("en", "input.unsupported", nil), got[3].Text)
		h.requireCleanLogs("hello", "Pat")
	})
}

// requireSame checks that Telegram showed the patient what the web chat did.
func requireSame(t *testing.T, web []bot.Sent, tg []telegramtest.Message) {
	t.Helper()
	require.Len(t, tg, len(web))
	for i, w := range web {
		require.Equal(t, w.Text, tg[i].Text)
		var labels, payloads []string
		for _, b := range w.Buttons {
			labels = append(labels, b.Label)
			payloads = append(payloads, b.Payload)
		}
		require.Equal(t, labels, tg[i].Labels())
		require.Equal(t, payloads, tg[i].Data())
	}
}

// TestSharedContact: the patient shares their own number through the
// request_contact keyboard; the engine gets it as Meta[phone].
func TestSharedContact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.start()
		u := patient(1003)
		h.fake.Push("message", h.fake.Message(u, map[string]any{
			"contact": map[string]any{"phone_number": "15551234567", "first_name": "Pat", "user_id": u.ID}}))
		h.waitSent(u.ID, 1)
		var raw string
		require.NoError(t, db.Q().QueryRow(context.Background(),
			`SELECT meta FROM inbound_messages WHERE channel = 'telegram'`).Scan(&raw))
		var meta map[string]string
		require.NoError(t, json.Unmarshal([]byte(raw), &meta))
		require.Equal(t, "+15551234567", meta[bot.MetaPhone])
	})
}

// TestRequestContactKeyboard: a reply asking for the number arrives with a
// one-time reply keyboard whose button shares the contact.
func TestRequestContactKeyboard(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.startJobs()
		u := patient(1004)
		h.fake.PushText(u, "hi") // opens the conversation
		conv := h.acceptAll()
		h.waitSent(u.ID, 1) // the greeting goes first
		require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := h.app.Engine.Send(context.Background(), tx, conv, bot.Reply{Text: "To check it's you, please share your number.",
				RequestContact: true, Buttons: []bot.Button{{Label: "Not now", Payload: "menu:main"}}, Kind: bot.KindNotice})
			return err
		}))
		got := h.waitSent(u.ID, 3) // the greeting, then the request and its keyboard
		require.Equal(t, []string{"Not now"}, got[1].Labels())
		kb := got[2].Markup
		require.NotNil(t, kb)
		require.True(t, kb.OneTime)
		require.True(t, kb.Keyboard[0][0].RequestContact)
		require.Equal(t, h.app.Catalog.Text("en", "telegram.share_phone", nil), kb.Keyboard[0][0].Text)
	})
}

// TestStaffMessageAndLongReply: a staff relay is prefixed with the staff
// member's name; a long reply is split at sentence boundaries, in order,
// buttons on the last part.
func TestStaffMessageAndLongReply(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.startJobs()
		u := patient(1005)
		h.fake.PushText(u, "hi")
		conv := h.acceptAll()
		h.waitSent(u.ID, 1) // the greeting goes first
		long := strings.Repeat("Please bring your insurance card & a photo ID <both>. ", 120)
		require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := h.app.Engine.Send(context.Background(), tx, conv,
				bot.Reply{Text: "We can see you Tuesday.", From: "Anna from Maple Grove", Kind: bot.KindStaff},
				bot.Reply{Text: long, Buttons: []bot.Button{{Label: "Main menu", Payload: "menu:main"}}, Kind: bot.KindNotice})
			return err
		}))
		got := h.waitSent(u.ID, 4)
		require.Equal(t, "Anna from Maple Grove\nWe can see you Tuesday.", got[1].Text)
		require.Equal(t, "<b>Anna from Maple Grove</b>\nWe can see you Tuesday.", got[1].Raw)
		require.Nil(t, got[2].Markup)
		require.Equal(t, []string{"Main menu"}, got[3].Labels())
		require.True(t, strings.HasSuffix(got[2].Text, "."), "split after a sentence")
		require.Equal(t, strings.Fields(long), strings.Fields(got[2].Text+" "+got[3].Text))
	})
}

// acceptAll polls once through the channel's own loop: start it, wait until
// the fake has nothing unconfirmed, and return the conversation's id.
func (h *harness) acceptAll() int64 {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := h.mod.Bot()
	b.Start(ctx)
	require.Eventually(h.t, func() bool { return h.countInbound() > 0 && h.fake.Pending() == 0 }, waitFor, 20*time.Millisecond)
	// Pending drops when the next poll confirms; stop after it.
	cancel()
	b.Wait()
	var id int64
	require.NoError(h.t, h.db.Q().QueryRow(context.Background(),
		`SELECT conversation_id FROM inbound_messages WHERE channel = 'telegram' ORDER BY id DESC LIMIT 1`).Scan(&id))
	return id
}
