package slack

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// Socket Mode: no public URL and no webhooks; events and button presses
// arrive as envelopes over the WebSocket, are acknowledged once stored,
// repeats are dropped, and a dropped connection is opened again.
func TestSocketMode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil, socketMode)
		h.slack.addUser("UANNA", "Anna")
		sock := h.slack.sock()
		h.eventually("connected", func() bool { _, conns := sock.counts(); return conns == 1 })

		w := h.postEvent([]byte(`{"type":"url_verification","challenge":"x"}`), nil)
		require.Equal(t, http.StatusNotFound, w.Code, "no webhooks in Socket Mode")

		ho, ts := h.requestPerson("p1")
		sock.send <- envelope("env-1", "interactive", h.pressPayload("UANNA", "Anna", actionTake, ho.ID, ts), 0)
		h.eventually("take acked", func() bool { return sock.acked("env-1") })
		h.patientGot("p1", "Anna from "+clinicName+" has joined")

		reply := messageEventBody("EvSOCK1", "UANNA", "Hello from Slack", "2000000002.000001", ts, nil)
		sock.send <- envelope("env-2", "events_api", reply, 0)
		sock.send <- envelope("env-3", "events_api", reply, 1) // Slack's retry of the same event
		h.eventually("reply acked", func() bool { return sock.acked("env-2") && sock.acked("env-3") })
		h.patientGot("p1", "Hello from Slack")
		h.inboxSettled()
		n := 0
		for _, s := range h.history("p1") {
			if s.Text == "Hello from Slack" {
				n++
			}
		}
		require.Equal(t, 1, n)

		// The connection drops; the module connects again and carries on.
		sock.kick <- struct{}{}
		h.eventually("reconnected", func() bool { opens, conns := sock.counts(); return opens >= 2 && conns >= 2 })
		sock.send <- envelope("env-4", "events_api", messageEventBody("EvSOCK2", "UANNA", "Still here", "2000000002.000002", ts, nil), 0)
		h.eventually("acked after reconnect", func() bool { return sock.acked("env-4") })
		h.patientGot("p1", "Still here")

		// SIGTERM: the socket loop ends and Close returns promptly.
		h.close()
		select {
		case <-h.mod.done:
		default:
			t.Fatal("socket mode still running after close")
		}
	})
}
