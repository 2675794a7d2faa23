package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/store"
)

// Dialog is one kind of conversation (FAQ, booking, survey, ...). Dialogs
// never know which channel they speak to.
type Dialog interface {
	// Name is the dialog's key; button payloads "name:..." go to it.
	Name() string
	// Handle takes one turn. Returning false passes the message on: the
	// router then lets another dialog answer while this one stays active
	// (a question in the middle of a booking).
	Handle(t *Turn) (handled bool, err error)
}

// Matcher is a dialog that can be started by what the patient typed. Match
// returns 0 (not for me) to 100 (certainly for me).
type Matcher interface {
	Match(t *Turn) int
}

// Guard runs before any dialog on every message (triage, consent keywords,
// staff ownership). Returning true stops the turn there.
type Guard interface {
	Name() string
	Check(t *Turn) (stop bool, err error)
}

// Turn is everything a dialog sees and does while handling one message:
// the message, its conversation (through the accessors and setters below),
// replies, per-dialog state, and the turn's transaction through Q, Work,
// Enqueue and AfterCommit. A dialog never holds the transaction or the
// conversation row itself; the engine saves both when the turn ends.
type Turn struct {
	Ctx    context.Context
	In     Inbound
	Now    time.Time
	Clinic *clinic.Profile
	// InboundID is the stored message being handled.
	InboundID int64

	conv    *store.Conversation
	tx      *store.Tx
	engine  *Engine
	replies []Reply
	state   map[string]json.RawMessage
	dirty   bool
	after   []func() error
	memo    map[string]any
	// prepared is what Preparers kept before the transaction (early.go).
	prepared map[string]any
}

// Memo returns what fn computed for key earlier in this turn, computing it
// on first use: a dialog whose Match needs the work its Handle does (the
// FAQ's search) does it once.
func (t *Turn) Memo(key string, fn func() (any, error)) (any, error) {
	if v, ok := t.memo[key]; ok {
		return v, nil
	}
	v, err := fn()
	if err != nil {
		return nil, err
	}
	if t.memo == nil {
		t.memo = map[string]any{}
	}
	t.memo[key] = v
	return v, nil
}

// AfterRouting registers fn to run once routing has finished, so that a
// dialog which let another answer a message (a FAQ question in the middle of
// a survey) can follow the answer with its own words ("back to the survey").
func (t *Turn) AfterRouting(fn func() error) { t.after = append(t.after, fn) }

// Lang is the conversation's language.
func (t *Turn) Lang() string { return t.conv.Lang }

// SetLang switches the conversation's language.
func (t *Turn) SetLang(lang string) { t.conv.Lang = lang }

// Catalog is the message catalog.
func (t *Turn) Catalog() *catalog.Catalog { return t.engine.catalog }

// T renders a catalog message in the patient's language.
func (t *Turn) T(id string, data ...map[string]any) string {
	var d map[string]any
	if len(data) > 0 {
		d = data[0]
	}
	return t.engine.catalog.Text(t.conv.Lang, id, d)
}

// Button makes a button whose label is a catalog message.
func (t *Turn) Button(labelID, payload string) Button {
	return Button{Label: t.T(labelID), Payload: payload}
}

// Reply queues a message to the patient.
func (t *Turn) Reply(r Reply) { t.replies = append(t.replies, r) }

// Say queues a catalog message with optional buttons.
func (t *Turn) Say(id string, buttons ...Button) {
	t.Reply(Reply{Text: t.T(id), Buttons: buttons})
}

// Replies are the messages queued so far in this turn.
func (t *Turn) Replies() []Reply { return t.replies }

// Active is the dialog that receives the next message first ("" for none).
func (t *Turn) Active() string { return t.conv.Dialog }

// Start makes dialog the active one.
func (t *Turn) Start(dialog string) { t.conv.Dialog = dialog }

// Finish ends the active dialog if it is the named one, and clears its state.
func (t *Turn) Finish(dialog string) {
	if t.conv.Dialog == dialog {
		t.conv.Dialog = ""
	}
	t.ClearState(dialog)
}

// LoadState decodes the dialog's saved state into v; false when none.
func (t *Turn) LoadState(dialog string, v any) bool {
	raw, ok := t.state[dialog]
	if !ok {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// SaveState stores the dialog's state with the conversation.
func (t *Turn) SaveState(dialog string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("save %s state: %w", dialog, err)
	}
	t.state[dialog] = raw
	t.dirty = true
	return nil
}

// ClearState drops the dialog's state.
func (t *Turn) ClearState(dialog string) {
	if _, ok := t.state[dialog]; ok {
		delete(t.state, dialog)
		t.dirty = true
	}
}

// Dialog returns a registered dialog by name (nil if none).
func (t *Turn) Dialog(name string) Dialog { return t.engine.dialogs[name] }

// Delegate hands the turn to another dialog, as if routed there.
func (t *Turn) Delegate(name string) (bool, error) {
	d := t.engine.dialogs[name]
	if d == nil {
		return false, nil
	}
	return d.Handle(t)
}

// Text is the message text with surrounding space removed.
func (t *Turn) Text() string { return strings.TrimSpace(t.In.Text) }

// Payload splits the button payload "dialog:action:arg..." into its action and args
// (the dialog part is dropped); ok is false when the payload is not for dialog.
func (t *Turn) Payload(dialog string) (action string, args []string, ok bool) {
	p := t.In.Payload
	if p == "" || !strings.HasPrefix(p, dialog+":") {
		return "", nil, false
	}
	parts := strings.Split(strings.TrimPrefix(p, dialog+":"), ":")
	return parts[0], parts[1:], true
}

// Payload builds a button payload for a dialog.
func Payload(dialog, action string, args ...string) string {
	return strings.Join(append([]string{dialog, action}, args...), ":")
}
