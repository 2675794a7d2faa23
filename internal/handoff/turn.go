package handoff

import (
	"context"
	"encoding/json"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/store"
)

// maxLineRunes bounds one transcript line shown to staff.
const maxLineRunes = 500

// HandoffOpened implements Notifier: it arms the no-answer timeout and posts
// the handoff, with its context, to staff.
func (m *Machine) HandoffOpened(t *bot.Turn, opened Handoff) error {
	deadline, afterHours := m.deadline(t.Now)
	now := t.Now
	if err := setTimes(t.Ctx, t.Q(), opened.ID, &now, &deadline, now); err != nil {
		return err
	}
	if err := m.scheduleTimeout(t.Ctx, t.Work(), opened.ID, deadline); err != nil {
		return err
	}
	snap, err := m.snapshot(t.Ctx, t.Q(), t.Conversation(), now)
	if err != nil {
		return err
	}
	h, err := Get(t.Ctx, t.Q(), opened.ID)
	if err != nil {
		return err
	}
	return m.o.Board.Post(t.Ctx, t.Work(), Event{Kind: EventOpened, Handoff: h, At: now, Snapshot: snap, AfterHours: afterHours})
}

// HandoffEscalated implements Escalator: triage flagged an emergency in a
// conversation that already has a handoff. Triage stops the turn, so the
// message is shown to staff here, marked urgent.
func (m *Machine) HandoffEscalated(t *bot.Turn, active Handoff, newlyUrgent bool) error {
	h, err := Get(t.Ctx, t.Q(), active.ID)
	if err != nil {
		return err
	}
	return m.o.Board.Post(t.Ctx, t.Work(), Event{Kind: EventEscalated, Handoff: h, At: t.Now, Text: patientWords(t),
		NewlyUrgent: newlyUrgent})
}

// patientWords is what staff see of the message being handled.
func patientWords(t *bot.Turn) string {
	if s := t.Text(); s != "" {
		return s
	}
	if t.In.Payload != "" {
		return "[button] " + t.In.Payload
	}
	return ""
}

// Guard returns the guard that keeps the bot quiet while a person has (or is
// about to take) the conversation. Add it after triage, so emergencies are
// still caught first.
func (m *Machine) Guard() bot.Guard { return guard{m} }

type guard struct{ m *Machine }

func (guard) Name() string { return "handoff" }

// Check mirrors the patient's message to staff and stops the turn while a
// handoff is open or taken. While waiting, the patient gets a "still
// waiting" note at most every NoticeEvery (not a reply per message), and
// handoff buttons (go back to the assistant) still work.
func (g guard) Check(t *bot.Turn) (bool, error) {
	if t.Mode() == store.ModeBot {
		return false, nil
	}
	h, err := ActiveFor(t.Ctx, t.Q(), t.ConversationID())
	if err != nil {
		if isNotFound(err) {
			t.SetMode(store.ModeBot) // the handoff ended without the mode following: heal
			return false, nil
		}
		return false, err
	}
	post := func() error {
		return g.m.o.Board.Post(t.Ctx, t.Work(), Event{Kind: EventPatient, Handoff: h, At: t.Now, Text: patientWords(t)})
	}
	if h.Status == StatusTaken {
		t.SetMode(store.ModeStaff)
		return true, post()
	}
	t.SetMode(store.ModeWaiting)
	if _, _, ok := t.Payload(Name); ok {
		return false, nil
	}
	if err := post(); err != nil {
		return true, err
	}
	if h.NoticeAt != nil && t.Now.Sub(*h.NoticeAt) < g.m.o.NoticeEvery {
		return true, nil
	}
	text := t.T("handoff.still_waiting")
	if opening := g.m.nextOpening(t.Now); !opening.IsZero() {
		text = t.T("handoff.still_waiting_after_hours", map[string]any{"When": g.m.When(t.Lang(), t.Now, opening)})
	}
	back := t.Button("handoff.button.back", bot.Payload(Name, "cancel"))
	t.Reply(bot.Reply{Text: text, Buttons: []bot.Button{back}, Action: bot.ActionHandoff})
	return true, setNotice(t.Ctx, t.Q(), h.ID, t.Now)
}

// cancel lets a waiting patient go back to the assistant before anyone took
// over; staff see it in the thread.
func (m *Machine) cancel(t *bot.Turn) error {
	h, err := ActiveFor(t.Ctx, t.Q(), t.ConversationID())
	if err != nil && !isNotFound(err) {
		return err
	}
	if err == nil && h.Status == StatusOpen {
		if _, err := transition(t.Ctx, t.Q(), h.ID, StatusOpen, StatusReturned, Patient, t.Now); err != nil {
			return err
		}
		if _, err := m.finish(t.Ctx, t.Work(), h, Patient, "cancel", Done, EventCancelled, t.Now); err != nil {
			return err
		}
	}
	if err == nil && h.Status == StatusTaken {
		// Staff have it now; the press reaches them as a message instead.
		t.SetMode(store.ModeStaff)
		return m.o.Board.Post(t.Ctx, t.Work(), Event{Kind: EventPatient, Handoff: h, At: t.Now, Text: patientWords(t)})
	}
	t.SetMode(store.ModeBot)
	t.Reply(bot.Reply{Text: t.T("handoff.cancelled")})
	return nil
}

// snapshot gathers what staff need to pick the conversation up.
func (m *Machine) snapshot(ctx context.Context, q store.Q, conv store.Conversation, now time.Time) (*Snapshot, error) {
	n := m.o.TranscriptLines
	in, err := q.RecentInbound(ctx, conv.ID, n)
	if err != nil {
		return nil, err
	}
	out, err := q.OutboundAfter(ctx, conv.ID, max(conv.NextOutSeq-int64(n), 0), n)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Channel: conv.Channel, Lang: conv.Lang, Verified: conv.PatientID != nil, OpenedAt: now}
	for _, msg := range in {
		text := msg.Text
		if text == "" && msg.Payload != "" {
			text = "[button] " + msg.Payload
		}
		s.Lines = append(s.Lines, Line{Role: RolePatient, Text: clip(text), At: msg.ReceivedAt})
		var meta map[string]string
		if len(msg.Meta) > 0 && json.Unmarshal(msg.Meta, &meta) == nil && meta[bot.MetaFirstName] != "" {
			s.FirstName = meta[bot.MetaFirstName]
		}
	}
	for _, o := range out {
		r, err := bot.DecodeReply(o.Body)
		if err != nil {
			continue
		}
		role := RoleBot
		if r.Kind == bot.KindStaff {
			role = RoleStaff
		}
		s.Lines = append(s.Lines, Line{Role: role, From: r.From, Text: clip(r.Text), At: o.CreatedAt})
	}
	// Replies are stored after the message they answer, at the same instant
	// or later; the stable sort keeps that order.
	sort.SliceStable(s.Lines, func(i, j int) bool { return s.Lines[i].At.Before(s.Lines[j].At) })
	if len(s.Lines) > n {
		s.Lines = s.Lines[len(s.Lines)-n:]
	}
	if s.Verified && m.o.Registry != nil {
		card, err := m.o.Registry.Card(ctx, q, *conv.PatientID)
		if err != nil {
			return nil, err
		}
		s.Card = &card
	}
	return s, nil
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxLineRunes {
		return s
	}
	return string([]rune(s)[:maxLineRunes-1]) + "…"
}
