package telegram_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func (h *harness) postWebhook(secret string, body []byte) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, telegram.WebhookPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	rec := httptest.NewRecorder()
	h.http.ServeHTTP(rec, req)
	return rec
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{webhook: true})
		h.start()
		m := h.app.Metrics
		u := patient(2001)

		// Registered at start with the secret, and polling is off.
		require.Eventually(t, func() bool {
			url, secret := h.fake.Webhook()
			return url == "https://clinic.example.org/webhooks/telegram" && secret == webhookSecret
		}, waitFor, 20*time.Millisecond)
		require.Empty(t, h.fake.Calls("getUpdates"))

		body := telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(u, map[string]any{"text": "hello"}))

		// Refused, and nothing recorded.
		for _, secret := range []string{"", "wrong", webhookSecret + "x", strings.ToUpper(webhookSecret)} {
			rec := h.postWebhook(secret, body)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "secret %q", secret)
		}
		require.Equal(t, 4.0, testutil.ToFloat64(m.WebhookRejections.WithLabelValues("telegram", "secret")))
		for _, bad := range []string{`{"update_id":`, `[]`, `"x"`, `{"message":{"text":"hi"}}`, ``} {
			require.Equal(t, http.StatusBadRequest, h.postWebhook(webhookSecret, []byte(bad)).Code, bad)
		}
		require.Equal(t, 5.0, testutil.ToFloat64(m.WebhookRejections.WithLabelValues("telegram", "json")))
		huge := append([]byte(`{"update_id":1,"message":{"text":"`), bytes.Repeat([]byte("a"), telegram.MaxWebhookBody)...)
		require.Equal(t, http.StatusRequestEntityTooLarge, h.postWebhook(webhookSecret, append(huge, `"}}`...)).Code)
		require.Equal(t, 0, h.countInbound())

		// Recorded once however often Telegram delivers it.
		for range 3 {
			rec := h.postWebhook(webhookSecret, body)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		}
		require.Equal(t, 1, h.countInbound())
		got := h.waitSent(u.ID, 1)
		require.Equal(t, 1.0, testutil.ToFloat64(m.MessagesIn.WithLabelValues("telegram")))

		// Unknown kinds are acknowledged (Telegram must not resend them) and counted.
		react := telegramtest.Update(h.fake.NextUpdateID(), "message_reaction", map[string]any{
			"chat": map[string]any{"id": u.ID, "type": "private"}, "message_id": 1, "date": 1, "new_reaction": []any{}})
		require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, react).Code)
		// An edit with words is recorded for the safety checks (and gets no
		// answer of its own); one without words is ignored.
		edited := telegramtest.Update(h.fake.NextUpdateID(), "edited_message", h.fake.Message(u, map[string]any{"text": "hello!", "edit_date": 2}))
		require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, edited).Code)
		wordless := telegramtest.Update(h.fake.NextUpdateID(), "edited_message", h.fake.Message(u, map[string]any{
			"photo": []map[string]any{{"file_id": "p2", "width": 9, "height": 9}}, "edit_date": 3}))
		require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, wordless).Code)
		group := telegramtest.Update(h.fake.NextUpdateID(), "message", map[string]any{"message_id": 9, "date": 1, "text": "hi all",
			"from": map[string]any{"id": u.ID, "is_bot": false, "first_name": "Pat"}, "chat": map[string]any{"id": -100123, "type": "supergroup"}})
		require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, group).Code)
		weird := telegramtest.Update(h.fake.NextUpdateID(), "message", "not an object")
		require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, weird).Code)
		require.Equal(t, 1.0, testutil.ToFloat64(m.UnknownUpdates.WithLabelValues("telegram", "message_reaction")))
		require.Equal(t, 1.0, testutil.ToFloat64(m.UnknownUpdates.WithLabelValues("telegram", "edited_message")))
		require.Equal(t, 1.0, testutil.ToFloat64(m.UnknownUpdates.WithLabelValues("telegram", "group_message")))
		require.Equal(t, 1.0, testutil.ToFloat64(m.WebhookRejections.WithLabelValues("telegram", "undecodable")))
		require.Equal(t, 2, h.countInbound())

		// A button press by webhook is answered and handled.
		cb, queryID := h.fake.Callback(u, got[0], "Insurance")
		require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, telegramtest.Update(h.fake.NextUpdateID(), "callback_query", cb)).Code)
		require.Eventually(t, func() bool { return slices.Contains(h.fake.Answered(), queryID) }, waitFor, 20*time.Millisecond)
		got = h.waitSent(u.ID, 2)
		require.Equal(t, h.app.Catalog.Text("en", "menu.topic.insurance", nil), got[1].Text)
		require.Len(t, h.fake.Sent(), 2, "nothing sent twice")
		h.requireCleanLogs("hello", webhookSecret)
	})
}

// TestWebhookAnswersInTheRequest: a message is answered before the webhook
// is acknowledged (no job workers run here), its reply queued for delivery;
// when a turn may wait on a chat model, it is only accepted, for its job.
func TestWebhookAnswersInTheRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, c := range []struct {
			name   string
			env    map[string]string
			status string
			jobs   int
		}{
			{"offline", nil, store.InboundDone, 0},
			{"chat model", map[string]string{"TEND_CHAT_MODEL": "gpt-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
				store.InboundPending, 1},
		} {
			h := newHarness(t, db, harnessOpts{webhook: true, env: c.env})
			u := patient(2100 + int64(len(c.env)))
			body := telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(u, map[string]any{"text": "hello"}))
			rec := h.postWebhook(webhookSecret, body)
			require.Equal(t, http.StatusOK, rec.Code, c.name)
			conv := h.conversation(telegramChat(u.ID))
			pending, err := db.Q().PendingInbound(context.Background(), conv.ID)
			require.NoError(t, err)
			var queued, replies int
			require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT count(*) FROM river_job
				WHERE kind = 'process_inbound' AND args ->> 'chat_id' = $1`, telegramChat(u.ID)).Scan(&queued))
			require.NoError(t, db.Q().QueryRow(context.Background(),
				`SELECT count(*) FROM outbound_messages WHERE conversation_id = $1`, conv.ID).Scan(&replies))
			require.Equal(t, c.jobs, queued, c.name)
			if c.status == store.InboundDone {
				require.Empty(t, pending, c.name)
				require.Equal(t, 1, replies, "%s: the reply is queued before the webhook's answer", c.name)
			} else {
				require.Len(t, pending, 1, c.name)
				require.Zero(t, replies, c.name)
			}
		}
	})
}

// TestStartFailuresAreRetried: getMe and setWebhook fail at start (an
// outage, a 429); the app starts anyway and the webhook gets registered.
func TestStartFailuresAreRetried(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{webhook: true})
		h.fake.FailNext("getMe", 2, telegramtest.BadGateway)
		h.fake.FailNext("setWebhook", 1, telegramtest.TooManyRequests(1))
		h.fake.FailNext("setWebhook", 1, telegramtest.Failure{Status: 502, HTML: true})
		h.start()
		rec := httptest.NewRecorder()
		h.http.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Eventually(t, func() bool { url, _ := h.fake.Webhook(); return url != "" }, waitFor, 20*time.Millisecond)
		calls := h.fake.Calls("setWebhook")
		require.Len(t, calls, 3)
		require.GreaterOrEqual(t, calls[1].Time.Sub(calls[0].Time), time.Second, "waited retry_after")
		require.Equal(t, 4.0, metricSum(t, h, "tend_telegram_api_errors_total"))
		h.requireCleanLogs()
	})
}

// metricSum adds up every series of a counter in the app's registry.
func metricSum(t *testing.T, h *harness, name string) float64 {
	t.Helper()
	families, err := h.app.Metrics.Registry.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestWebhookDatabaseDown: when the update cannot be recorded, Telegram is
// told to try again (503) rather than that all is well.
func TestWebhookDatabaseDown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{webhook: true})
		require.NoError(t, db.Close())
		body := telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(patient(2002), map[string]any{"text": "hello"}))
		rec := h.postWebhook(webhookSecret, body)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, 1.0, testutil.ToFloat64(h.app.Metrics.Errors.WithLabelValues("telegram_webhook")))
	})
}
