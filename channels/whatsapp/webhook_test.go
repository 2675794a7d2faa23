package whatsapp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func TestVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	get := func(q url.Values) (int, string, string) {
		resp, err := e.srv.Client().Get(e.webhookURL() + "?" + q.Encode())
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	tests := []struct {
		name   string
		q      url.Values
		status int
	}{
		{"ok", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1158201444"}}, 200},
		{"wrong token", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"guess"}, "hub.challenge": {"1"}}, 403},
		{"no token", url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1"}}, 403},
		{"wrong mode", url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1"}}, 403},
		{"no challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ct, body := get(tc.q)
			require.Equal(t, tc.status, status)
			if tc.status == 200 {
				require.Equal(t, "text/plain; charset=utf-8", ct)
				require.Equal(t, "1158201444", body)
			}
		})
	}
}

// Bad requests get their status, are counted and store nothing.
func TestWebhookRejections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	wa := newPatient()
	good := e.api.Notification(whatsapptest.Inbound(wa, "Ana", whatsapptest.Text(wa, wamid(), "hi")))
	post := func(body []byte, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, e.webhookURL(), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	huge := append([]byte(`{"object":"whatsapp_business_account","pad":"`), bytes.Repeat([]byte("x"), whatsapp.MaxWebhookBody)...)
	huge = append(huge, `"}`...)
	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
		reason string
	}{
		{"missing signature", good, "", 401, "missing_signature"},
		{"wrong secret", good, whatsapptest.Sign("not-the-secret", good), 403, "bad_signature"},
		{"malformed signature", good, "sha256=zz", 403, "bad_signature"},
		{"sha1 signature", good, "sha1=" + strings.Repeat("a", 40), 403, "bad_signature"},
		{"body changed after signing", append([]byte(" "), good...), whatsapptest.Sign(appSecret, good), 403, "bad_signature"},
		{"malformed JSON", []byte(`{"object":`), whatsapptest.Sign(appSecret, []byte(`{"object":`)), 400, "bad_json"},
		{"not an object", []byte(`[1,2]`), whatsapptest.Sign(appSecret, []byte(`[1,2]`)), 400, "bad_json"},
		{"oversized", huge, whatsapptest.Sign(appSecret, huge), 413, "too_large"},
	}
	want := map[string]float64{}
	for _, tc := range tests {
		require.Equal(t, tc.status, post(tc.body, tc.sig), tc.name)
		want[tc.reason]++
	}
	for reason, n := range want {
		require.Equal(t, n, testutil.ToFloat64(e.app.Metrics.WebhookRejections.WithLabelValues("whatsapp", reason)), reason)
	}
	require.Equal(t, 0, e.countInbound(), "nothing was stored")
	require.Equal(t, 0, e.api.Requests(), "nothing was sent")

	// Unknown objects, fields and message types: 200, ignored, counted.
	for _, body := range [][]byte{
		[]byte(`{"object":"page","entry":[]}`),
		[]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{}}]}]}`),
		e.api.Notification(whatsapptest.Inbound(wa, "Ana", map[string]any{"from": wa, "id": wamid(), "timestamp": "1", "type": "hologram"})),
		e.api.Notification(whatsapptest.Statuses(map[string]any{"id": "wamid.x", "status": "teleported", "timestamp": "1"})),
	} {
		require.Equal(t, 200, e.post(body))
	}
	require.Equal(t, 0, e.countInbound())
	for _, kind := range []string{"object", "field", "message_type", "status"} {
		require.Equal(t, 1.0, testutil.ToFloat64(e.app.Metrics.UnknownUpdates.WithLabelValues("whatsapp", kind)), kind)
	}
}

// Meta delivers at least once: repeats, even at the same moment, are
// handled once.
func TestDuplicateDelivery(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		wa := newPatient()
		body := e.api.Notification(whatsapptest.Inbound(wa, "Ana", whatsapptest.Text(wa, wamid(), "hi")))
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { require.Equal(t, 200, e.post(body)) })
		}
		wg.Wait()
		require.Equal(t, 200, e.post(body))
		e.waitOutbound(e.conversation(wa).ID, 1)
		require.Equal(t, 1, e.countInbound())
		require.Len(t, e.api.SentTo(wa), 1)
		require.Equal(t, 1, len(e.outbound(e.conversation(wa).ID)))
	})
}

// Several entries, changes and messages in one POST are all recorded, and
// messages for another number of the business account are left alone.
// They are answered before the POST is, in order (no handling job); with a
// chat model configured they are accepted for their jobs, in order too.
func TestBatchedNotification(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for k, inRequest := range []bool{true, false} {
			var opts []envOption
			if !inRequest {
				opts = append(opts, withChatModel())
			}
			e := newEnv(t, db, opts...)
			a, b := newPatient(), newPatient()
			ids := []string{wamid(), wamid(), wamid()}
			body := e.api.Notification(
				whatsapptest.Inbound(a, "Ana", whatsapptest.Text(a, ids[0], "hi"), whatsapptest.Text(a, ids[1], "help")),
				whatsapptest.Inbound(b, "Bo", whatsapptest.Text(b, ids[2], "hola")),
			)
			require.Equal(t, 200, e.post(body))
			var done, jobs int
			ctx := context.Background()
			require.NoError(t, db.Q().QueryRow(ctx, `SELECT count(*) FROM inbound_messages
				WHERE status = 'done' AND external_id IN ($1, $2, $3)`, ids[0], ids[1], ids[2]).Scan(&done))
			require.NoError(t, db.Q().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'process_inbound'
				AND args ->> 'chat_id' IN ($1, $2)`, a, b).Scan(&jobs))
			if inRequest {
				require.Equal(t, 3, done, "answered before the webhook's 200")
				require.Zero(t, jobs)
			} else {
				require.Equal(t, 3, jobs, "one handling job per message")
			}
			for i, id := range ids[:2] {
				m, err := db.Q().FindInbound(ctx, whatsapp.Channel, id)
				require.NoError(t, err)
				require.Equal(t, int64(i+1), m.Seq, "in the notification's order")
			}
			other := bytes.Replace(e.api.Notification(whatsapptest.Inbound(b, "Bo", whatsapptest.Text(b, wamid(), "x"))),
				[]byte(e.api.PhoneNumberID), []byte("999999999"), 1)
			require.Equal(t, 200, e.post(other))
			require.Equal(t, 3*(k+1), e.countInbound(), "the other number's message left alone")
			e.waitSent(a, 2)
			e.waitSent(b, 1)
			e.stop() // its workers would deliver the next app's replies to this fake
		}
	})
}

// Statuses arrive in any order and more than once; the recorded status
// never goes backwards.
func TestStatuses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		wa := newPatient()
		e.say(wa, wamid(), "hi")
		sent := e.waitSent(wa, 1)
		conv := e.conversation(wa)
		out := e.waitOutbound(conv.ID, 1)
		require.Equal(t, sent[0].ID, out[0].ExternalID)

		t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
		st := func(s string, at time.Time) []byte {
			return e.api.Notification(whatsapptest.Statuses(whatsapptest.Status(sent[0].ID, s, wa, at, 0)))
		}
		for _, b := range [][]byte{st("read", t0.Add(3*time.Second)), st("sent", t0), st("delivered", t0.Add(time.Second)),
			st("sent", t0), st("delivered", t0.Add(2*time.Second))} {
			require.Equal(t, 200, e.post(b))
		}
		s, err := whatsapp.OutboundStatus(ctx, db.Q(), out[0].ID)
		require.NoError(t, err)
		require.Equal(t, "read", s.Status)
		require.True(t, s.SentAt.Equal(t0), "%v", s.SentAt)
		require.True(t, s.DeliveredAt.Equal(t0.Add(time.Second)), "first delivered time kept: %v", s.DeliveredAt)
		require.True(t, s.ReadAt.Equal(t0.Add(3*time.Second)))

		// A later failure (131026: the number left WhatsApp) marks the
		// conversation unreachable.
		e.say(wa, wamid(), "help")
		sent = e.waitSent(wa, 2)
		require.Equal(t, 200, e.post(e.api.Notification(whatsapptest.Statuses(
			whatsapptest.Status(sent[1].ID, "failed", wa, t0, 131026)))))
		require.Equal(t, 200, e.post(e.api.Notification(whatsapptest.Statuses(
			whatsapptest.Status(sent[1].ID, "delivered", wa, t0, 0)))))
		s, err = whatsapp.MessageStatus(ctx, db.Q(), sent[1].ID)
		require.NoError(t, err)
		require.Equal(t, "failed", s.Status)
		require.Equal(t, 131026, s.ErrorCode)
		// Whether the status or the send's record came first.
		require.Eventually(t, func() bool { return e.conversation(wa).Unreachable }, 10*time.Second, 10*time.Millisecond)

		// A status for a message not (yet) recorded as sent is kept.
		require.Equal(t, 200, e.post(e.api.Notification(whatsapptest.Statuses(
			whatsapptest.Status("wamid.unknown", "delivered", wa, t0, 0)))))
		s, err = whatsapp.MessageStatus(ctx, db.Q(), "wamid.unknown")
		require.NoError(t, err)
		require.Equal(t, "delivered", s.Status)
	})
}

// Many webhooks at once, each delivered twice, for a few patients: every
// message is recorded once, in its conversation's order of acceptance, and
// answered once.
func TestConcurrentWebhooks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const perPatient = 6
		patients := []string{newPatient(), newPatient(), newPatient(), newPatient()}
		var bodies [][]byte
		for _, wa := range patients {
			for range perPatient {
				bodies = append(bodies, e.api.Notification(whatsapptest.Inbound(wa, "P", whatsapptest.Text(wa, wamid(), "help"))))
			}
		}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < 2*len(bodies); i += 8 {
					require.Equal(t, 200, e.post(bodies[i%len(bodies)]))
				}
			})
		}
		wg.Wait()
		require.Equal(t, len(bodies), e.countInbound())
		for _, wa := range patients {
			conv := e.conversation(wa)
			require.EqualValues(t, perPatient, conv.NextInSeq)
			e.waitOutbound(conv.ID, perPatient)
			require.Len(t, e.api.SentTo(wa), perPatient)
		}
	})
}
