package handoff

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/store"
)

// Defaults for Options.
const (
	DefaultWaitTimeout     = 15 * time.Minute
	DefaultNoticeEvery     = 10 * time.Minute
	DefaultTranscriptLines = 8
)

// Options configure a Machine.
type Options struct {
	// Board shows events to staff (required).
	Board Board
	// WaitTimeout is how long a handoff may wait, in business hours, before
	// the patient is told what happens next and staff are reminded.
	WaitTimeout time.Duration
	// NoticeEvery spaces the "still waiting" notes a patient gets while they
	// keep writing before anyone took over: one note, not one per message.
	NoticeEvery time.Duration
	// TranscriptLines is how many recent messages the handoff message shows.
	TranscriptLines int
	// Registry, when set, gives staff the card of a verified patient.
	Registry Registry
}

// Machine is the handoff state machine:
//
//	bot ──request──► open (waiting) ──take──► taken (staff) ──return──► returned (bot)
//	                    │  ▲                     │
//	                    │  └──── (take again) ◄──┘ returned
//	                    ├──cancel (patient)──► returned
//	                    └──resolve──► resolved ◄──resolve── taken, returned, alert
//	alert ──contact (take)──► taken
//
// Every change is made holding the conversation's row lock, in the
// transaction that also tells the patient (engine.Send), records the audit
// entry and shows staff (Board.Post); the status-conditional UPDATE picks a
// single winner when two staff members act at once, on any replica.
type Machine struct {
	engine *bot.Engine
	o      Options
}

// NewMachine returns a machine; it works over the store, clock and catalog
// of the engine Attach gives it.
func NewMachine(o Options) *Machine {
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.NoticeEvery <= 0 {
		o.NoticeEvery = DefaultNoticeEvery
	}
	if o.TranscriptLines <= 0 {
		o.TranscriptLines = DefaultTranscriptLines
	}
	return &Machine{o: o}
}

// Attach gives the machine the engine it relays through. The staff
// channel's module calls it when installed; the machine is made earlier,
// so the modules that open handoffs can be given it as their Staff.
func (m *Machine) Attach(e *bot.Engine) { m.engine = e }

// ExpectedWait is how long patients are told they may wait.
func (m *Machine) ExpectedWait() time.Duration { return m.o.WaitTimeout }

// Result is how a staff action ended.
type Result string

// Results of staff actions. Only Done changed anything.
const (
	Done            Result = "done"
	TakenByOther    Result = "taken_by_other" // Handoff.OwnerName has it
	AlreadyYours    Result = "already_yours"
	AlreadyResolved Result = "already_resolved"
	AlreadyReturned Result = "already_returned"
	Gone            Result = "gone"      // the handoff or its conversation no longer exists
	NotOwner        Result = "not_owner" // a reply from someone who does not own the conversation
	NotTaken        Result = "not_taken" // a reply before anyone took over
	Busy            Result = "busy"      // the conversation has another active handoff
)

// Outcome is a Result with the handoff as it now is.
type Outcome struct {
	Result  Result
	Handoff Handoff
}

func (m *Machine) now() time.Time { return m.engine.Clock().Now() }

func (m *Machine) text(lang, id string, data map[string]any) string {
	return m.engine.Catalog().Text(lang, id, data)
}

// lock loads the handoff and locks its conversation; ok is false when either
// is gone. The handoff is read again under the lock, since every change to a
// handoff is made holding it.
func (m *Machine) lock(ctx context.Context, tx *store.Tx, id int64) (Handoff, store.Conversation, bool, error) {
	h, err := Get(ctx, tx.Q, id)
	if errors.Is(err, store.ErrNotFound) {
		return h, store.Conversation{}, false, nil
	}
	if err != nil {
		return h, store.Conversation{}, false, err
	}
	conv, err := tx.LockConversation(ctx, h.ConversationID)
	if errors.Is(err, store.ErrNotFound) {
		return h, conv, false, nil
	}
	if err != nil {
		return h, conv, false, err
	}
	h, err = Get(ctx, tx.Q, id)
	if errors.Is(err, store.ErrNotFound) {
		return h, conv, false, nil
	}
	return h, conv, err == nil, err
}

// finish records the action and, when it changed something, shows staff.
func (m *Machine) finish(ctx context.Context, w store.Work, h Handoff, a Actor, action string, r Result, kind EventKind, now time.Time) (Outcome, error) {
	id := h.ID
	if err := writeAudit(ctx, w.Querier(), AuditEntry{HandoffID: &id, ConversationID: h.ConversationID, Actor: a.ID,
		ActorName: a.Name, Action: action, Outcome: string(r), At: now}); err != nil {
		return Outcome{}, err
	}
	if r != Done {
		return Outcome{Result: r, Handoff: h}, nil
	}
	h, err := Get(ctx, w.Querier(), id)
	if err != nil {
		return Outcome{}, err
	}
	if kind != "" {
		if err := m.o.Board.Post(ctx, w, Event{Kind: kind, Handoff: h, Actor: a, At: now}); err != nil {
			return Outcome{}, err
		}
	}
	return Outcome{Result: Done, Handoff: h}, nil
}

func (m *Machine) tell(ctx context.Context, tx *store.Tx, conv store.Conversation, kind, id string, data map[string]any) error {
	_, err := m.engine.Send(ctx, tx, conv.ID, bot.Reply{Text: m.text(conv.Lang, id, data), Kind: kind})
	return err
}

// Take makes the actor the owner: from open (the usual case), from an alert
// ("Contact patient") or from returned (staff step back in). Exactly one of
// several simultaneous takers wins; the others get TakenByOther.
func (m *Machine) Take(ctx context.Context, tx *store.Tx, id int64, a Actor) (Outcome, error) {
	now := m.now()
	h, conv, ok, err := m.lock(ctx, tx, id)
	if err != nil || !ok {
		return Outcome{Result: Gone, Handoff: h}, err
	}
	switch h.Status {
	case StatusTaken:
		r := TakenByOther
		if h.Owner == a.ID {
			r = AlreadyYours
		}
		return m.finish(ctx, tx, h, a, "take", r, "", now)
	case StatusResolved:
		return m.finish(ctx, tx, h, a, "take", AlreadyResolved, "", now)
	case StatusAlert, StatusReturned:
		other, err := ActiveFor(ctx, tx.Q, conv.ID)
		if err == nil && other.ID != h.ID {
			return m.finish(ctx, tx, h, a, "take", Busy, "", now)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Outcome{}, err
		}
	}
	won, err := transition(ctx, tx.Q, h.ID, h.Status, StatusTaken, a, now)
	if err != nil {
		return Outcome{}, err
	}
	if !won { // cannot happen under the conversation lock; kept as the last line of defence
		cur, err := Get(ctx, tx.Q, h.ID)
		if err != nil {
			return Outcome{}, err
		}
		return m.finish(ctx, tx, cur, a, "take", TakenByOther, "", now)
	}
	if err := setMode(ctx, tx.Q, conv.ID, store.ModeStaff, now); err != nil {
		return Outcome{}, err
	}
	msg := "handoff.joined"
	if h.Status == StatusAlert {
		msg = "handoff.followup"
	}
	if err := m.tell(ctx, tx, conv, bot.KindNotice, msg, map[string]any{"Name": a.Name}); err != nil {
		return Outcome{}, err
	}
	return m.finish(ctx, tx, h, a, "take", Done, EventTaken, now)
}

// Return gives the conversation back to the assistant (from open or taken;
// any staff member may do it, so a conversation is not stuck when its owner
// has left). The patient is told they are back with the assistant.
func (m *Machine) Return(ctx context.Context, tx *store.Tx, id int64, a Actor) (Outcome, error) {
	now := m.now()
	h, conv, ok, err := m.lock(ctx, tx, id)
	if err != nil || !ok {
		return Outcome{Result: Gone, Handoff: h}, err
	}
	switch h.Status {
	case StatusReturned:
		return m.finish(ctx, tx, h, a, "return", AlreadyReturned, "", now)
	case StatusResolved:
		return m.finish(ctx, tx, h, a, "return", AlreadyResolved, "", now)
	case StatusAlert:
		return m.finish(ctx, tx, h, a, "return", NotTaken, "", now)
	}
	if _, err := transition(ctx, tx.Q, h.ID, h.Status, StatusReturned, a, now); err != nil {
		return Outcome{}, err
	}
	if err := setMode(ctx, tx.Q, conv.ID, store.ModeBot, now); err != nil {
		return Outcome{}, err
	}
	msg := "handoff.returned"
	if h.Status == StatusOpen {
		msg = "handoff.returned_untaken" // nobody had joined
	}
	if err := m.tell(ctx, tx, conv, bot.KindNotice, msg, map[string]any{"Name": h.OwnerName}); err != nil {
		return Outcome{}, err
	}
	return m.finish(ctx, tx, h, a, "return", Done, EventReturned, now)
}

// Resolve closes the handoff for good. A patient who was waiting or talking
// to staff is told and is back with the assistant; closing an alert or a
// returned handoff tells the patient nothing.
func (m *Machine) Resolve(ctx context.Context, tx *store.Tx, id int64, a Actor) (Outcome, error) {
	now := m.now()
	h, conv, ok, err := m.lock(ctx, tx, id)
	if err != nil || !ok {
		return Outcome{Result: Gone, Handoff: h}, err
	}
	if h.Status == StatusResolved {
		return m.finish(ctx, tx, h, a, "resolve", AlreadyResolved, "", now)
	}
	if _, err := transition(ctx, tx.Q, h.ID, h.Status, StatusResolved, a, now); err != nil {
		return Outcome{}, err
	}
	if h.Active() {
		if err := setMode(ctx, tx.Q, conv.ID, store.ModeBot, now); err != nil {
			return Outcome{}, err
		}
		name := a.Name
		if h.OwnerName != "" {
			name = h.OwnerName
		}
		if err := m.tell(ctx, tx, conv, bot.KindNotice, "handoff.resolved", map[string]any{"Name": name}); err != nil {
			return Outcome{}, err
		}
	}
	return m.finish(ctx, tx, h, a, "resolve", Done, EventResolved, now)
}

// Reply relays the owner's words to the patient through the outbox, signed
// "Anna from <clinic>". Anyone else's words stay with staff (NotOwner,
// NotTaken): a thread is also where colleagues talk among themselves. ref
// (the staff channel's message id) goes to the audit log; the text does not.
func (m *Machine) Reply(ctx context.Context, tx *store.Tx, id int64, a Actor, text, ref string) (Outcome, error) {
	now := m.now()
	h, conv, ok, err := m.lock(ctx, tx, id)
	if err != nil || !ok {
		return Outcome{Result: Gone, Handoff: h}, err
	}
	var r Result
	switch {
	case h.Status == StatusResolved:
		r = AlreadyResolved
	case h.Status != StatusTaken:
		r = NotTaken
	case h.Owner != a.ID:
		r = NotOwner
	default:
		from := m.text(conv.Lang, "handoff.staff_from", map[string]any{"Name": h.OwnerName})
		if _, err := m.engine.Send(ctx, tx, conv.ID, bot.Reply{Text: text, Kind: bot.KindStaff, From: from}); err != nil {
			return Outcome{}, err
		}
		r = Done
	}
	hid := h.ID
	if err := writeAudit(ctx, tx.Q, AuditEntry{HandoffID: &hid, ConversationID: h.ConversationID, Actor: a.ID,
		ActorName: a.Name, Action: "reply", Outcome: string(r), Detail: ref, At: now}); err != nil {
		return Outcome{}, err
	}
	return Outcome{Result: r, Handoff: h}, nil
}

// deadline is when an untaken handoff opened now times out: after the
// expected wait, counted from the next opening when the clinic is closed.
func (m *Machine) deadline(now time.Time) (time.Time, bool) {
	c := m.engine.Clinic()
	if c == nil || c.IsOpen(now) {
		return now.Add(m.o.WaitTimeout), false
	}
	next := c.NextOpening(now)
	if next.IsZero() {
		return now.Add(m.o.WaitTimeout), true
	}
	return next.Add(m.o.WaitTimeout), true
}

// closing is when the open clinic next closes (to the minute it is seen
// closed, within a day); zero when unknown.
func (m *Machine) closing(now time.Time) time.Time {
	c := m.engine.Clinic()
	if c == nil || !c.IsOpen(now) {
		return time.Time{}
	}
	start := now.Truncate(time.Minute)
	for step := 5 * time.Minute; step <= 24*time.Hour; step += 5 * time.Minute {
		if at := start.Add(step); !c.IsOpen(at) {
			// Back up to the first closed minute.
			for at.Add(-time.Minute).After(now) && !c.IsOpen(at.Add(-time.Minute)) {
				at = at.Add(-time.Minute)
			}
			return at
		}
	}
	return time.Time{}
}

// nextOpening is when the closed clinic opens next; zero when it is open
// now or has no hours to promise.
func (m *Machine) nextOpening(now time.Time) time.Time {
	c := m.engine.Clinic()
	if c == nil || c.IsOpen(now) {
		return time.Time{}
	}
	return c.NextOpening(now)
}

func (m *Machine) scheduleTimeout(ctx context.Context, w store.Work, id int64, at time.Time) error {
	return w.Enqueue(ctx, TimeoutArgs{HandoffID: id}, &river.InsertOpts{ScheduledAt: at, MaxAttempts: 10})
}
