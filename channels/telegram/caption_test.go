package telegram_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/channeltest"
	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/guards/triage"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// safetyHarness is the harness with the triage guard and a staff channel.
func safetyHarness(t *testing.T, db *store.DB, webhook bool) (*harness, *channeltest.StaffAlerts) {
	staff := &channeltest.StaffAlerts{}
	h := newHarness(t, db, harnessOpts{webhook: webhook, modules: []app.Module{triage.Module{Staff: staff}}})
	h.start()
	return h, staff
}

// emergencyReply is what the web chat answers to text: the engine's
// emergency reply, the same on every channel.
func (h *harness) emergencyReply(text string) string {
	h.t.Helper()
	web := h.webReply(httpserver.RandomToken(24), "e1", text, "")
	require.NotEmpty(h.t, web)
	require.Equal(h.t, bot.ActionEmergency, web[0].Action)
	return web[0].Text
}

func (h *harness) waitUrgent(staff *channeltest.StaffAlerts, chat int64) {
	h.t.Helper()
	require.Eventually(h.t, func() bool { return staff.UrgentFor(telegram.Channel, telegramChat(chat)) == 1 }, waitFor, 20*time.Millisecond,
		"an urgent staff alert for chat %d", chat)
}

func telegramChat(id int64) string { return strconv.FormatInt(id, 10) }

// settled waits until every recorded message is handled and every reply
// delivered, so that a test can check that nothing more was sent.
func (h *harness) settled() {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		return h.fake.Pending() == 0 && h.countPending() == 0 && len(h.deliverJobs("available")) == 0 &&
			len(h.deliverJobs("running")) == 0 && len(h.deliverJobs("retryable")) == 0
	}, waitFor, 20*time.Millisecond)
}

// TestEmergencyCaption: a photo, video, animation or document whose caption
// is an emergency gets the emergency reply and an urgent staff alert, as
// the same words typed would (issue 12).
func TestEmergencyCaption(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, staff := safetyHarness(t, db, false)
		want := h.emergencyReply(channeltest.EmergencyText)
		attachments := map[int64]map[string]any{
			8101: {"photo": []map[string]any{{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}}},
			8102: {"video": map[string]any{"file_id": "v", "file_unique_id": "v", "width": 9, "height": 9, "duration": 3}},
			8103: {"animation": map[string]any{"file_id": "a", "file_unique_id": "a", "width": 9, "height": 9, "duration": 1},
				"document": map[string]any{"file_id": "a", "file_unique_id": "a"}},
			8104: {"document": map[string]any{"file_id": "d", "file_unique_id": "d", "file_name": "ecg.pdf"}},
		}
		for chat, fields := range attachments {
			fields["caption"] = channeltest.EmergencyText
			h.fake.Push("message", h.fake.Message(patient(chat), fields))
		}
		for chat := range attachments {
			got := h.waitSent(chat, 1)
			require.Equal(t, want, got[0].Text, "chat %d", chat)
			h.waitUrgent(staff, chat)
		}
		// A forwarded message is read like any text.
		fwd := patient(8105)
		h.fake.Push("message", h.fake.Message(fwd, map[string]any{"text": channeltest.EmergencyText,
			"forward_origin": map[string]any{"type": "hidden_user", "sender_user_name": "My husband", "date": 1700000000}}))
		require.Equal(t, want, h.waitSent(fwd.ID, 1)[0].Text)
		h.waitUrgent(staff, fwd.ID)

		h.settled() // nothing more follows the emergency reply
		for chat := range attachments {
			require.Len(t, h.fake.SentTo(chat), 1)
		}
		h.requireCleanLogs(channeltest.EmergencyText)
	})
}

// TestOrdinaryCaption: an ordinary caption is answered as the same words
// typed, after a short note that the bot cannot see the attachment; a photo
// without a caption still gets the polite "text only" reply. By webhook,
// to cover both ways in.
func TestOrdinaryCaption(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, staff := safetyHarness(t, db, true)
		photo := []map[string]any{{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}}
		u := patient(8201)
		body := telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(u, map[string]any{"photo": photo, "caption": "hello"}))
		require.Equal(t, 200, h.postWebhook(webhookSecret, body).Code)
		web := h.webReply(httpserver.RandomToken(24), "w1", "hello", "")
		got := h.waitSent(u.ID, 1+len(web))
		require.Equal(t, h.app.Catalog.Text("en", "input.attachment_unseen", nil), got[0].Text)
		requireSame(t, web, got[1:])

		bare := patient(8202)
		body = telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(bare, map[string]any{"photo": photo}))
		require.Equal(t, 200, h.postWebhook(webhookSecret, body).Code)
		got = h.waitSent(bare.ID, 1)
		require.Equal(t, h.app.Catalog.Text("en", "input.unsupported", nil), got[0].Text)
		require.Zero(t, staff.UrgentFor(telegram.Channel, "8201")+staff.UrgentFor(telegram.Channel, "8202"))
	})
}

// TestEditedMessages: an edit that turns a message into an emergency gets
// the emergency reply and the staff alert; any other edit is recorded and
// not answered again (the bot answered the original).
func TestEditedMessages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, staff := safetyHarness(t, db, false)
		want := h.emergencyReply(channeltest.EmergencyText)
		u := patient(8301)
		original := h.fake.Message(u, map[string]any{"text": "hello"})
		h.fake.Push("message", original)
		first := h.waitSent(u.ID, 1)

		edit := func(text string, at int64) {
			m := map[string]any{}
			for k, v := range original {
				m[k] = v
			}
			m["text"], m["edit_date"] = text, at
			h.fake.Push("edited_message", m)
		}
		edit("hello there", time.Now().Unix()+1)
		require.Eventually(t, func() bool { return h.countInbound() == 2 }, waitFor, 20*time.Millisecond)
		h.settled()
		require.Len(t, h.fake.SentTo(u.ID), len(first), "the ordinary edit got no answer")
		edit(channeltest.EmergencyText, time.Now().Unix()+2)
		got := h.waitSent(u.ID, len(first)+1)
		require.Equal(t, want, got[len(first)].Text)
		h.waitUrgent(staff, u.ID)
		h.settled()
		require.Len(t, h.fake.SentTo(u.ID), len(first)+1)
		require.Equal(t, 3, h.countInbound())
	})
}
