package bot

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Work before the turn's transaction. On SQLite a turn holds the single
// writer from BEGIN to COMMIT, so CPU spent inside it (the knowledge
// search, triage's reading of the text) is CPU no other turn can overlap.
// A Preparer does the part of its work that depends only on the message
// and on what it can check again in the turn, before BEGIN; the turn uses
// what was kept only when the keys it was computed with still hold, and
// otherwise does the work as before, so replies are the same either way.

// Preparer is a guard or dialog that can do pure work on a message before
// its turn's transaction (Engine.Handle, Receive; not the handling job).
// Prepare must not read or write the database or call a network service:
// it runs for messages the turn may not use it for.
type Preparer interface {
	Prepare(e *Early)
}

// Early is what is known of a message before its turn: the message and a
// guess of its conversation (the language and dialog state this process
// last saw committed for the chat, or nothing). The guess may be stale
// (another replica's turn, a rolled-back one); a Preparer keeps what it
// computed with the keys it used, and the turn checks them (Turn.Prepared).
type Early struct {
	Ctx context.Context
	In  Inbound
	Now time.Time

	lang  string
	state map[string]json.RawMessage
	kept  map[string]any
	ahead []string
}

// prepared is what the preparers left for a message's turn.
type prepared struct {
	kept  map[string]any
	ahead []string // reads to send with the turn's first statement
}

// Text is the message's text as the turn reads it.
func (e *Early) Text() string { return strings.TrimSpace(e.In.Text) }

// Lang is the language the turn will most likely read the message in: the
// one the text clearly is in (the turn switches to it), else the
// conversation's last known language, else a new conversation's.
func (e *Early) Lang() string { return e.lang }

// LoadState decodes a dialog's state as last committed in this process
// (false when unknown).
func (e *Early) LoadState(dialog string, v any) bool {
	raw, ok := e.state[dialog]
	if !ok {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// ReadAhead asks for sql, a plain read without arguments that the turn
// will run (the index's state), to be sent with the turn's first statement
// (store.Tx.ReadAhead): on PostgreSQL the turn's own read then costs no
// round trip. Cheap when the turn does not run it after all.
func (e *Early) ReadAhead(sql string) {
	if !slices.Contains(e.ahead, sql) {
		e.ahead = append(e.ahead, sql)
	}
}

// Keep stores v under key for the message's turn.
func (e *Early) Keep(key string, v any) {
	if e.kept == nil {
		e.kept = map[string]any{}
	}
	e.kept[key] = v
}

// Prepared returns what a Preparer kept under key for this message, when
// valid accepts it (its keys match the turn's). Uses and refusals are
// counted (tend_prepared_total), so a guess that keeps missing shows.
func (t *Turn) Prepared(key string, valid func(v any) bool) (any, bool) {
	v, ok := t.prepared[key]
	if !ok {
		return nil, false
	}
	delete(t.prepared, key) // once: a second use would share the value
	result := "used"
	if !valid(v) {
		v, ok, result = nil, false, "stale"
	}
	t.engine.metrics.Prepared.WithLabelValues(key, result).Inc()
	return v, ok
}

// prepare runs the preparers on a message about to be handled.
func (e *Engine) prepare(ctx context.Context, in Inbound) prepared {
	if len(e.preparers) == 0 || strings.TrimSpace(in.Text) == "" {
		return prepared{}
	}
	early := &Early{Ctx: ctx, In: in, Now: e.clock.Now()}
	known, ok := e.recent.get(in.Channel, in.ChatID)
	early.lang = known.lang
	if !ok {
		early.lang = e.langFor(in)
	}
	if l := e.switchesTo(in, early.Text()); l != "" {
		early.lang = l
	}
	if len(known.state) > 0 {
		_ = json.Unmarshal(known.state, &early.state) // unreadable: no guess
	}
	for _, p := range e.preparers {
		p.Prepare(early)
	}
	return prepared{kept: early.kept, ahead: early.ahead}
}

// recentChats remembers the language and dialog state of the conversations
// this process last committed a turn for, as Early's guess. Bounded: when
// full it starts afresh (a miss only means the work runs in the turn).
type recentChats struct {
	mu    sync.Mutex
	chats map[chatKey]recentChat
}

type chatKey struct{ channel, chatID string }

type recentChat struct {
	lang  string
	state json.RawMessage
}

// maxRecentChats bounds the guesses kept: with a few KB of state each at
// most, tens of MB in the worst case.
const maxRecentChats = 10_000

func (r *recentChats) get(channel, chatID string) (recentChat, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.chats[chatKey{channel, chatID}]
	return c, ok
}

// put records a committed conversation.
func (r *recentChats) put(channel string, conv *store.Conversation) {
	c := recentChat{lang: conv.Lang, state: append(json.RawMessage(nil), conv.State...)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.chats == nil || len(r.chats) >= maxRecentChats {
		r.chats = map[chatKey]recentChat{}
	}
	r.chats[chatKey{channel, conv.ChatID}] = c
}
