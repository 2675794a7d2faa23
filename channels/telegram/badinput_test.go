package telegram_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/channeltest"
	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// badValues are the shapes of bad input issue 13 found blocking a channel;
// badMarker stands for the bad value in a body built with json.Marshal.
var badValues = channeltest.BadValues("Pa", "t")

const badMarker = channeltest.BadMarker

// withBad replaces every badMarker string in body with the bad value.
func withBad(body []byte, v channeltest.BadValue) []byte {
	return bytes.ReplaceAll(body, []byte(`"`+badMarker+`"`), []byte(v.Raw))
}

// badUser is a patient whose every name field is bad.
func badUser(id int64) map[string]any {
	return map[string]any{"id": id, "is_bot": false, "first_name": badMarker, "last_name": badMarker,
		"username": badMarker, "language_code": badMarker}
}

func badChat(id int64) map[string]any {
	return map[string]any{"id": id, "first_name": badMarker, "username": badMarker, "type": "private"}
}

// badUpdates are one update of each kind a patient can send, with the bad
// value in every text field, from chats firstChat, firstChat+1, ...;
// answered are the chats that must get an answer (an edit that is not an
// emergency gets none).
func badUpdates(id int64, firstChat int64) (bodies [][]byte, chats []int64, answered []int64) {
	msg := func(chat int64, fields map[string]any) map[string]any {
		m := map[string]any{"message_id": 7, "from": badUser(chat), "chat": badChat(chat), "date": 1700000000}
		for k, v := range fields {
			m[k] = v
		}
		return m
	}
	add := func(kind string, content map[string]any, chat int64, answers bool) {
		body, err := json.Marshal(map[string]any{"update_id": id, kind: content})
		if err != nil {
			panic(err)
		}
		bodies = append(bodies, body)
		chats = append(chats, chat)
		if answers {
			answered = append(answered, chat)
		}
		id++
	}
	c := firstChat
	add("message", msg(c, map[string]any{"text": badMarker}), c, true)
	add("message", msg(c+1, map[string]any{"photo": []map[string]any{{"file_id": badMarker, "file_unique_id": badMarker,
		"width": 1, "height": 1}}, "caption": badMarker}), c+1, true)
	add("message", msg(c+2, map[string]any{"document": map[string]any{"file_id": badMarker, "file_name": badMarker},
		"caption": badMarker}), c+2, true)
	add("message", msg(c+3, map[string]any{"contact": map[string]any{"phone_number": badMarker, "first_name": badMarker,
		"user_id": c + 3}}), c+3, true)
	add("message", msg(c+4, map[string]any{"text": badMarker, "forward_origin": map[string]any{"type": "hidden_user",
		"sender_user_name": badMarker, "date": 1}}), c+4, true)
	add("edited_message", msg(c+5, map[string]any{"text": badMarker, "edit_date": 1700000001}), c+5, false)
	add("callback_query", map[string]any{"id": badMarker, "from": badUser(c + 6), "chat_instance": badMarker, "data": badMarker,
		"message": map[string]any{"message_id": 9, "chat": badChat(c + 6), "date": 1, "text": badMarker,
			"reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": badMarker, "callback_data": badMarker}}}}}},
		c+6, true)
	return bodies, chats, answered
}

// TestBadInputDoesNotBlockPolling: updates with a NUL, invalid UTF-8, 60,000
// characters or a right-to-left override in every field are made valid and
// handled, and the patients who write after them are answered (issue 13:
// one NUL in a first_name stopped the poller for everyone).
func TestBadInputDoesNotBlockPolling(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Batches of 5: 60,000 characters in every field make a full batch
		// of these updates megabytes long, which Telegram's own limits
		// never allow.
		h := newHarness(t, db, harnessOpts{pollLimit: 5})
		h.start()
		var answered []int64
		for i, v := range badValues {
			bodies, _, ans := badUpdates(0, int64(9000+100*i))
			for _, body := range bodies {
				b := withBad(body, v)
				h.fake.PushBuilt(func(id int64) []byte { return withID(b, id) })
			}
			answered = append(answered, ans...)
		}
		good := []telegramtest.User{patient(9901), patient(9902), patient(9903)}
		for _, u := range good {
			h.fake.PushText(u, "hello")
		}
		for _, u := range good {
			h.waitSent(u.ID, 1)
		}
		for _, chat := range answered {
			h.waitSent(chat, 1)
		}
		require.Eventually(t, func() bool { return h.fake.Pending() == 0 }, waitFor, 20*time.Millisecond)
		channeltest.RequireStoredClean(t, db, telegram.Channel, 35)
		require.Zero(t, metricSum(t, h, "tend_webhook_rejections_total"), "nothing needed rejecting")
		h.requireCleanLogs(strings.Repeat("a", 100), "gnp.exe")
	})
}

// TestBadInputDoesNotBlockWebhook: the same updates by webhook are
// answered 200 (never 503, which Telegram would resend forever) and
// handled; the patients after them are answered.
func TestBadInputDoesNotBlockWebhook(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{webhook: true})
		h.start()
		var answered []int64
		for i, v := range badValues {
			bodies, _, ans := badUpdates(0, int64(9000+100*i))
			for _, body := range bodies {
				b := withID(withBad(body, v), h.fake.NextUpdateID())
				rec := h.postWebhook(webhookSecret, b)
				require.Equal(t, http.StatusOK, rec.Code, "%s: %s", v.Name, rec.Body.String())
			}
			answered = append(answered, ans...)
		}
		good := []telegramtest.User{patient(9901), patient(9902), patient(9903)}
		for _, u := range good {
			body := telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(u, map[string]any{"text": "hello"}))
			require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, body).Code)
		}
		for _, u := range good {
			h.waitSent(u.ID, 1)
		}
		for _, chat := range answered {
			h.waitSent(chat, 1)
		}
		channeltest.RequireStoredClean(t, db, telegram.Channel, 35)
		require.Zero(t, testutil.ToFloat64(h.app.Metrics.Errors.WithLabelValues("telegram_webhook")))
		h.requireCleanLogs(strings.Repeat("a", 100), "gnp.exe")
	})
}

// withID sets the body's update_id.
func withID(body []byte, id int64) []byte {
	i := bytes.Index(body, []byte(`"update_id":`))
	if i < 0 {
		panic("no update_id")
	}
	j := i + len(`"update_id":`)
	k := j
	for k < len(body) && body[k] >= '0' && body[k] <= '9' {
		k++
	}
	out := append([]byte{}, body[:j]...)
	out = append(out, strconv.FormatInt(id, 10)...)
	return append(out, body[k:]...)
}
