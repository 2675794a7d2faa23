package askperson_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/askperson"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// staff records the handoffs the dialog opens, as the Slack side would.
type staff struct {
	mu     sync.Mutex
	opened []handoff.Handoff
}

func (s *staff) HandoffOpened(_ *bot.Turn, h handoff.Handoff) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened = append(s.opened, h)
	return nil
}

func (s *staff) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.opened)
}

type chat struct {
	t  *testing.T
	a  *app.App
	id string
	n  int
}

func (c *chat) send(text, payload string) []bot.Sent {
	c.t.Helper()
	c.n++
	out, err := c.a.Engine.Handle(context.Background(), bot.Inbound{Channel: "web", ChatID: c.id, SenderID: c.id,
		MessageID: c.id + "-" + strconv.Itoa(c.n), Text: text, Payload: payload})
	require.NoError(c.t, err)
	require.NotEmpty(c.t, out.Replies)
	return out.Replies
}

func newChat(t *testing.T, db *store.DB, n handoff.Notifier) *chat {
	a := apptest.New(t, db, apptest.Options{Clock: clock.NewFake(apptest.Epoch),
		Modules: []app.Module{askperson.Module{Staff: n}}})
	return &chat{t: t, a: a, id: "p1"}
}

// TestTalkToAPersonWithoutStaff: with no staff channel the request is
// recorded and the patient is told staff will follow up, with the phone.
func TestTalkToAPersonWithoutStaff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newChat(t, db, nil)
		got := c.send("can I talk to a real person please", "")
		require.Equal(t, bot.ActionHandoff, got[0].Action)
		require.Contains(t, got[0].Text, "our staff will follow up")
		hs, err := handoff.List(context.Background(), db.Q(), handoff.StatusOpen, 10)
		require.NoError(t, err)
		require.Len(t, hs, 1)
		require.Equal(t, handoff.ReasonAsked, hs[0].Reason)
	})
}

// TestTalkToAPersonWithStaff: with a staff side the dialog opens one
// handoff and tells staff once; asking again says they already know; the
// "unanswered" button records its reason; Spanish requests match too.
func TestTalkToAPersonWithStaff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := &staff{}
		c := newChat(t, db, s)
		got := c.send("agent", "")
		require.Contains(t, got[0].Text, "asked our team to join")
		require.Equal(t, 1, s.count())
		require.Contains(t, c.send("talk to someone", "")[0].Text, "already knows", "one handoff per conversation")
		require.Equal(t, 1, s.count())

		u := &chat{t: t, a: c.a, id: "p2"}
		u.send("", bot.Payload(handoff.Name, "request", handoff.ReasonUnanswered))
		es := &chat{t: t, a: c.a, id: "p3"}
		es.send("quiero hablar con una persona", "")
		require.Equal(t, 3, s.count())
		hs, err := handoff.List(context.Background(), db.Q(), handoff.StatusOpen, 10)
		require.NoError(t, err)
		var reasons []string
		for _, h := range hs {
			reasons = append(reasons, h.Reason)
		}
		require.ElementsMatch(t, []string{handoff.ReasonAsked, handoff.ReasonUnanswered, handoff.ReasonAsked}, reasons)
	})
}

// TestUnknownHandoffButtonIsNotClaimed: a handoff button the dialog does
// not know is left to the engine (the "no longer available" reply), and
// ordinary questions are not claimed.
func TestUnknownHandoffButtonIsNotClaimed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := &staff{}
		c := newChat(t, db, s)
		c.send("", bot.Payload(handoff.Name, "explode"))
		c.send("what are your hours?", "")
		require.Zero(t, s.count())
	})
}
