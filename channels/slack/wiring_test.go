package slack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/knowledge/openaifake"
)

// The production pieces internal/cli wires into the handoff: the chat
// model's summary (against the local OpenAI-compatible fake) and the
// patient registry's card (real patients rows).

func chatSummarizer(t *testing.T, srv *openaifake.Server, timeout time.Duration) handoff.Summarizer {
	t.Helper()
	s, err := knowledge.NewSummarizer(knowledge.GeneratorOptions{BaseURL: srv.BaseURL(), APIKey: "sk-test", Model: "gpt-test", Timeout: timeout})
	require.NoError(t, err)
	return handoff.ChatSummarizer{Model: s, Lang: "en"}
}

func TestChatModelSummary(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := openaifake.New(t)
		srv.OnChat(func(openaifake.ChatRequest) (string, *openaifake.Failure) {
			return "Patient asks to talk to a person.\nNothing answered yet.\nThis third line is dropped.", nil
		})
		h := newHarness(t, db, nil, nil, withOptions(func(o *Options) { o.Summarizer = chatSummarizer(t, srv, 5*time.Second) }))
		h.send(bot.Inbound{Channel: web.Channel, ChatID: "p1", SenderID: "p1", Text: "hello",
			Meta: map[string]string{bot.MetaFirstName: "Grace"}})
		_, ts := h.requestPerson("p1")
		r := h.slack.lastRender(ts)
		require.Contains(t, r, "*Summary*\nPatient asks to talk to a person.\nNothing answered yet.")
		require.NotContains(t, r, "third line")
		require.Contains(t, r, "Can I talk to a person please?", "the transcript stays")

		calls := srv.ChatCalls()
		require.Len(t, calls, 1, "one summary per handoff")
		sent := calls[0].Messages[1].Content
		require.Contains(t, sent, "Patient: Can I talk to a person please?")
		require.NotContains(t, sent, "Grace", "the model sees the transcript lines, not who the patient is")
	})
}

func TestChatModelDownHandoffStillPosted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := openaifake.New(t)
		srv.OnChat(func(openaifake.ChatRequest) (string, *openaifake.Failure) { return "A summary.", nil })
		srv.FailNext(openaifake.Failure{Status: 503})
		h := newHarness(t, db, nil, nil, withOptions(func(o *Options) { o.Summarizer = chatSummarizer(t, srv, time.Second) }))
		_, ts := h.requestPerson("down")
		r := h.slack.lastRender(ts)
		require.NotContains(t, r, "Summary")
		require.Contains(t, r, "Can I talk to a person please?")

		// A model that does not answer in time: the handoff goes out without it.
		release := srv.Block()
		t.Cleanup(release)
		_, ts = h.requestPerson("slow")
		r = h.slack.lastRender(ts)
		require.NotContains(t, r, "Summary")
		require.Contains(t, r, "Can I talk to a person please?")
		require.Empty(t, srv.ChatCalls(), "neither request was answered")
	})
}

func TestPatientCardFromRegistry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := patients.Patient{ExternalID: "MG-1003", FirstName: "Grace", LastName: "Okafor", BirthDate: "1985-07-21",
			Phone: "+1 555 014 2003", Email: "grace.okafor@example.com", Lang: "en"}
		require.NoError(t, patients.Upsert(ctx, db.Q(), &p, wedMorning))
		h := newHarness(t, db, nil, nil, withOptions(func(o *Options) { o.Registry = booking.Registry{} }))
		meta := map[string]string{bot.MetaFirstName: "Grace"}
		link := func(chat string, patientID int64) {
			h.send(bot.Inbound{Channel: web.Channel, ChatID: chat, SenderID: chat, Text: "hello", Meta: meta})
			if patientID != 0 {
				_, err := db.Q().Exec(ctx, `UPDATE conversations SET patient_id = $2 WHERE id = $1`, h.conv(chat).ID, patientID)
				require.NoError(t, err)
			}
		}

		link("verified", p.ID)
		_, ts := h.requestPerson("verified")
		r := h.slack.lastRender(ts)
		require.Contains(t, r, "Grace Okafor (verified)")
		require.Contains(t, r, "Date of birth: 1985-07-21")
		require.Contains(t, r, "Phone: +1 555 014 2003")
		require.NotContains(t, r, "grace.okafor@example.com", "only what staff need")

		link("unverified", 0)
		_, ts = h.requestPerson("unverified")
		r = h.slack.lastRender(ts)
		require.Contains(t, r, "Grace (unverified)")
		for _, detail := range []string{"Okafor", "1985", "555 014 2003"} {
			require.NotContains(t, r, detail)
		}

		// A patient removed from the registry since verifying: the handoff
		// still goes out, with the first name the channel gave.
		link("removed", p.ID+1000)
		_, ts = h.requestPerson("removed")
		r = h.slack.lastRender(ts)
		require.Contains(t, r, "Grace (verified)")
		require.False(t, strings.Contains(r, "Date of birth"), r)
	})
}
