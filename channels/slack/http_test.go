package slack

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func TestWebhookSignatures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		challenge := []byte(`{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)

		w := h.postEvent(challenge, nil)
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", w.Body.String())

		for name, edit := range map[string]func(*http.Request){
			"unsigned": func(r *http.Request) {
				r.Header.Del("X-Slack-Signature")
				r.Header.Del("X-Slack-Request-Timestamp")
			},
			"wrong secret": func(r *http.Request) {
				r.Header.Set("X-Slack-Signature", "v0=0000000000000000000000000000000000000000000000000000000000000000")
			},
			"not hex":  func(r *http.Request) { r.Header.Set("X-Slack-Signature", "v0=zz") },
			"no v0":    func(r *http.Request) { r.Header.Set("X-Slack-Signature", "abc") },
			"stale":    func(r *http.Request) { sign(r.Header, challenge, time.Now().Add(-6*time.Minute)) },
			"future":   func(r *http.Request) { sign(r.Header, challenge, time.Now().Add(6*time.Minute)) },
			"bad time": func(r *http.Request) { r.Header.Set("X-Slack-Request-Timestamp", "yesterday") },
		} {
			w := h.postEvent(challenge, edit)
			require.Equal(t, http.StatusUnauthorized, w.Code, name)
			w = h.postInteraction([]byte(`{"type":"block_actions"}`), edit)
			require.Equal(t, http.StatusUnauthorized, w.Code, name)
		}

		// Signed with the body as sent: a body altered on the way fails.
		w = h.postEvent(challenge, func(r *http.Request) {
			sign(r.Header, []byte(`{"type":"url_verification","challenge":"other"}`), time.Now())
		})
		require.Equal(t, http.StatusUnauthorized, w.Code)
	})
}

func TestWebhookMalformed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		for name, body := range map[string]string{
			"not json":         `{"type":`,
			"no type":          `{"event_id":"Ev1"}`,
			"no event_id":      `{"type":"event_callback","event":{"type":"message"}}`,
			"event not object": `{"type":"event_callback","event_id":"Ev1","event":"message"}`,
		} {
			w := h.postEvent([]byte(body), nil)
			require.Equal(t, http.StatusBadRequest, w.Code, name)
		}
		for name, payload := range map[string]string{
			"not json":     `{"type":"block_actions"`,
			"no user":      `{"type":"block_actions","actions":[{"action_id":"handoff_take","value":"1"}]}`,
			"no actions":   `{"type":"block_actions","user":{"id":"U1"}}`,
			"bad value":    `{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"handoff_take","value":"x"}]}`,
			"negative id":  `{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"handoff_take","value":"-4"}]}`,
			"empty object": `{}`,
		} {
			w := h.postInteraction([]byte(payload), nil)
			if name == "empty object" {
				require.Equal(t, http.StatusOK, w.Code, name) // not a block action: ignored
				continue
			}
			require.Equal(t, http.StatusBadRequest, w.Code, name)
		}
		w := h.do("/webhooks/slack/interactions", "application/x-www-form-urlencoded", []byte("nopayload=1"), nil)
		require.Equal(t, http.StatusBadRequest, w.Code)
		w = h.do("/webhooks/slack/interactions", "application/x-www-form-urlencoded", []byte("%zz"), nil)
		require.Equal(t, http.StatusBadRequest, w.Code)

		// Unknown buttons and other event types are acknowledged and ignored.
		w = h.postInteraction([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"other","value":"1"}]}`), nil)
		require.Equal(t, http.StatusOK, w.Code)
		w = h.postEvent([]byte(`{"type":"app_rate_limited","minute_rate_limited":1518467820}`), nil)
		require.Equal(t, http.StatusOK, w.Code)

		var n int
		require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT count(*) FROM slack_inbox`).Scan(&n))
		require.Zero(t, n, "nothing malformed or foreign was stored")
	})
}

func TestWebhookRetriesDropped(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		ho, ts := h.requestPerson("p1")
		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.patientGot("p1", "Anna from "+clinicName+" has joined")

		body := messageEventBody("EvRETRY1", "UANNA", "Your results are ready.", "2000000000.000001", ts, nil)
		for i, retry := range []string{"", "1", "2", "3"} {
			w := h.postEvent(body, func(r *http.Request) {
				if retry != "" {
					r.Header.Set("X-Slack-Retry-Num", retry)
					r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
				}
			})
			require.Equal(t, http.StatusOK, w.Code, "delivery %d", i)
		}
		h.inboxSettled()
		h.patientGot("p1", "Your results are ready.")
		n := 0
		for _, s := range h.history("p1") {
			if s.Text == "Your results are ready." {
				n++
			}
		}
		require.Equal(t, 1, n, "relayed once")
		var rows int
		require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT count(*) FROM slack_inbox WHERE dedupe_key = 'ev:EvRETRY1'`).Scan(&rows))
		require.Equal(t, 1, rows)
	})
}
