package telegram_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/channeltest"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// requireRejected checks the rejection's metric and row, and that neither
// the row nor the log holds what the patient wrote.
func (h *harness) requireRejected(reason string) {
	h.t.Helper()
	require.Equal(h.t, 1.0, testutil.ToFloat64(h.app.Metrics.WebhookRejections.WithLabelValues("telegram", reason)))
	var n int
	var chat, gotReason, detail string
	require.NoError(h.t, h.db.Q().QueryRow(context.Background(),
		`SELECT count(*), min(chat_id), min(reason), min(detail) FROM inbound_rejections WHERE channel = 'telegram'`).
		Scan(&n, &chat, &gotReason, &detail))
	require.Equal(h.t, 1, n)
	require.Equal(h.t, "9501", chat)
	require.Equal(h.t, reason, gotReason)
	require.NotContains(h.t, detail, "refused")
	h.requireCleanLogs(channeltest.PoisonText, "refused:")
}

// TestPoisonUpdatePolling: an update the database refuses is recorded as
// rejected and skipped; the updates after it, of other chats and of its
// own, are handled, and the poller does not fetch it again.
func TestPoisonUpdatePolling(t *testing.T) {
	t.Parallel()
	for _, tc := range channeltest.PoisonCases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := newHarness(t, db, harnessOpts{})
				channeltest.RefuseText(t, db, tc.Code)
				sick, others := patient(9501), []telegramtest.User{patient(9502), patient(9503), patient(9504)}
				h.fake.PushText(sick, channeltest.PoisonText)
				for _, u := range others {
					h.fake.PushText(u, "hello")
				}
				h.fake.PushText(sick, "hello")
				h.start()
				for _, u := range others {
					h.waitSent(u.ID, 1)
				}
				h.waitSent(sick.ID, 1) // the greeting for "hello": the refused message got nothing
				require.Eventually(t, func() bool { return h.fake.Pending() == 0 }, waitFor, 20*time.Millisecond)
				h.requireRejected(channeltest.WantReason(db, tc.PGReason))
				require.Equal(t, 4, h.countInbound())
				require.Len(t, h.fake.SentTo(sick.ID), 1)
			})
		})
	}
}

// TestPoisonUpdateWebhook: by webhook, the refused update is answered 200
// (so Telegram stops resending it) once it is known to be poison: at once
// for a data exception, after a few attempts while other updates were
// recorded otherwise. Never 503 forever.
func TestPoisonUpdateWebhook(t *testing.T) {
	t.Parallel()
	for _, tc := range channeltest.PoisonCases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				h := newHarness(t, db, harnessOpts{webhook: true})
				h.start()
				channeltest.RefuseText(t, db, tc.Code)
				sick, other := patient(9501), patient(9502)
				poison := telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(sick, map[string]any{"text": channeltest.PoisonText}))
				first := h.postWebhook(webhookSecret, poison).Code
				hello := telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(other, map[string]any{"text": "hello"}))
				require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, hello).Code)
				attempts, code := 1, first
				for code != http.StatusOK && attempts < 10 {
					require.Equal(t, http.StatusServiceUnavailable, code)
					code = h.postWebhook(webhookSecret, poison).Code
					attempts++
				}
				require.Equal(t, http.StatusOK, code, "Telegram is told to stop resending")
				if channeltest.WantReason(db, tc.PGReason) == "store_refused" {
					require.Equal(t, 1, attempts, "a refused update is rejected at once")
				} else {
					require.Equal(t, 5, attempts)
				}
				require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, poison).Code, "a resent rejected update")
				h.waitSent(other.ID, 1)
				later := telegramtest.Update(h.fake.NextUpdateID(), "message", h.fake.Message(sick, map[string]any{"text": "hello"}))
				require.Equal(t, http.StatusOK, h.postWebhook(webhookSecret, later).Code)
				h.waitSent(sick.ID, 1)
				h.requireRejected(channeltest.WantReason(db, tc.PGReason))
			})
		})
	}
}
