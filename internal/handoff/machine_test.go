package handoff_test

import (
	"context"
	"github.com/tend-health/tend/dialogs/askperson"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// wedMorning is Wednesday 10:00 in the sample clinic's zone (America/Chicago).
var wedMorning = time.Date(2030, 1, 9, 16, 0, 0, 0, time.UTC)

var (
	anna = handoff.Actor{ID: "UANNA", Name: "Anna"}
	ben  = handoff.Actor{ID: "UBEN", Name: "Ben"}
)

// recBoard records what staff would be shown.
type recBoard struct {
	mu     sync.Mutex
	events []handoff.Event
}

func (b *recBoard) Post(_ context.Context, _ store.Work, e handoff.Event) error {
	b.mu.Lock()
	b.events = append(b.events, e)
	b.mu.Unlock()
	return nil
}

// kinds lists the events for one handoff, in order.
func (b *recBoard) kinds(handoffID int64) []handoff.EventKind {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []handoff.EventKind
	for _, e := range b.events {
		if e.Handoff.ID == handoffID {
			out = append(out, e.Kind)
		}
	}
	return out
}

func (b *recBoard) last(handoffID int64) handoff.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.events) - 1; i >= 0; i-- {
		if b.events[i].Handoff.ID == handoffID {
			return b.events[i]
		}
	}
	return handoff.Event{}
}

// staff installs the machine with a recording board, as the Slack module does.
type staff struct {
	board *recBoard
	m     *handoff.Machine
}

func (*staff) Name() string { return "staff" }

func (s *staff) Install(_ context.Context, a *host.Host) error {
	s.m.Attach(a.Engine)
	a.Engine.AddGuard(s.m.Guard())
	s.m.AddWorkers(a.Workers)
	return nil
}

type env struct {
	t     *testing.T
	db    *store.DB
	app   *app.App
	board *recBoard
	m     *handoff.Machine
	staff handoff.Notifier // nil without a staff channel
	clock *clock.Fake
	n     atomic.Int64
}

func newEnv(t *testing.T, db *store.DB, withStaff bool) *env {
	t.Helper()
	clk := clock.NewFake(wedMorning)
	e := &env{t: t, db: db, board: &recBoard{}, clock: clk}
	s := &staff{board: e.board, m: handoff.NewMachine(handoff.Options{Board: e.board})}
	var n handoff.Notifier // nil: no staff channel
	if withStaff {
		n = s.m
	}
	mods := []app.Module{triage{n}, askperson.Module{Staff: n}}
	if withStaff {
		mods = append(mods, s)
	}
	a, err := app.New(context.Background(), config.Config{DataDir: t.TempDir()}, app.Options{Mode: app.ModeCLI, Clock: clk,
		Store: db, Logger: logging.Discard(), Modules: mods})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	e.app, e.m, e.staff = a, s.m, n
	return e
}

// say sends a patient message on the inline "cli" channel and returns the reply texts.
func (e *env) say(chat, text string) []bot.Sent {
	e.t.Helper()
	return e.send(bot.Inbound{Channel: "cli", ChatID: chat, SenderID: chat, Text: text})
}

func (e *env) send(in bot.Inbound) []bot.Sent {
	e.t.Helper()
	in.MessageID = in.ChatID + ":" + strconv.FormatInt(e.n.Add(1), 10)
	out, err := e.app.Engine.Handle(context.Background(), in)
	require.NoError(e.t, err)
	return out.Replies
}

func (e *env) conv(chat string) store.Conversation {
	e.t.Helper()
	c, err := e.db.Q().FindConversation(context.Background(), "cli", chat)
	require.NoError(e.t, err)
	return c
}

func (e *env) history(chat string) []string {
	e.t.Helper()
	sent, err := e.app.Engine.History(context.Background(), e.conv(chat).ID, 0, 500)
	require.NoError(e.t, err)
	var out []string
	for _, s := range sent {
		out = append(out, s.Text)
	}
	return out
}

func (e *env) handoff(chat string) handoff.Handoff {
	e.t.Helper()
	var id int64
	require.NoError(e.t, e.db.Q().QueryRow(context.Background(), `SELECT max(id) FROM handoffs WHERE conversation_id = $1`,
		e.conv(chat).ID).Scan(&id))
	h, err := handoff.Get(context.Background(), e.db.Q(), id)
	require.NoError(e.t, err)
	return h
}

type action func(ctx context.Context, tx *store.Tx, id int64) (handoff.Outcome, error)

func (e *env) do(id int64, fn action) handoff.Outcome {
	e.t.Helper()
	var out handoff.Outcome
	require.NoError(e.t, e.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = fn(context.Background(), tx, id)
		return err
	}))
	return out
}

func (e *env) take(a handoff.Actor) action {
	return func(ctx context.Context, tx *store.Tx, id int64) (handoff.Outcome, error) {
		return e.m.Take(ctx, tx, id, a)
	}
}

func (e *env) ret(a handoff.Actor) action {
	return func(ctx context.Context, tx *store.Tx, id int64) (handoff.Outcome, error) {
		return e.m.Return(ctx, tx, id, a)
	}
}

func (e *env) resolve(a handoff.Actor) action {
	return func(ctx context.Context, tx *store.Tx, id int64) (handoff.Outcome, error) {
		return e.m.Resolve(ctx, tx, id, a)
	}
}

func (e *env) reply(a handoff.Actor, text string) action {
	return func(ctx context.Context, tx *store.Tx, id int64) (handoff.Outcome, error) {
		return e.m.Reply(ctx, tx, id, a, text, "ts-1")
	}
}

// open puts a new conversation in the given handoff state and returns its handoff.
func (e *env) open(chat, status string) handoff.Handoff {
	e.t.Helper()
	switch status {
	case handoff.StatusAlert:
		e.say(chat, "hi")
		require.NoError(e.t, e.db.InTx(context.Background(), func(tx *store.Tx) error {
			return handoff.Alert(context.Background(), tx, e.staff, e.conv(chat).ID, "2/10", nil)
		}))
		return e.handoff(chat)
	}
	e.say(chat, "I want to talk to a person")
	h := e.handoff(chat)
	switch status {
	case handoff.StatusTaken:
		require.Equal(e.t, handoff.Done, e.do(h.ID, e.take(anna)).Result)
	case handoff.StatusReturned:
		require.Equal(e.t, handoff.Done, e.do(h.ID, e.take(anna)).Result)
		require.Equal(e.t, handoff.Done, e.do(h.ID, e.ret(anna)).Result)
	case handoff.StatusResolved:
		require.Equal(e.t, handoff.Done, e.do(h.ID, e.resolve(anna)).Result)
	}
	return e.handoff(chat)
}

func TestStateMachine(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		cases := []struct {
			from    string
			act     func(*env) action
			result  handoff.Result
			status  string // afterwards
			mode    string // afterwards
			patient string // the last thing the patient was told ("" when nothing new)
			event   handoff.EventKind
		}{
			{handoff.StatusOpen, func(e *env) action { return e.take(ben) }, handoff.Done, handoff.StatusTaken, store.ModeStaff, "Ben from Maple Grove Family Clinic has joined the conversation.", handoff.EventTaken},
			{handoff.StatusOpen, func(e *env) action { return e.ret(ben) }, handoff.Done, handoff.StatusReturned, store.ModeBot, "Our team has passed you back to the assistant.", handoff.EventReturned},
			{handoff.StatusOpen, func(e *env) action { return e.resolve(ben) }, handoff.Done, handoff.StatusResolved, store.ModeBot, "Ben has closed this conversation.", handoff.EventResolved},
			{handoff.StatusOpen, func(e *env) action { return e.reply(ben, "hi") }, handoff.NotTaken, handoff.StatusOpen, store.ModeWaiting, "", ""},
			{handoff.StatusTaken, func(e *env) action { return e.take(ben) }, handoff.TakenByOther, handoff.StatusTaken, store.ModeStaff, "", ""},
			{handoff.StatusTaken, func(e *env) action { return e.take(anna) }, handoff.AlreadyYours, handoff.StatusTaken, store.ModeStaff, "", ""},
			{handoff.StatusTaken, func(e *env) action { return e.reply(anna, "Hello, Anna here.") }, handoff.Done, handoff.StatusTaken, store.ModeStaff, "Hello, Anna here.", ""},
			{handoff.StatusTaken, func(e *env) action { return e.reply(ben, "psst") }, handoff.NotOwner, handoff.StatusTaken, store.ModeStaff, "", ""},
			{handoff.StatusTaken, func(e *env) action { return e.ret(ben) }, handoff.Done, handoff.StatusReturned, store.ModeBot, "Anna has left the conversation. You're back with the assistant", handoff.EventReturned},
			{handoff.StatusTaken, func(e *env) action { return e.resolve(anna) }, handoff.Done, handoff.StatusResolved, store.ModeBot, "Anna has closed this conversation.", handoff.EventResolved},
			{handoff.StatusReturned, func(e *env) action { return e.take(ben) }, handoff.Done, handoff.StatusTaken, store.ModeStaff, "Ben from Maple Grove Family Clinic has joined the conversation.", handoff.EventTaken},
			{handoff.StatusReturned, func(e *env) action { return e.ret(ben) }, handoff.AlreadyReturned, handoff.StatusReturned, store.ModeBot, "", ""},
			{handoff.StatusReturned, func(e *env) action { return e.resolve(ben) }, handoff.Done, handoff.StatusResolved, store.ModeBot, "", handoff.EventResolved},
			{handoff.StatusReturned, func(e *env) action { return e.reply(anna, "x") }, handoff.NotTaken, handoff.StatusReturned, store.ModeBot, "", ""},
			{handoff.StatusResolved, func(e *env) action { return e.take(ben) }, handoff.AlreadyResolved, handoff.StatusResolved, store.ModeBot, "", ""},
			{handoff.StatusResolved, func(e *env) action { return e.ret(ben) }, handoff.AlreadyResolved, handoff.StatusResolved, store.ModeBot, "", ""},
			{handoff.StatusResolved, func(e *env) action { return e.resolve(ben) }, handoff.AlreadyResolved, handoff.StatusResolved, store.ModeBot, "", ""},
			{handoff.StatusResolved, func(e *env) action { return e.reply(anna, "x") }, handoff.AlreadyResolved, handoff.StatusResolved, store.ModeBot, "", ""},
			{handoff.StatusAlert, func(e *env) action { return e.take(ben) }, handoff.Done, handoff.StatusTaken, store.ModeStaff, "Ben from Maple Grove Family Clinic has read your feedback and joined the conversation.", handoff.EventTaken},
			{handoff.StatusAlert, func(e *env) action { return e.ret(ben) }, handoff.NotTaken, handoff.StatusAlert, store.ModeBot, "", ""},
			{handoff.StatusAlert, func(e *env) action { return e.resolve(ben) }, handoff.Done, handoff.StatusResolved, store.ModeBot, "", handoff.EventResolved},
			{handoff.StatusAlert, func(e *env) action { return e.reply(ben, "x") }, handoff.NotTaken, handoff.StatusAlert, store.ModeBot, "", ""},
		}
		for i, c := range cases {
			chat := "sm-" + strconv.Itoa(i)
			h := e.open(chat, c.from)
			require.Equal(t, c.from, h.Status, "case %d setup", i)
			before := e.history(chat)
			events := len(e.board.kinds(h.ID))
			out := e.do(h.ID, c.act(e))
			require.Equal(t, c.result, out.Result, "case %d: %s", i, c.from)
			after := e.handoff(chat)
			require.Equal(t, c.status, after.Status, "case %d", i)
			require.Equal(t, c.mode, e.conv(chat).Mode, "case %d", i)
			got := e.history(chat)
			if c.patient == "" {
				require.Equal(t, before, got, "case %d: the patient is told nothing", i)
			} else {
				require.Len(t, got, len(before)+1, "case %d", i)
				require.Contains(t, got[len(got)-1], c.patient, "case %d", i)
			}
			kinds := e.board.kinds(h.ID)
			if c.event == "" {
				require.Len(t, kinds, events, "case %d: staff see nothing new", i)
			} else {
				require.Equal(t, c.event, kinds[len(kinds)-1], "case %d", i)
			}
			log, err := handoff.AuditLog(context.Background(), db.Q(), h.ConversationID)
			require.NoError(t, err)
			require.Equal(t, string(c.result), log[len(log)-1].Outcome, "case %d: every action is audited", i)
		}

		require.Equal(t, handoff.Gone, e.do(987654, e.take(anna)).Result)
	})
}

func TestGuard(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		replies := e.say("g", "can I speak to someone")
		require.Len(t, replies, 1)
		require.Equal(t, "I've asked our team to join. Someone will reply here, usually within 15 minutes. You can keep writing in the meantime.", replies[0].Text)
		h := e.handoff("g")
		require.Equal(t, store.ModeWaiting, e.conv("g").Mode)
		require.Equal(t, []handoff.EventKind{handoff.EventOpened}, e.board.kinds(h.ID))
		opened := e.board.last(h.ID)
		require.Equal(t, "cli", opened.Snapshot.Channel)
		require.Equal(t, "can I speak to someone", opened.Snapshot.Lines[0].Text)

		// Waiting: mirrored, quiet, and a note at most every ten minutes.
		require.Empty(t, e.say("g", "hello?"))
		require.Equal(t, "hello?", e.board.last(h.ID).Text)
		e.clock.Advance(10 * time.Minute)
		replies = e.say("g", "anyone?")
		require.Len(t, replies, 1)
		require.True(t, strings.HasPrefix(replies[0].Text, "Thanks, I've passed that on."))
		require.Empty(t, e.say("g", "ok"))
		// Asking again while waiting is mirrored like anything else.
		require.Empty(t, e.say("g", "talk to a person"))

		// Staff own it: every message mirrored, the bot silent, even for a greeting.
		e.do(h.ID, e.take(anna))
		require.Empty(t, e.say("g", "hi"))
		require.Equal(t, handoff.EventPatient, e.board.last(h.ID).Kind)
		require.Empty(t, e.send(bot.Inbound{Channel: "cli", ChatID: "g", SenderID: "g", Payload: "menu:main"}))
		require.Equal(t, "[button] menu:main", e.board.last(h.ID).Text)
		// A stale "continue with the assistant" button does not end the staff's conversation.
		require.Empty(t, e.send(bot.Inbound{Channel: "cli", ChatID: "g", SenderID: "g", Payload: "handoff:cancel"}))
		require.Equal(t, handoff.StatusTaken, e.handoff("g").Status)

		// A mode left behind without a handoff heals: the bot answers.
		_, err := db.Q().Exec(context.Background(), `UPDATE handoffs SET status = 'resolved' WHERE id = $1`, h.ID)
		require.NoError(t, err)
		require.NotEmpty(t, e.say("g", "hi"))
		require.Equal(t, store.ModeBot, e.conv("g").Mode)
	})
}

func TestCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		e.say("c", "talk to a human")
		h := e.handoff("c")
		replies := e.send(bot.Inbound{Channel: "cli", ChatID: "c", SenderID: "c", Payload: "handoff:cancel"})
		require.Equal(t, "OK, you're back with the assistant. How can I help?", replies[0].Text)
		require.Equal(t, handoff.StatusReturned, e.handoff("c").Status)
		require.Equal(t, store.ModeBot, e.conv("c").Mode)
		require.Equal(t, handoff.EventCancelled, e.board.last(h.ID).Kind)
		log, err := handoff.AuditLog(context.Background(), db.Q(), h.ConversationID)
		require.NoError(t, err)
		require.Equal(t, "patient", log[0].Actor)
		require.Equal(t, "cancel", log[0].Action)
	})
}

func TestRequestWithoutStaffChannel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, false)
		replies := e.say("n", "talk to a person")
		require.Contains(t, replies[0].Text, "I've noted that you'd like to talk to a person")
		require.Equal(t, store.ModeBot, e.conv("n").Mode, "no staff channel: the bot keeps answering")
		require.NotEmpty(t, e.say("n", "hi"))
		require.ErrorIs(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			return handoff.Alert(context.Background(), tx, e.staff, e.conv("n").ID, "x", nil)
		}), handoff.ErrNoStaffChannel)
	})
}

func TestAlertBusy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		a := e.open("b", handoff.StatusAlert)
		e.say("b", "talk to a person")
		open := e.handoff("b")
		require.NotEqual(t, a.ID, open.ID)
		require.Equal(t, handoff.Busy, e.do(a.ID, e.take(ben)).Result, "one active handoff per conversation")
		require.Equal(t, handoff.Done, e.do(open.ID, e.take(ben)).Result)
	})
}

func TestWhenAndDuration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), true)
	loc, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	now := time.Date(2030, 1, 9, 18, 30, 0, 0, loc) // Wednesday evening
	for _, c := range []struct {
		lang string
		at   time.Time
		want string
	}{
		{"en", time.Date(2030, 1, 9, 20, 5, 0, 0, loc), "today at 8:05 PM"},
		{"en", time.Date(2030, 1, 10, 8, 0, 0, 0, loc), "tomorrow at 8:00 AM"},
		{"en", time.Date(2030, 1, 14, 8, 0, 0, 0, loc), "on Monday at 8:00 AM"},
		{"es", time.Date(2030, 1, 10, 8, 0, 0, 0, loc), "mañana a las 08:00"},
		{"es", time.Date(2030, 1, 14, 13, 30, 0, 0, loc), "el lunes a las 13:30"},
	} {
		require.Equal(t, c.want, e.m.When(c.lang, now.UTC(), c.at.UTC()))
	}
	for d, want := range map[time.Duration]string{
		time.Minute: "a minute", 15 * time.Minute: "15 minutes", time.Hour: "an hour", 2 * time.Hour: "2 hours",
		90 * time.Minute: "90 minutes",
	} {
		require.Equal(t, want, e.m.Duration("en", d))
	}
	require.Equal(t, "15 minutos", e.m.Duration("es", 15*time.Minute))
}

// Triage runs before the guard and calls Request for an emergency: the
// handoff becomes urgent once, and staff see each flagged message.
func TestEmergencyDuringHandoff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		e.say("em", "talk to a person")
		h := e.handoff("em")
		require.False(t, h.Urgent)

		require.Equal(t, []string{"Call 911 now."}, texts(e.say("em", "now I have chest pain")))
		ev := e.board.last(h.ID)
		require.Equal(t, handoff.EventEscalated, ev.Kind)
		require.True(t, ev.NewlyUrgent)
		require.Equal(t, "now I have chest pain", ev.Text)
		require.True(t, e.handoff("em").Urgent)

		e.say("em", "chest pain is worse")
		require.False(t, e.board.last(h.ID).NewlyUrgent, "the group is mentioned once")

		// A first emergency opens an urgent handoff without adding words.
		require.Equal(t, []string{"Call 911 now."}, texts(e.say("em2", "chest pain")))
		h2 := e.handoff("em2")
		require.True(t, h2.Urgent)
		require.Equal(t, handoff.ReasonEmergency, h2.Reason)
		require.Equal(t, []handoff.EventKind{handoff.EventOpened}, e.board.kinds(h2.ID))
		require.Equal(t, store.ModeWaiting, e.conv("em2").Mode)
	})
}

func texts(sent []bot.Sent) []string {
	out := make([]string, len(sent))
	for i, s := range sent {
		out[i] = s.Text
	}
	return out
}

// triage plays the triage module: a guard that runs before the handoff
// guard, with the staff side it was given.
type triage struct{ staff handoff.Notifier }

func (triage) Name() string { return "triage" }

func (tr triage) Install(_ context.Context, a *host.Host) error {
	a.Engine.AddGuard(triageGuard{tr.staff})
	return nil
}

type triageGuard struct{ staff handoff.Notifier }

func (triageGuard) Name() string { return "triage" }

func (g triageGuard) Check(t *bot.Turn) (bool, error) {
	if !strings.Contains(t.Text(), "chest pain") {
		return false, nil
	}
	t.Reply(bot.Reply{Text: "Call 911 now.", Action: bot.ActionEmergency})
	return true, handoff.Request(t, handoff.ReasonEmergency, true, g.staff)
}
