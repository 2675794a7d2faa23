package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/lang"
	"github.com/tend-health/tend/internal/metrics"
	"github.com/tend-health/tend/internal/store"
)

// Limits on what a patient can send.
const (
	// MaxTextRunes is the longest message the bot reads; longer ones get a
	// polite request for a shorter question (safety checks still run first).
	MaxTextRunes = 4000
	// MaxStoredRunes caps what is stored of an over-long message.
	MaxStoredRunes = 16000
	// MaxPayloadBytes is the longest button payload accepted.
	MaxPayloadBytes = 256
)

// Options configure an Engine.
type Options struct {
	DB      *store.DB
	Clock   clock.Clock
	Catalog *catalog.Catalog
	Clinic  *clinic.Profile
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// InlineChannels deliver by returning replies to the caller (console, cli):
	// their replies are stored as sent and get no delivery job.
	InlineChannels []string
}

// Engine handles inbound messages.
type Engine struct {
	db       *store.DB
	clock    clock.Clock
	catalog  *catalog.Catalog
	clinic   *clinic.Profile
	log      *slog.Logger
	metrics  *metrics.Metrics
	inline   map[string]bool
	dialogs  map[string]Dialog
	order    []Dialog
	guards   []Guard
	fallback string
	senders  map[string]Sender
	notify   []func(conversationID int64)
	// preparers are the guards and dialogs with work to do before a
	// turn's transaction (early.go); recent is their guess of a chat.
	preparers []Preparer
	recent    recentChats
}

// New returns an engine with no dialogs; add them with AddDialog.
func New(o Options) *Engine {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	e := &Engine{db: o.DB, clock: o.Clock, catalog: o.Catalog, clinic: o.Clinic, log: o.Logger, metrics: o.Metrics,
		inline: map[string]bool{}, dialogs: map[string]Dialog{}, senders: map[string]Sender{}}
	for _, c := range o.InlineChannels {
		e.inline[c] = true
	}
	return e
}

// DB is the engine's store.
func (e *Engine) DB() *store.DB { return e.db }

// Clock is the engine's clock.
func (e *Engine) Clock() clock.Clock { return e.clock }

// Catalog is the engine's message catalog.
func (e *Engine) Catalog() *catalog.Catalog { return e.catalog }

// Clinic is the clinic profile.
func (e *Engine) Clinic() *clinic.Profile { return e.clinic }

// Logger is the engine's logger.
func (e *Engine) Logger() *slog.Logger { return e.log }

// Metrics are the engine's metrics.
func (e *Engine) Metrics() *metrics.Metrics { return e.metrics }

// GuardOrder is the order guards run in, whatever order the assembly adds
// them: triage first, so a patient in danger is answered before anything
// else (even while staff own the conversation or after STOP); then consent,
// so STOP / START / HELP are honoured before any dialog or staff relay
// speaks; then handoff, which keeps the bot quiet while staff own a
// conversation. A guard with another name runs after these, in the order
// added. internal/cli's TestGuardOrder pins the assembled list.
var GuardOrder = []string{"triage", "consent", "handoff"}

func guardRank(name string) int {
	if i := slices.Index(GuardOrder, name); i >= 0 {
		return i
	}
	return len(GuardOrder)
}

// AddGuard adds a guard in its place in GuardOrder. Adding a second guard
// of a name panics: that is an assembly bug, found at start.
func (e *Engine) AddGuard(g Guard) {
	if slices.Contains(e.Guards(), g.Name()) {
		panic("bot: guard " + g.Name() + " added twice")
	}
	r := guardRank(g.Name())
	i := len(e.guards)
	for i > 0 && guardRank(e.guards[i-1].Name()) > r {
		i--
	}
	e.guards = slices.Insert(e.guards, i, g)
	if p, ok := g.(Preparer); ok {
		e.preparers = append(e.preparers, p)
	}
}

// Guards are the names of the guards in the order they run.
func (e *Engine) Guards() []string {
	out := make([]string, len(e.guards))
	for i, g := range e.guards {
		out[i] = g.Name()
	}
	return out
}

// HasDialog reports whether a dialog of that name is registered.
func (e *Engine) HasDialog(name string) bool { _, ok := e.dialogs[name]; return ok }

// AddDialog registers a dialog.
func (e *Engine) AddDialog(d Dialog) {
	e.dialogs[d.Name()] = d
	e.order = append(e.order, d)
	if p, ok := d.(Preparer); ok {
		e.preparers = append(e.preparers, p)
	}
}

// SetFallback names the dialog that answers what no other dialog claims.
func (e *Engine) SetFallback(name string) { e.fallback = name }

// OnOutbound registers fn to be called (after commit) when a conversation
// gets new outgoing messages; the web channel wakes its listeners with it.
func (e *Engine) OnOutbound(fn func(conversationID int64)) { e.notify = append(e.notify, fn) }

// Outcome is what handling one inbound message produced.
type Outcome struct {
	ConversationID int64
	InboundID      int64
	// Duplicate is true when the message had been received before; Replies
	// are then the replies given the first time.
	Duplicate bool
	Replies   []Sent
}

// Handle stores an inbound message and handles it at once, in one
// transaction: state, replies and delivery jobs commit together or not at
// all. Web chat, console and `tend ask` use it; it returns the replies.
func (e *Engine) Handle(ctx context.Context, in Inbound) (Outcome, error) {
	return e.handle(ctx, in, false, nil)
}

// HandleWith is Handle with the channel's own write in the turn's
// transaction (run again if the transaction is), as the web chat records its
// session's activity: one transaction per message, not two (on SQLite a
// second write waits for the writer again; on PostgreSQL it is a commit).
func (e *Engine) HandleWith(ctx context.Context, in Inbound, with func(context.Context, *store.Tx) error) (Outcome, error) {
	return e.handle(ctx, in, false, with)
}

// Receive is for a channel's webhook (or poller): it handles the message
// in the request as Handle does, accepting and answering it in one
// transaction, when its conversation is free; when another transaction
// holds the conversation (its turn running here or on another replica), it
// accepts the message with a handling job instead (Accept), rather than
// run a second turn after waiting. Messages of the conversation still
// waiting for their job are handled first, in the same transaction and in
// order, so the new one never overtakes them. Nothing is acknowledged to
// the channel before the commit of one or the other; a message the
// channel sends again is recognised by its id. A channel calls it only
// when a turn needs no network service (config.TurnsCallOut): a turn that
// waits for a chat model would hold the webhook past the channel's patience.
func (e *Engine) Receive(ctx context.Context, in Inbound) (Outcome, error) {
	out, err := e.handle(ctx, in, true, nil)
	if errors.Is(err, store.ErrBusy) {
		return e.Accept(ctx, in)
	}
	return out, err
}

// ReceiveAndSend is Receive, then, once the turn has committed, the
// replies are sent in the request as their delivery job would send them
// (sendReplies); the job stays queued, for a failure, a rate limit or a
// crash, and finds them sent. Webhooks use it (Telegram's, WhatsApp's):
// the request waits for the send as well, and many run at once. A
// poller, which records one update after another, uses Receive.
func (e *Engine) ReceiveAndSend(ctx context.Context, in Inbound) (Outcome, error) {
	out, err := e.Receive(ctx, in)
	if err == nil && !out.Duplicate && len(out.Replies) > 0 {
		e.sendReplies(ctx, out)
	}
	return out, err
}

// handle is Handle; with nowait, a conversation locked by another
// transaction is store.ErrBusy instead of a wait.
func (e *Engine) handle(ctx context.Context, in Inbound, nowait bool, with func(context.Context, *store.Tx) error) (Outcome, error) {
	start := time.Now()
	in = e.normalize(in)
	early := e.prepare(ctx, in)
	var out Outcome
	var prior *errTurn // the dialog's failure on a first attempt
	var last *store.Conversation
	for {
		err := e.db.InTx(ctx, func(tx *store.Tx) error {
			out, last = Outcome{}, nil
			for _, sql := range early.ahead {
				tx.ReadAhead(sql)
			}
			if with != nil {
				if err := with(ctx, tx); err != nil {
					return err
				}
			}
			conv, msg, dup, err := e.accept(ctx, tx, in, nowait)
			if err != nil {
				return err
			}
			out.ConversationID, out.InboundID = conv.ID, msg.ID
			if dup {
				out.Duplicate = true
				out.Replies, err = sentReplies(ctx, tx.Q, msg.ID)
				return err
			}
			if msg.Status == store.InboundDone {
				// Nothing older was waiting: handle just this one (stored
				// anew by a second attempt, so under a new id).
				mode := turnMode{prepared: early.kept}
				if prior != nil {
					mode.failed = prior.err
				}
				out.Replies, err = e.handleOne(ctx, tx, &conv, msg, mode)
				if err != nil {
					return err
				}
				last = &conv
				return tx.SaveConversationLater(ctx, &conv, e.clock.Now())
			}
			// Older messages are pending besides this one.
			byInbound, err := e.drain(ctx, tx, &conv, prior)
			if err != nil {
				return err
			}
			out.Replies, last = byInbound[msg.ID], &conv
			return nil
		})
		var te *errTurn
		if errors.As(err, &te) && prior == nil {
			prior = te // rolled back; store the message as failed, with an apology
			continue
		}
		if err != nil {
			if !errors.Is(err, store.ErrBusy) {
				e.metrics.Errors.WithLabelValues("handle").Inc()
			}
			return Outcome{}, err
		}
		break
	}
	if last != nil && len(e.preparers) > 0 {
		e.recent.put(in.Channel, last)
	}
	if !out.Duplicate {
		e.metrics.MessagesIn.WithLabelValues(in.Channel).Inc()
		e.metrics.HandleSeconds.WithLabelValues(in.Channel).Observe(time.Since(start).Seconds())
	}
	return out, nil
}

// Accept stores an inbound message and enqueues a job to handle it, in one
// transaction, without handling it now: a webhook's answer then waits for
// no turn of its own. Webhooks use it when a turn may wait on a network
// service, and Receive when the conversation is busy; the message is
// handled in order with the conversation's others by the job.
func (e *Engine) Accept(ctx context.Context, in Inbound) (Outcome, error) {
	in = e.normalize(in)
	var out Outcome
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		now := e.clock.Now()
		meta, _ := json.Marshal(in.Meta)
		msg := store.Inbound{Channel: in.Channel, ExternalID: in.MessageID, SenderID: in.SenderID, Text: in.Text,
			Payload: in.Payload, Locale: in.Locale, Meta: meta, ReceivedAt: in.Time}
		// The message and its job go in one round trip (with BEGIN), the
		// commit in a second: a webhook's answer waits for nothing else.
		result, err := tx.AcceptInboundLater(ctx, in.ChatID, e.langFor(in), wroteAt(in, now), now, &msg)
		if err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, ProcessArgs{Channel: in.Channel, ChatID: in.ChatID}, nil); err != nil {
			return err
		}
		inserted, err := result()
		if err != nil {
			return err
		}
		if !inserted {
			return errDuplicate // undo the seq taken and the job
		}
		out = Outcome{ConversationID: msg.ConversationID, InboundID: msg.ID}
		return nil
	})
	if errors.Is(err, errDuplicate) {
		m, ferr := e.db.Q().FindInbound(ctx, in.Channel, in.MessageID)
		if ferr != nil {
			return Outcome{}, ferr
		}
		return Outcome{ConversationID: m.ConversationID, InboundID: m.ID, Duplicate: true}, nil
	}
	if err != nil {
		e.metrics.Errors.WithLabelValues("accept").Inc()
		return Outcome{}, err
	}
	e.metrics.MessagesIn.WithLabelValues(in.Channel).Inc()
	return out, nil
}

// errDuplicate rolls back an Accept whose message was seen before.
var errDuplicate = errors.New("bot: duplicate message")

// wroteAt is when the patient wrote, for windows such as WhatsApp's 24
// hours: the channel's time when it gives one (a redelivered webhook may be
// hours late), never later than now.
func wroteAt(in Inbound, now time.Time) time.Time {
	if !in.Time.IsZero() && in.Time.Before(now) {
		return in.Time
	}
	return now
}

// switchesTo is the supported language a message's text is clearly
// written in ("" for none, and for a button's payload): the turn answers
// in it from this message on, and Prepare guesses it the same way.
func (e *Engine) switchesTo(in Inbound, text string) string {
	if in.Payload != "" || e.catalog == nil {
		return ""
	}
	if l := lang.Detect(text); l != "" && e.catalog.Supports(l) {
		return l
	}
	return ""
}

// langFor is the language a new conversation starts in.
func (e *Engine) langFor(in Inbound) string {
	if e.catalog == nil {
		return catalog.DefaultLanguage
	}
	return e.catalog.Match(in.Locale)
}

// ProcessPending handles a conversation's accepted but unhandled messages,
// in order. It is safe to call any number of times from any replica.
func (e *Engine) ProcessPending(ctx context.Context, conversationID int64) error {
	return e.process(ctx, func(tx *store.Tx) (store.Conversation, error) {
		return tx.LockConversation(ctx, conversationID)
	})
}

// ProcessPendingChat is ProcessPending for the conversation of (channel, chatID).
func (e *Engine) ProcessPendingChat(ctx context.Context, channel, chatID string) error {
	return e.process(ctx, func(tx *store.Tx) (store.Conversation, error) {
		return tx.LockChat(ctx, channel, chatID)
	})
}

// process drains a conversation under its lock. A lone pending message (the
// usual case) runs without a savepoint, as in Handle: if its dialog fails,
// the transaction is run again with the failure recorded.
func (e *Engine) process(ctx context.Context, lock func(*store.Tx) (store.Conversation, error)) error {
	var prior *errTurn
	for {
		err := e.db.InTx(ctx, func(tx *store.Tx) error {
			conv, err := lock(tx)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			_, err = e.drain(ctx, tx, &conv, prior)
			return err
		})
		var te *errTurn
		if errors.As(err, &te) && prior == nil {
			prior = te
			continue
		}
		return err
	}
}

// accept opens (and locks) the conversation and stores the message, for
// Handle, which saves the conversation at the end anyway. A message with
// nothing older pending is stored as done: the caller handles it in the
// same transaction, so it is done exactly when the transaction commits,
// and marking it later would cost a round trip. With nowait, a conversation
// another transaction holds is store.ErrBusy.
func (e *Engine) accept(ctx context.Context, tx *store.Tx, in Inbound, nowait bool) (store.Conversation, store.Inbound, bool, error) {
	now := e.clock.Now()
	meta, _ := json.Marshal(in.Meta)
	msg := store.Inbound{Channel: in.Channel, ExternalID: in.MessageID, SenderID: in.SenderID, Text: in.Text,
		Payload: in.Payload, Locale: in.Locale, Meta: meta, ReceivedAt: in.Time}
	q := tx.Q
	if nowait {
		q = q.NoWait()
	}
	conv, inserted, err := q.OpenWithInbound(ctx, in.ChatID, e.langFor(in), now, &msg, true)
	if err != nil {
		return conv, msg, false, err
	}
	if !inserted {
		msg, err = tx.FindInbound(ctx, in.Channel, in.MessageID)
		return conv, msg, true, err
	}
	conv.NextInSeq++
	conv.SenderID = in.SenderID
	wrote := wroteAt(in, now)
	conv.LastInboundAt = &wrote
	conv.Unreachable = false // the patient wrote, so the channel reaches them again
	return conv, msg, false, nil
}

// drain handles every pending message of a locked conversation in order and
// saves the conversation; it returns the replies per inbound id. Several
// messages each run in a savepoint, so one failing dialog does not undo the
// others; a lone message runs without (a savepoint costs a round trip) and
// a failure comes back as *errTurn, for the caller to run the transaction
// again with prior set.
func (e *Engine) drain(ctx context.Context, tx *store.Tx, conv *store.Conversation, prior *errTurn) (map[int64][]Sent, error) {
	pending, err := tx.PendingInbound(ctx, conv.ID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]Sent, len(pending))
	for _, m := range pending {
		mode := turnMode{savepoint: len(pending) > 1}
		if !mode.savepoint && prior != nil && prior.inboundID == m.ID {
			mode.failed = prior.err
		}
		sent, err := e.handleOne(ctx, tx, conv, m, mode)
		if err != nil {
			return nil, err
		}
		out[m.ID] = sent
	}
	if err := tx.SaveConversationLater(ctx, conv, e.clock.Now()); err != nil {
		return nil, err
	}
	return out, nil
}

// turnMode says how a failing dialog is contained. A failing or panicking
// dialog must roll back only its own writes; the message is kept, marked
// failed, and the patient gets an apology, never nothing.
type turnMode struct {
	// savepoint contains a failure inside this transaction (draining several
	// messages at once, where the others' work must survive).
	savepoint bool
	// failed is set when the dialog already failed on an earlier attempt of
	// the whole transaction: apologise without running it again.
	failed error
	// prepared is what the preparers kept for this message (early.go).
	prepared map[string]any
}

// errTurn carries a dialog's failure out of a transaction that ran without
// a savepoint (the common single-message path, where a savepoint would cost
// a round trip per message): the caller rolls back and retries with the
// failure recorded in turnMode.failed.
type errTurn struct {
	inboundID int64
	err       error
}

func (e *errTurn) Error() string { return "bot: turn failed: " + e.err.Error() }

// handleOne runs the turn for one message and queues its replies.
func (e *Engine) handleOne(ctx context.Context, tx *store.Tx, conv *store.Conversation, m store.Inbound, mode turnMode) ([]Sent, error) {
	in := inboundFromStore(m)
	in.ChatID = conv.ChatID
	saved := *conv
	if mode.savepoint {
		if _, err := tx.Exec(ctx, "SAVEPOINT turn"); err != nil {
			return nil, fmt.Errorf("bot: savepoint: %w", err)
		}
	}
	turnErr := mode.failed
	var t *Turn
	if turnErr == nil {
		t, turnErr = e.runTurn(ctx, tx, conv, m.ID, in, mode.prepared)
		if turnErr != nil && !mode.savepoint {
			return nil, &errTurn{inboundID: m.ID, err: turnErr}
		}
	}
	status, errText := store.InboundDone, ""
	var replies []Reply
	if turnErr != nil {
		if mode.savepoint {
			if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT turn"); err != nil {
				return nil, fmt.Errorf("bot: rollback to savepoint: %w (turn: %v)", err, turnErr)
			}
		}
		*conv = saved
		e.metrics.Errors.WithLabelValues("dialog").Inc()
		e.log.ErrorContext(ctx, "handling a message failed", "conversation_id", conv.ID, "inbound_id", m.ID, "error", turnErr)
		status, errText = store.InboundFailed, truncate(turnErr.Error(), 500)
		replies = []Reply{{Text: e.catalog.Text(conv.Lang, "error.generic", nil)}}
	} else {
		replies = t.replies
		if t.dirty {
			raw, err := json.Marshal(t.state)
			if err != nil {
				return nil, fmt.Errorf("bot: encode state: %w", err)
			}
			conv.State = raw
		}
	}
	// A savepoint is not released: commit releases it, and a later turn's
	// savepoint of the same name shadows it. That saves a round trip.
	sent, err := e.queue(ctx, tx, conv, &m.ID, replies)
	if err != nil {
		return nil, err
	}
	conv.HandledSeq = m.Seq
	if m.Status != status {
		if err := tx.FinishInboundLater(ctx, m.ID, status, errText, e.clock.Now()); err != nil {
			return nil, err
		}
	}
	return sent, nil
}

// runTurn decides the replies to one message.
func (e *Engine) runTurn(ctx context.Context, tx *store.Tx, conv *store.Conversation, inboundID int64, in Inbound,
	prepared map[string]any) (t *Turn, err error) {
	t = &Turn{Ctx: ctx, In: in, Now: e.clock.Now(), Clinic: e.clinic, InboundID: inboundID,
		conv: conv, tx: tx, engine: e, state: map[string]json.RawMessage{}, prepared: prepared}
	if len(conv.State) > 0 {
		if err := json.Unmarshal(conv.State, &t.state); err != nil {
			e.log.WarnContext(ctx, "conversation state unreadable; starting afresh", "conversation_id", conv.ID)
			t.state = map[string]json.RawMessage{}
			t.dirty = true
		}
	}
	defer func() {
		if p := recover(); p != nil {
			e.log.ErrorContext(ctx, "dialog panicked", "conversation_id", conv.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("bot: panic: %v", p)
		}
	}()
	if err := e.route(t); err != nil {
		return t, err
	}
	for _, fn := range t.after {
		if err := fn(); err != nil {
			return t, err
		}
	}
	return t, nil
}

func (e *Engine) route(t *Turn) error {
	text := t.Text()
	if text == "" && t.In.Payload == "" {
		switch {
		case t.In.Meta[MetaUnsupported] != "":
			t.Say("input.unsupported")
			return nil
		case t.In.Meta[MetaPhone] == "":
			t.Say("input.empty")
			return nil
		}
		// A shared phone number with no text (a Telegram contact) goes on to the dialogs.
	}
	// A patient who writes in another supported language is answered in it,
	// from this message on (safety replies included).
	if l := e.switchesTo(t.In, text); l != "" && l != t.conv.Lang {
		t.SetLang(l)
	}
	for _, g := range e.guards {
		stop, err := g.Check(t)
		if err != nil {
			return fmt.Errorf("guard %s: %w", g.Name(), err)
		}
		if stop {
			return nil
		}
	}
	if t.In.Meta[MetaEdited] != "" {
		return nil // an edit: the guards had their say; the original was answered
	}
	if t.In.Meta[MetaUnsupported] != "" {
		// Words sent with a photo or file (its caption), read as the
		// message after the guards; the patient learns the attachment
		// itself was not seen.
		t.Say("input.attachment_unseen")
	}
	if utf8.RuneCountInString(text) > MaxTextRunes {
		t.Say("input.too_long")
		return nil
	}
	if t.In.Payload != "" {
		return e.routePayload(t)
	}
	if active := e.dialogs[t.conv.Dialog]; active != nil {
		handled, err := active.Handle(t)
		if err != nil || handled {
			return err
		}
	}
	best, bestScore := Dialog(nil), 0
	for _, d := range e.order {
		m, ok := d.(Matcher)
		if !ok || d.Name() == t.conv.Dialog {
			continue
		}
		if s := m.Match(t); s > bestScore {
			best, bestScore = d, s
		}
	}
	if best != nil {
		handled, err := best.Handle(t)
		if err != nil || handled {
			return err
		}
	}
	return e.runFallback(t)
}

func (e *Engine) routePayload(t *Turn) error {
	name, _, _ := strings.Cut(t.In.Payload, ":")
	if d := e.dialogs[name]; d != nil {
		handled, err := d.Handle(t)
		if err != nil || handled {
			return err
		}
	}
	// A button from an old message, or a payload we never made (whose
	// words are not logged: a client can put anything there).
	if e.dialogs[name] == nil {
		name = "(none)"
	}
	e.log.InfoContext(t.Ctx, "unknown button payload", "conversation_id", t.conv.ID, "dialog", name)
	t.Say("input.unknown_button")
	return e.runFallback(t)
}

func (e *Engine) runFallback(t *Turn) error {
	if d := e.dialogs[e.fallback]; d != nil {
		_, err := d.Handle(t)
		return err
	}
	t.Say("fallback.not_understood")
	return nil
}

// Send queues proactive messages (staff relays, reminders, notices) to a
// conversation inside the caller's transaction; the conversation is locked
// first so its messages keep their order.
func (e *Engine) Send(ctx context.Context, tx *store.Tx, conversationID int64, replies ...Reply) ([]Sent, error) {
	conv, err := tx.LockConversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	sent, err := e.queue(ctx, tx, &conv, nil, replies)
	if err != nil {
		return nil, err
	}
	return sent, tx.SaveConversationLater(ctx, &conv, e.clock.Now())
}

// queue stores replies and enqueues their delivery in the transaction. The
// stored replies are held back to travel with the delivery job's insert
// (store.InsertOutboundLater), so a turn's replies cost one round trip
// whatever their number. One job delivers them all: a delivery job sends
// every undelivered message of its conversation up to its seq, in order.
// Replies for an inline channel are stored as sent at once, the caller
// answering with them.
func (e *Engine) queue(ctx context.Context, tx *store.Tx, conv *store.Conversation, inboundID *int64, replies []Reply) ([]Sent, error) {
	now := e.clock.Now()
	inline := e.inline[conv.Channel]
	rows := make([]store.Outbound, len(replies))
	for i, r := range replies {
		body, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("bot: encode reply: %w", err)
		}
		conv.NextOutSeq++
		o := &rows[i]
		*o = store.Outbound{ConversationID: conv.ID, Seq: conv.NextOutSeq, InboundID: inboundID, Channel: conv.Channel,
			Body: body, CreatedAt: now}
		if inline {
			o.Status, o.SentAt = store.OutboundSent, &now
		}
		if err := tx.InsertOutboundLater(ctx, o); err != nil {
			return nil, err
		}
	}
	if !inline && len(replies) > 0 {
		// The job names the last reply by its seq: the ids are not known
		// until the inserts' results come back with the job's.
		if err := tx.Enqueue(ctx, DeliverArgs{ConversationID: conv.ID, Seq: conv.NextOutSeq},
			&river.InsertOpts{MaxAttempts: deliverMaxAttempts}); err != nil {
			return nil, err
		}
	}
	sent := make([]Sent, len(replies))
	for i, r := range replies {
		if r.Action != "" {
			e.metrics.Actions.WithLabelValues(r.Action).Inc()
		}
		sent[i] = Sent{Reply: r, ID: rows[i].ID, Seq: rows[i].Seq, CreatedAt: now}
	}
	if inline && len(sent) > 0 {
		// The inserts go with the transaction's next statement or its
		// commit (on PostgreSQL, no round trip of their own), so the ids
		// are known once it has committed; the caller reads them after.
		out, n := e.metrics.MessagesOut.WithLabelValues(conv.Channel, "sent"), float64(len(sent))
		tx.AfterCommit(func() {
			for i := range sent {
				sent[i].ID = rows[i].ID
			}
			// Counted once committed, as Deliver counts what it has sent.
			out.Add(n)
		})
	}
	if len(sent) > 0 && len(e.notify) > 0 {
		id := conv.ID
		tx.AfterCommit(func() {
			for _, fn := range e.notify {
				fn(id)
			}
		})
	}
	return sent, nil
}

func sentReplies(ctx context.Context, q store.Q, inboundID int64) ([]Sent, error) {
	rows, err := q.OutboundForInbound(ctx, inboundID)
	if err != nil {
		return nil, err
	}
	return toSent(rows), nil
}

func toSent(rows []store.Outbound) []Sent {
	out := make([]Sent, 0, len(rows))
	for _, o := range rows {
		r, err := DecodeReply(o.Body)
		if err != nil {
			continue
		}
		out = append(out, Sent{Reply: r, ID: o.ID, Seq: o.Seq, CreatedAt: o.CreatedAt})
	}
	return out
}

// History returns a conversation's outgoing messages after seq, in order.
func (e *Engine) History(ctx context.Context, conversationID, afterSeq int64, limit int) ([]Sent, error) {
	rows, err := e.db.Q().OutboundAfter(ctx, conversationID, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	return toSent(rows), nil
}

// normalize makes outside text safe to store and match: valid UTF-8, no
// control characters but newlines and tabs, a bounded size, and a time.
func (e *Engine) normalize(in Inbound) Inbound {
	in.Text = cleanText(in.Text, MaxStoredRunes)
	in.Payload = cleanText(in.Payload, MaxPayloadBytes)
	if len(in.Payload) > MaxPayloadBytes {
		in.Payload = in.Payload[:MaxPayloadBytes]
	}
	if in.Time.IsZero() {
		in.Time = e.clock.Now()
	}
	return in
}

func cleanText(s string, maxRunes int) string {
	if s == "" {
		return s
	}
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes])
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func inboundFromStore(m store.Inbound) Inbound {
	in := Inbound{Channel: m.Channel, SenderID: m.SenderID, MessageID: m.ExternalID, Text: m.Text,
		Payload: m.Payload, Locale: m.Locale, Time: m.ReceivedAt}
	if len(m.Meta) > 0 {
		_ = json.Unmarshal(m.Meta, &in.Meta)
	}
	return in
}
