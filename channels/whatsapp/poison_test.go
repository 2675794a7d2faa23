package whatsapp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/channeltest"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestPoisonMessage: a message the database refuses is recorded as
// rejected and skipped, and its notification answered 200 once that is
// known (at once for a data exception; for another error after a few
// deliveries while other messages were recorded), so Meta stops resending
// it. The other message of the same notification is handled once, and the
// patient's next message is answered.
func TestPoisonMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range channeltest.PoisonCases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				var logs apptest.SyncBuffer
				e := newEnv(t, db, withLog(&logs))
				channeltest.RefuseText(t, db, tc.Code)
				reason := channeltest.WantReason(db, tc.PGReason)
				sick, other := newPatient(), newPatient()
				poisonID := wamid()
				body := e.api.Notification(
					whatsapptest.Inbound(sick, "Ana", whatsapptest.Text(sick, poisonID, channeltest.PoisonText)),
					whatsapptest.Inbound(other, "Bo", whatsapptest.Text(other, wamid(), "hello")))
				attempts, code := 1, e.post(body)
				for code != http.StatusOK && attempts < 10 {
					require.Equal(t, http.StatusInternalServerError, code)
					code = e.post(body)
					attempts++
				}
				require.Equal(t, http.StatusOK, code, "Meta is told to stop resending")
				if reason == "store_refused" {
					require.Equal(t, 1, attempts, "a refused message is rejected at once")
				} else {
					require.Equal(t, 5, attempts)
				}
				require.Equal(t, http.StatusOK, e.post(body), "a resent notification")
				e.waitSent(other, 1)
				e.say(sick, wamid(), "hello")
				e.waitSent(sick, 1)
				require.Equal(t, 2, e.countInbound())
				require.Len(t, e.api.SentTo(other), 1, "the other message was handled once")

				require.Equal(t, 1.0, testutil.ToFloat64(e.app.Metrics.WebhookRejections.WithLabelValues("whatsapp", reason)))
				var n int
				var ext, chat, gotReason, detail string
				require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT count(*), min(external_id), min(chat_id),
					min(reason), min(detail) FROM inbound_rejections WHERE channel = 'whatsapp'`).Scan(&n, &ext, &chat, &gotReason, &detail))
				require.Equal(t, 1, n)
				require.Equal(t, poisonID, ext)
				require.Equal(t, sick, chat)
				require.Equal(t, reason, gotReason)
				require.NotContains(t, detail, "refused")
				require.NotContains(t, logs.String(), channeltest.PoisonText)
				require.NotContains(t, logs.String(), "refused:")
			})
		})
	}
}

// TestUndecodableMessage: a message the Cloud API would not send (its
// fields of the wrong types) is rejected and skipped; the rest of its
// notification is handled and the notification answered 200.
func TestUndecodableMessage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		wa, other := newPatient(), newPatient()
		odd := map[string]any{"from": wa, "id": wamid(), "timestamp": 17, "type": "text", "text": "not an object"}
		body := e.api.Notification(whatsapptest.Inbound(wa, "Ana", odd),
			whatsapptest.Inbound(other, "Bo", whatsapptest.Text(other, wamid(), "hello")))
		require.Equal(t, http.StatusOK, e.post(body))
		e.waitSent(other, 1)
		require.Equal(t, 1, e.countInbound())
		require.Equal(t, 1.0, testutil.ToFloat64(e.app.Metrics.WebhookRejections.WithLabelValues("whatsapp", "undecodable")))
	})
}
