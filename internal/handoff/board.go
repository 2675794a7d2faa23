package handoff

import (
	"context"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Actor is the staff member behind an action, as the staff channel knows them.
type Actor struct {
	ID   string // the staff channel's user id (a Slack user id)
	Name string // the first name patients see ("Anna")
}

// Patient is the actor recorded when the patient, not staff, changes a handoff.
var Patient = Actor{ID: "patient", Name: "patient"}

// EventKind names what happened to a handoff.
type EventKind string

// What a Board is told about.
const (
	EventOpened    EventKind = "opened"    // a person was asked for: post the handoff message
	EventAlert     EventKind = "alert"     // an alert for staff (unhappy survey answer) with a contact button
	EventPatient   EventKind = "patient"   // the patient wrote while waiting or while staff own it
	EventEscalated EventKind = "escalated" // triage flagged an emergency during a handoff
	EventTaken     EventKind = "taken"     // a staff member took over
	EventReturned  EventKind = "returned"  // staff gave the conversation back to the assistant
	EventResolved  EventKind = "resolved"  // staff closed the handoff
	EventCancelled EventKind = "cancelled" // the patient went back to the assistant before anyone took over
	EventTimeout   EventKind = "timeout"   // nobody took over in time; the patient was told what happens next
)

// Event is one change to show staff.
type Event struct {
	Kind    EventKind
	Handoff Handoff // its state after the change
	Actor   Actor   // who acted, for staff actions
	At      time.Time
	// Text is the patient's message (EventPatient, EventEscalated). It is
	// shown to staff and never logged.
	Text string
	// Snapshot is the context for staff (EventOpened, EventAlert).
	Snapshot *Snapshot
	// Waited is how long the patient has waited (EventTimeout).
	Waited time.Duration
	// AfterHours is true when the clinic is closed (EventOpened, EventTimeout).
	AfterHours bool
	// NewlyUrgent is true when this event made the handoff urgent (EventEscalated).
	NewlyUrgent bool
}

// Board shows handoff events to staff (the Slack handoff channel). Post runs
// inside the transaction that made the change, with the conversation row
// locked, so that the staff side sees changes exactly when they commit and
// in the order they were made: it should only write rows and enqueue jobs,
// which is all w allows.
type Board interface {
	Post(ctx context.Context, w store.Work, e Event) error
}

// Snapshot is what staff need to pick up a conversation: who (as far as the
// patient is verified), where, and what was said.
type Snapshot struct {
	Channel   string    `json:"channel"`
	Lang      string    `json:"lang"`
	FirstName string    `json:"first_name,omitempty"`
	Verified  bool      `json:"verified"`
	Card      *Card     `json:"card,omitempty"` // verified patients only
	Lines     []Line    `json:"lines,omitempty"`
	Summary   string    `json:"summary,omitempty"`
	Answers   []Answer  `json:"answers,omitempty"`
	OpenedAt  time.Time `json:"opened_at"`
}

// Line is one message of the transcript shown to staff.
type Line struct {
	Role string    `json:"role"` // RolePatient, RoleBot or RoleStaff
	From string    `json:"from,omitempty"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Transcript roles.
const (
	RolePatient = "patient"
	RoleBot     = "bot"
	RoleStaff   = "staff"
)

// Answer is one survey answer shown in an alert.
type Answer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Card is what staff may see of a verified patient: only what they need to
// recognise them and call back.
type Card struct {
	Name        string `json:"name,omitempty"`
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Phone       string `json:"phone,omitempty"`
	// FirstName and Record (the clinic's record number) are what a minimal
	// card shows instead (SLACK_CARD_DETAIL=minimal).
	FirstName string `json:"first_name,omitempty"`
	Record    string `json:"record,omitempty"`
}

// Registry looks up a verified patient's card. The patient registry (the
// booking capability) provides it; without one staff see the first name only.
type Registry interface {
	Card(ctx context.Context, q store.Q, patientID int64) (Card, error)
}

// Summarizer writes a two-line summary of a transcript for staff; the LLM
// client provides it when one is configured. It is called outside any
// transaction, with a deadline, and its failure only drops the summary.
type Summarizer interface {
	Summarize(ctx context.Context, lines []Line) (string, error)
}
