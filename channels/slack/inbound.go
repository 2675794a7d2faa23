package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/store"
)

// errMalformed marks input that is not what Slack sends (HTTP 400).
var errMalformed = errors.New("malformed")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// Wire formats, private to this package. Only the fields Tend reads.
type eventEnvelope struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
}

type messageEvent struct {
	Type     string            `json:"type"`
	Subtype  string            `json:"subtype"`
	Channel  string            `json:"channel"`
	User     string            `json:"user"`
	BotID    string            `json:"bot_id"`
	Text     string            `json:"text"`
	TS       string            `json:"ts"`
	ThreadTS string            `json:"thread_ts"`
	Files    []json.RawMessage `json:"files"`
}

type interactionPayload struct {
	Type      string `json:"type"`
	TriggerID string `json:"trigger_id"`
	User      struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"user"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		MessageTS string `json:"message_ts"`
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	Message struct {
		TS string `json:"ts"`
	} `json:"message"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		ActionTS string `json:"action_ts"`
	} `json:"actions"`
}

// item is one stored piece of staff input, in Tend's own shape.
type item struct {
	Kind        string `json:"kind"` // kindMessage or kindAction
	User        string `json:"user"`
	UserName    string `json:"user_name,omitempty"`
	Channel     string `json:"channel"`
	TS          string `json:"ts,omitempty"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	Text        string `json:"text,omitempty"`
	Files       bool   `json:"files,omitempty"`
	Action      string `json:"action,omitempty"`
	HandoffID   int64  `json:"handoff_id,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
}

const (
	kindMessage = "message"
	kindAction  = "action"
)

// acceptEvent reads an Events API event_callback (the HTTP body, or a Socket
// Mode events_api payload) and stores what concerns a handoff thread. It
// returns stored=false for events Tend ignores and for repeats of an
// event_id already stored (Slack's retries).
func (m *Module) acceptEvent(ctx context.Context, env eventEnvelope) (stored bool, err error) {
	if env.EventID == "" || len(env.Event) == 0 {
		return false, malformed("event_callback without event_id or event")
	}
	var ev messageEvent
	if err := json.Unmarshal(env.Event, &ev); err != nil {
		return false, malformed("event: %v", err)
	}
	if !m.relevant(ev) {
		return false, nil
	}
	it := item{Kind: kindMessage, User: ev.User, Channel: ev.Channel, TS: ev.TS, ThreadTS: ev.ThreadTS,
		Text: ev.Text, Files: len(ev.Files) > 0}
	return m.store(ctx, "ev:"+env.EventID, ev.Channel+":"+ev.ThreadTS, it)
}

// relevant keeps human replies in threads of the handoff channel. The app's
// own posts (bot_id, bot_message) are never taken as staff replies, edits
// and deletions are not relayed, and top-level chatter is not Tend's.
func (m *Module) relevant(ev messageEvent) bool {
	if ev.Type != "message" || ev.Channel != m.channel || ev.BotID != "" || ev.User == "" {
		return false
	}
	switch ev.Subtype {
	case "", "thread_broadcast", "file_share":
	default:
		return false
	}
	return ev.ThreadTS != "" && ev.ThreadTS != ev.TS
}

// acceptInteraction reads a block_actions payload and stores the button press.
func (m *Module) acceptInteraction(ctx context.Context, raw []byte) (stored bool, err error) {
	it, key, thread, ok, err := parseInteraction(raw)
	if err != nil || !ok {
		return false, err
	}
	return m.store(ctx, key, thread, it)
}

// parseInteraction turns a button press into an item, its dedupe key and
// its thread key; ok is false for interactions Tend does not use.
func parseInteraction(raw []byte) (it item, key, thread string, ok bool, err error) {
	var p interactionPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return it, "", "", false, malformed("interaction payload: %v", err)
	}
	if p.Type != "block_actions" {
		return it, "", "", false, nil // shortcuts, modals: not used by Tend
	}
	if p.User.ID == "" || len(p.Actions) == 0 {
		return it, "", "", false, malformed("block_actions without user or actions")
	}
	a := p.Actions[0]
	switch a.ActionID {
	case actionTake, actionReturn, actionResolve, actionContact:
	default:
		return it, "", "", false, nil
	}
	id, err := strconv.ParseInt(a.Value, 10, 64)
	if err != nil || id <= 0 {
		return it, "", "", false, malformed("button value %q is not a handoff id", clipRunes(a.Value, 40))
	}
	channel := p.Container.ChannelID
	if channel == "" {
		channel = p.Channel.ID
	}
	ts := p.Container.MessageTS
	if ts == "" {
		ts = p.Message.TS
	}
	name := p.User.Name
	if name == "" {
		name = p.User.Username
	}
	it = item{Kind: kindAction, User: p.User.ID, UserName: name, Channel: channel, ThreadTS: ts,
		Action: a.ActionID, HandoffID: id, ResponseURL: p.ResponseURL}
	// The thread key orders button presses with the thread's messages: the
	// press that takes a conversation is handled before the reply typed after it.
	thread = channel + ":" + ts
	if ts == "" {
		thread = "handoff:" + a.Value
	}
	key = "ia:" + p.TriggerID + ":" + a.ActionTS
	if p.TriggerID == "" {
		sum := sha256.Sum256(raw)
		key = "ia:" + hex.EncodeToString(sum[:16])
	}
	return it, key, thread, true, nil
}

// store inserts an item unless its key was seen, with the job that handles
// it, in one transaction.
func (m *Module) store(ctx context.Context, key, thread string, it item) (bool, error) {
	body, err := json.Marshal(it)
	if err != nil {
		return false, err
	}
	stored := false
	err = m.a.DB.InTx(ctx, func(tx *store.Tx) error {
		stored = false
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO slack_inbox (dedupe_key, thread, kind, body, received_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
			key, thread, it.Kind, tx.SealJSON(purposeInbox, string(body)), m.now()).Scan(&id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("slack: store %s: %w", it.Kind, err)
		}
		stored = true
		return tx.Enqueue(ctx, InboxArgs{Thread: thread}, &river.InsertOpts{MaxAttempts: 50})
	})
	return stored, err
}

// decodeEnvelope reads an Events API body.
func decodeEnvelope(raw []byte) (eventEnvelope, error) {
	var env eventEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return env, malformed("event body: %v", err)
	}
	if strings.TrimSpace(env.Type) == "" {
		return env, malformed("event body without type")
	}
	return env, nil
}
