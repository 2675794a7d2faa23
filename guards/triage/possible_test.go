package triage

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// A possible emergency gets the guidance first and one question; "yes"
// gives the full reply and the urgent handoff, "no" goes on as usual.
func TestGuardPossibleEmergency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		n := &fakeNotifier{}
		msg := "honestly I can't see a way out anymore"
		// Whether this message is a certain or a possible emergency is the
		// fitted model's call; here the thresholds put it in between.
		d := detector(t)
		sc := d.score(msg, nil, nil)
		require.True(t, sc.ok)
		h := newHarnessWith(t, db, n, func(g *Guard) {
			l := *g.detector.learned
			l.low, l.high = sc.prob/2, math.Nextafter(sc.prob, 2)
			g.detector = &Detector{rules: g.detector.rules, concepts: g.detector.concepts, learned: &l}
		})
		r := h.guard.detector.Classify(msg)
		require.True(t, r.Possible, "%+v", r)
		require.Equal(t, ReplyCrisis, r.Reply, "%+v", r)

		out := h.say("p1", msg)
		require.Len(t, out.Replies, 1)
		rep := out.Replies[0]
		require.Equal(t, bot.ActionEmergency, rep.Action, "a possible emergency counts as emergency: the guidance comes first")
		require.Contains(t, rep.Text, "988")
		require.Contains(t, rep.Text, "Is this happening now?")
		require.Len(t, rep.Buttons, 2)
		require.Equal(t, "triage:now:yes:crisis", rep.Buttons[0].Payload)
		require.Equal(t, "triage:now:no", rep.Buttons[1].Payload)
		_, open := h.handoff(out.ConversationID)
		require.False(t, open, "no handoff until the patient says yes")

		out = h.send("p1", bot.Inbound{Payload: "triage:now:no"})
		require.Len(t, out.Replies, 1)
		require.NotEqual(t, bot.ActionEmergency, out.Replies[0].Action)
		_, open = h.handoff(out.ConversationID)
		require.False(t, open)

		out = h.send("p1", bot.Inbound{Payload: "triage:now:yes:crisis"})
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
		require.Contains(t, out.Replies[0].Text, "988")
		ho, open := h.handoff(out.ConversationID)
		require.True(t, open)
		require.True(t, ho.Urgent)
		require.NotNil(t, h.conversation(out.ConversationID).FlaggedAt)
		require.Equal(t, 1, n.count())
	})
}

// Emergencies from one address in many new sessions: one urgent alert,
// the rest reach staff without the urgent mention.
func TestGuardGroupsUrgentAlertsPerSource(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		n := &fakeNotifier{}
		h := newHarness(t, db, n)
		urgent := 0
		for _, chat := range []string{"s1", "s2", "s3", "s4"} {
			out := h.send(chat, bot.Inbound{Text: "I'm having crushing chest pain right now",
				Meta: map[string]string{handoff.MetaSourceAddr: "198.51.100.7"}})
			require.Equal(t, bot.ActionEmergency, out.Replies[0].Action, "every patient still gets the emergency reply")
			ho, open := h.handoff(out.ConversationID)
			require.True(t, open)
			if ho.Urgent {
				urgent++
			}
		}
		require.Equal(t, 1, urgent)
		require.Equal(t, 4, n.count())
		// Someone else is not held back.
		out := h.send("other", bot.Inbound{Text: "I'm having crushing chest pain right now",
			Meta: map[string]string{handoff.MetaSourceAddr: "203.0.113.9"}})
		ho, _ := h.handoff(out.ConversationID)
		require.True(t, ho.Urgent)
	})
}
