package triage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/askperson"
	"github.com/tend-health/tend/dialogs/menu"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

// fakeNotifier records the handoffs staff would be alerted to.
type fakeNotifier struct {
	mu     sync.Mutex
	opened []handoff.Handoff
	err    error
}

func (n *fakeNotifier) HandoffOpened(_ *bot.Turn, h handoff.Handoff) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return n.err
	}
	n.opened = append(n.opened, h)
	return nil
}

func (n *fakeNotifier) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.opened)
}

// harness is the real engine with the menu and handoff dialogs and the
// triage guard, on a real store, speaking on an inline channel.
type harness struct {
	t      *testing.T
	db     *store.DB
	engine *bot.Engine
	clock  *clock.Fake
	seq    int
	guard  *Guard
}

var testNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC) // a Tuesday, clinic open

func newHarness(t *testing.T, db *store.DB, n handoff.Notifier) *harness {
	t.Helper()
	return newHarnessWith(t, db, n, nil)
}

// newHarnessWith is newHarness with a change to the guard before it is used.
func newHarnessWith(t *testing.T, db *store.DB, n handoff.Notifier, change func(*Guard)) *harness {
	t.Helper()
	profile, err := clinic.Parse(sample.ClinicYAML())
	require.NoError(t, err)
	cat := catalog.New(profile.TemplateData(), nil)
	for _, fsys := range []fs.FS{bot.Locales(), menu.Locales(), handoff.Locales(), Locales()} {
		require.NoError(t, cat.AddFS(fsys))
	}
	clk := clock.NewFake(testNow)
	e := bot.New(bot.Options{DB: db, Clock: clk, Catalog: cat, Clinic: profile, InlineChannels: []string{"cli"}})
	g := NewGuard(matcher(t), n, nil)
	if change != nil {
		change(g)
	}
	e.AddGuard(g)
	e.AddDialog(menu.Dialog{})
	e.AddDialog(askperson.Dialog{Notifier: n})
	fb := menu.FallbackDialog{}
	e.AddDialog(fb)
	e.SetFallback(fb.Name())
	return &harness{t: t, db: db, engine: e, clock: clk, guard: g}
}

// send handles one message in the chat and returns its outcome.
func (h *harness) send(chat string, in bot.Inbound) bot.Outcome {
	h.t.Helper()
	h.seq++
	in.Channel, in.ChatID, in.SenderID, in.MessageID = "cli", chat, chat, fmt.Sprintf("%s-%d", chat, h.seq)
	out, err := h.engine.Handle(context.Background(), in)
	require.NoError(h.t, err)
	return out
}

func (h *harness) say(chat, text string) bot.Outcome {
	h.t.Helper()
	return h.send(chat, bot.Inbound{Text: text})
}

func (h *harness) conversation(id int64) store.Conversation {
	h.t.Helper()
	c, err := h.db.Q().GetConversation(context.Background(), id)
	require.NoError(h.t, err)
	return c
}

func (h *harness) handoff(id int64) (handoff.Handoff, bool) {
	h.t.Helper()
	ho, err := handoff.ActiveFor(context.Background(), h.db.Q(), id)
	if errors.Is(err, store.ErrNotFound) {
		return ho, false
	}
	require.NoError(h.t, err)
	return ho, true
}

func TestGuardEmergency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		n := &fakeNotifier{}
		h := newHarness(t, db, n)

		// An emergency with an ordinary question attached: only the emergency reply.
		out := h.say("e1", "I'm having chest pain right now, how much is an office visit?")
		require.Len(t, out.Replies, 1)
		r := out.Replies[0]
		require.Equal(t, bot.ActionEmergency, r.Action)
		require.Contains(t, r.Text, "911")
		require.Contains(t, r.Text, "emergency room")
		require.NotContains(t, r.Text, "$")
		require.Empty(t, r.Buttons)
		conv := h.conversation(out.ConversationID)
		require.NotNil(t, conv.FlaggedAt)
		require.True(t, conv.FlaggedAt.Equal(testNow))
		ho, ok := h.handoff(out.ConversationID)
		require.True(t, ok, "an emergency opens a handoff")
		require.Equal(t, handoff.ReasonEmergency, ho.Reason)
		require.True(t, ho.Urgent)
		require.Equal(t, handoff.StatusOpen, ho.Status)
		require.Equal(t, 1, n.count(), "staff are alerted")

		// Another red flag later: the reply again, no second alert, the first flag time kept.
		h.clock.Advance(time.Minute)
		out = h.say("e1", "it's getting worse and now I can't breathe")
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
		require.Equal(t, 1, n.count())
		require.True(t, h.conversation(out.ConversationID).FlaggedAt.Equal(testNow))
	})
}

func TestGuardCrisisAndLanguage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil)
		out := h.say("c1", "i want to end my life")
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
		require.Contains(t, out.Replies[0].Text, "988")
		require.Contains(t, out.Replies[0].Text, "911")
		_, ok := h.handoff(out.ConversationID)
		require.True(t, ok, "recorded for staff even without a staff channel")

		// Spanish in a conversation that started in English: answered in Spanish.
		out = h.say("s1", "me duele mucho el pecho")
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
		require.Contains(t, out.Replies[0].Text, "911")
		require.Contains(t, out.Replies[0].Text, "sala de emergencias")
	})
}

// An emergency (911) reply to a message that speaks of self-harm also gives
// the crisis line; one that does not, does not.
func TestGuardCrisisLineWithEmergency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil)
		out := h.say("o1", "I took a whole bottle of my sleeping pills and now I can't keep my eyes open")
		require.Len(t, out.Replies, 1)
		text := out.Replies[0].Text
		require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
		require.Contains(t, text, "911")
		require.Contains(t, text, "988")
		require.True(t, strings.HasPrefix(text, "This may be a medical emergency."), "the emergency reply comes first: %s", text)
		require.Contains(t, text, "If this is about hurting yourself")

		out = h.say("o2", "my husband has crushing chest pain and can't breathe")
		require.Contains(t, out.Replies[0].Text, "911")
		require.NotContains(t, out.Replies[0].Text, "988")

		out = h.say("o3", "se tomó todas las pastillas y no despierta")
		require.True(t, strings.HasPrefix(out.Replies[0].Text, "Esto puede ser una emergencia médica."), out.Replies[0].Text)
		require.Contains(t, out.Replies[0].Text, "988")
	})
}

func TestGuardLetsAdminThrough(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		n := &fakeNotifier{}
		h := newHarness(t, db, n)
		for i, text := range []string{"how much is a chest x-ray", "I have a pacemaker, can I get an MRI?", "how do I get a refill"} {
			out := h.say(fmt.Sprintf("a%d", i), text)
			require.NotEmpty(t, out.Replies)
			for _, r := range out.Replies {
				require.NotEqual(t, bot.ActionEmergency, r.Action, text)
				require.NotEqual(t, bot.ActionAbstain, r.Action, text)
				require.NotContains(t, r.Text, "911", text)
			}
			require.Nil(t, h.conversation(out.ConversationID).FlaggedAt, text)
			_, ok := h.handoff(out.ConversationID)
			require.False(t, ok, text)
		}
		require.Zero(t, n.count())
	})
}

func TestGuardAdvice(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, &fakeNotifier{})
		out := h.say("v1", "how much ibuprofen can I give my 4 year old")
		require.Len(t, out.Replies, 1)
		r := out.Replies[0]
		require.Equal(t, bot.ActionAbstain, r.Action)
		require.Contains(t, r.Text, "(555) 014-2000", "the clinic's phone number")
		require.Len(t, r.Buttons, 1)
		require.Equal(t, "handoff:request:asked", r.Buttons[0].Payload)
		require.Nil(t, h.conversation(out.ConversationID).FlaggedAt, "advice is not an emergency")

		// The button reaches the handoff dialog.
		out = h.send("v1", bot.Inbound{Text: r.Buttons[0].Label, Payload: r.Buttons[0].Payload})
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionHandoff, out.Replies[0].Action)
		ho, ok := h.handoff(out.ConversationID)
		require.True(t, ok)
		require.Equal(t, handoff.ReasonAsked, ho.Reason)
		require.False(t, ho.Urgent)

		// In Spanish.
		out = h.say("v2", "¿cuánto paracetamol le doy a mi bebé?")
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionAbstain, out.Replies[0].Action)
		require.Equal(t, "Hablar con una persona", out.Replies[0].Buttons[0].Label)
	})
}

// TestGuardAdviceWhenStaffOwn: once a person owns the conversation, they
// answer questions themselves; emergencies are still answered at once.
func TestGuardAdviceWhenStaffOwn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil)
		out := h.say("o1", "hello")
		ctx := context.Background()
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			c, err := tx.LockConversation(ctx, out.ConversationID)
			if err != nil {
				return err
			}
			c.Mode = store.ModeStaff
			return tx.SaveConversation(ctx, &c, testNow)
		}))
		out = h.say("o1", "can I double my metformin")
		for _, r := range out.Replies {
			require.NotEqual(t, bot.ActionAbstain, r.Action)
		}
		out = h.say("o1", "my chest hurts so bad")
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
	})
}

// TestGuardEmergencyWhenAlertFails: a failing staff alert must not cost the
// patient the emergency reply.
func TestGuardEmergencyWhenAlertFails(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, &fakeNotifier{err: errors.New("slack is down")})
		out := h.say("f1", "my son swallowed a battery")
		require.Len(t, out.Replies, 1)
		require.Equal(t, bot.ActionEmergency, out.Replies[0].Action)
		require.True(t, strings.Contains(out.Replies[0].Text, "911"))
		require.NotNil(t, h.conversation(out.ConversationID).FlaggedAt, "the flag still shows staff")
		_, ok := h.handoff(out.ConversationID)
		require.False(t, ok, "the failed handoff was rolled back alone")
	})
}
