package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/store"
)

// deliverMaxAttempts bounds retries of one delivery (River's backoff grows
// to hours, so this covers an outage of about a day).
const deliverMaxAttempts = 20

// deliverLease is how long a delivery job's hold on its messages lasts
// (outbound_messages.sending_until): the message it is sending and those
// queued behind it up to its seq. The job renews it every leaseRenewEvery
// while it runs and shortens it to leaseGrace on the queued ones when it
// stops early (a failure, a snooze: River has its retry in hand), or sets
// it to the channel's retry_after on a rate limit (hold). Whoever takes the
// conversation's delivery lock next waits for a lease still on. A lease left to run
// out means the job's process died: recovery (redeliverUncovered) gives
// the conversation a new job within seconds, instead of leaving its job
// "running" until River's rescuer takes it, minutes later. The delivery
// lock already keeps two live jobs from sending one conversation's
// messages at once; the lease tells a dead sender from a slow one, and
// keeps a live sender's message from being taken over should its lock go
// (a dropped lock connection). A job that finds a message "sending" under
// a live lease snoozes for the rest of it: River makes a job snoozed for
// no longer than its scheduler's interval (5 s) available again by itself,
// with no River leader needed (a restarted process has none for up to
// about 20 s).
const deliverLease = 5 * time.Second

// leaseGrace is what is left of a lease when its job stops early: long
// enough for River to record the job as snoozed or retryable, so that
// recovery, which takes a "running" job whose lease ran out for a dead one,
// does not cut River's retry short (a rate limit's wait, for one).
const leaseGrace = 2 * time.Second

// leaseRenewEvery is how often a long send renews its lease (tests shorten it).
var leaseRenewEvery = deliverLease / 3

// recordTimeout bounds recording a send's outcome, which is done even when
// the job's context has ended (shutdown, timeout): a send that went out
// and is not recorded is sent again.
const recordTimeout = 10 * time.Second

// Recipient is where a reply goes.
type Recipient struct {
	ConversationID int64
	Channel        string
	ChatID         string
	Lang           string
	// LastInboundAt is when the patient last wrote (WhatsApp's window).
	LastInboundAt *time.Time
}

// Sender delivers replies on one channel. It returns the channel's id for
// the sent message. Errors say what to do next: *RetryAfterError waits
// and tries again, ErrUnreachable and ErrPermanent give up, anything else
// is retried with backoff.
type Sender interface {
	Send(ctx context.Context, to Recipient, r Reply) (externalID string, err error)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, to Recipient, r Reply) (string, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, to Recipient, r Reply) (string, error) {
	return f(ctx, to, r)
}

// ErrUnreachable means the patient cannot be reached on this channel (they
// blocked the bot, the number is invalid); the conversation is marked so.
var ErrUnreachable = errors.New("recipient unreachable")

// ErrPermanent means this message can never be delivered as it is.
var ErrPermanent = errors.New("permanent delivery failure")

// RetryAfterError asks to try again after a wait (rate limits).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RegisterSender sets the sender for a channel.
func (e *Engine) RegisterSender(channel string, s Sender) { e.senders[channel] = s }

// DeliverInline makes a channel's replies count as delivered when the turn
// that wrote them commits: no delivery job, for channels whose caller takes
// the replies from the turn itself (the web chat answers in the response and
// wakes its event streams after commit). Call it at install, before start.
func (e *Engine) DeliverInline(channel string) { e.inline[channel] = true }

// sendTimeout bounds a send in a webhook's request. A send cut off by it
// has an unknown outcome and is sent again by the job after its lease, as
// one cut off by a crash is.
const sendTimeout = 10 * time.Second

// sendReplies sends a received message's replies (and any of the
// conversation's undelivered ones before them) as the delivery job would:
// the same delivery lock, leases and outcomes (Deliver). What it cannot do
// now is left to the job queued with the replies: a failure is the job's
// to retry (after leaseGrace), a rate limit's hold makes the job wait for
// the channel's retry_after, and a lease cut off by a crash makes recovery
// or the job send again when it runs out. The request's cancellation (the
// channel hanging up once the turn has committed) does not cut the send.
func (e *Engine) sendReplies(ctx context.Context, out Outcome) {
	var seq int64
	for _, r := range out.Replies {
		seq = max(seq, r.Seq)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	if err := e.Deliver(ctx, DeliverArgs{ConversationID: out.ConversationID, Seq: seq}); err != nil {
		e.log.InfoContext(ctx, "reply left to its delivery job", "conversation_id", out.ConversationID, "error", err)
	}
}

// DeliverArgs is the durable job that delivers one outgoing message, after
// every earlier undelivered message of its conversation. The message is its
// conversation's Seq; OutboundID is informational (set by re-deliveries,
// not by a turn, whose job is inserted before the message's id is known).
type DeliverArgs struct {
	ConversationID int64 `json:"conversation_id"`
	OutboundID     int64 `json:"outbound_id,omitempty"`
	Seq            int64 `json:"seq"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "deliver" }

// DeliverWorker runs DeliverArgs jobs.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	engine *Engine
}

// Timeout bounds one delivery attempt, including waiting for the conversation's lock.
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return time.Minute }

// Work delivers, in order, the conversation's undelivered messages up to and
// including the job's. Jobs for one conversation may run at once on several
// replicas; the conversation's delivery lock makes them take turns, and the
// message status makes the later ones find their work already done.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.engine.Deliver(ctx, job.Args)
}

// Deliver runs one delivery job's work (exported for tests and tools).
func (e *Engine) Deliver(ctx context.Context, a DeliverArgs) (err error) {
	unlock, err := e.db.LockKey(ctx, "deliver:"+strconv.FormatInt(a.ConversationID, 10))
	if err != nil {
		return err
	}
	defer unlock()
	q := e.db.Q()
	lease := &deliveryLease{e: e, q: q, conv: a.ConversationID, upTo: a.Seq}
	defer func() { lease.end(err) }()
	conv, err := q.GetConversation(ctx, a.ConversationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // conversation purged
	}
	if err != nil {
		return err
	}
	msgs, err := q.UndeliveredUpTo(ctx, a.ConversationID, a.Seq)
	if err != nil {
		return err
	}
	to := Recipient{ConversationID: conv.ID, Channel: conv.Channel, ChatID: conv.ChatID, Lang: conv.Lang, LastInboundAt: conv.LastInboundAt}
	sender := e.senders[conv.Channel]
	for _, m := range msgs {
		if sender == nil {
			return fmt.Errorf("no sender for channel %q (is it configured?)", conv.Channel)
		}
		if conv.Unreachable {
			if err := q.MarkOutboundFailed(ctx, m.ID, "recipient unreachable"); err != nil {
				return err
			}
			e.metrics.MessagesOut.WithLabelValues(conv.Channel, "failed").Inc()
			continue
		}
		if m.Status == store.OutboundSending {
			// A previous attempt did not record its outcome. Within its lease
			// it may still be under way (its sender lost the lock but not
			// its connection to the channel, or died a moment ago): wait
			// for the lease rather than risk a second copy, and keep the
			// later messages behind it.
			if wait, err := e.leaseLeft(ctx, q, m.ID); err != nil {
				return err
			} else if wait > 0 {
				return river.JobSnooze(wait)
			}
			// Cut off before its outcome was recorded: the channel may or
			// may not have it. Sending again is the only way not to lose
			// it, and the one case in which the patient may see it twice.
			e.log.WarnContext(ctx, "re-sending a message whose earlier attempt was interrupted",
				"conversation_id", conv.ID, "outbound_id", m.ID)
		}
		r, err := DecodeReply(m.Body)
		if err != nil {
			_ = q.MarkOutboundFailed(ctx, m.ID, "unreadable body")
			continue
		}
		if err := lease.take(ctx, m.ID); err != nil {
			return err // a snooze, when an earlier sender's lease or hold is still on
		}
		ext, sendErr := sender.Send(ctx, to, r)
		// The outcome is recorded even if the job's context ended meanwhile.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		if sendErr == nil {
			err = e.recordSent(rctx, q, m.ID, ext)
			cancel()
			if err != nil {
				return err
			}
			e.metrics.MessagesOut.WithLabelValues(conv.Channel, "sent").Inc()
			continue
		}
		err = e.deliveryFailed(rctx, q, lease, &conv, m, sendErr)
		cancel()
		if err != nil {
			return err
		}
		// A message that can never go out does not hold back the ones after it.
	}
	return nil
}

// leaseLeft is how much of a "sending" message's lease is left (zero when
// it has run out or the message was never leased).
func (e *Engine) leaseLeft(ctx context.Context, q store.Q, id int64) (time.Duration, error) {
	var until *time.Time
	if err := q.QueryRow(ctx, `SELECT sending_until FROM outbound_messages WHERE id = $1`, id).Scan(&until); err != nil {
		return 0, fmt.Errorf("deliver: read lease: %w", err)
	}
	if until == nil {
		return 0, nil
	}
	return max(0, until.Sub(e.clock.Now())), nil
}

// deliveryLease is one delivery job's hold on the messages it delivers.
type deliveryLease struct {
	e          *Engine
	q          store.Q
	conv, upTo int64
	stop       chan struct{}
	stopped    chan struct{}
	held       bool // a rate limit's hold was written (hold); end leaves it
}

// takeSQL leases message $3 and those queued behind it up to seq $2. The
// first take of a run adds takeFreeSQL: it leases nothing while any of
// those messages is under a lease that has not run out, which, since the
// taker holds the delivery lock, is an earlier sender's: one cut off a
// moment ago, one that stopped early and left River its retry (leaseGrace),
// or a rate limit's hold (retry_after, see hold). Every sender, a job, a
// recovery takeover or Receive's send in the request, thus waits it out.
const (
	takeSQL = `UPDATE outbound_messages SET sending_until = $4,
			status = CASE WHEN id = $3 THEN 'sending' ELSE status END,
			attempts = CASE WHEN id = $3 THEN attempts + 1 ELSE attempts END
		WHERE conversation_id = $1 AND seq <= $2 AND (id = $3 OR status = 'queued')`
	takeFreeSQL = takeSQL + ` AND NOT EXISTS (SELECT 1 FROM outbound_messages x
			WHERE x.conversation_id = $1 AND x.seq <= $2 AND x.status IN ('queued', 'sending') AND x.sending_until > $5)`
)

// take marks message id as being sent (one more attempt) and leases it with
// every message queued behind it up to the job's seq, in one statement; the
// first take starts renewing the lease until end. The first take finds
// no earlier sender's lease on, or leases nothing and returns a snooze for
// the rest of it (river.JobSnooze; Receive leaves it to the job).
func (l *deliveryLease) take(ctx context.Context, id int64) error {
	now := l.e.clock.Now()
	if l.stop != nil {
		if _, err := l.q.Exec(ctx, takeSQL, l.conv, l.upTo, id, now.Add(deliverLease)); err != nil {
			return fmt.Errorf("deliver: mark sending: %w", err)
		}
		return nil
	}
	n, err := l.q.Exec(ctx, takeFreeSQL, l.conv, l.upTo, id, now.Add(deliverLease), now)
	if err != nil {
		return fmt.Errorf("deliver: mark sending: %w", err)
	}
	if n == 0 {
		var until *time.Time
		if err := l.q.QueryRow(ctx, `SELECT max(sending_until) FROM outbound_messages
			WHERE conversation_id = $1 AND seq <= $2 AND status IN ('queued', 'sending')`, l.conv, l.upTo).Scan(&until); err != nil {
			return fmt.Errorf("deliver: read lease: %w", err)
		}
		wait := minLeaseWait
		if until != nil {
			wait = max(wait, until.Sub(now))
		}
		return river.JobSnooze(wait)
	}
	l.stop, l.stopped = make(chan struct{}), make(chan struct{})
	go l.renew(ctx)
	return nil
}

// minLeaseWait is the shortest snooze for a lease found on (one that ran
// out between the take and the look at it is tried again soon).
const minLeaseWait = 10 * time.Millisecond

// hold records a rate limit: message id goes back to the queue with
// errText, and it and the messages queued behind it up to the job's seq
// are leased until until, the channel's retry_after, in one statement.
// Whoever takes the delivery lock next (this job's retry, a recovery
// takeover picked while the retry was "running" and not yet holding the
// lock, a send in a webhook's request) waits until then (take), so no
// sender goes before the channel's wait. The renewal is stopped first, so
// that it does not overwrite the hold, and end leaves it.
func (l *deliveryLease) hold(ctx context.Context, id int64, errText string, until time.Time) error {
	l.stopRenewing()
	l.held = true
	if _, err := l.q.Exec(ctx, `UPDATE outbound_messages SET sending_until = $4,
			status = CASE WHEN id = $3 THEN 'queued' ELSE status END,
			error = CASE WHEN id = $3 THEN $5 ELSE error END
		WHERE conversation_id = $1 AND seq <= $2 AND (id = $3 OR status = 'queued')`,
		l.conv, l.upTo, id, until, errText); err != nil {
		return fmt.Errorf("deliver: hold for a rate limit: %w", err)
	}
	return nil
}

// stopRenewing stops the renewal, if it runs, and waits for it.
func (l *deliveryLease) stopRenewing() {
	if l.stop == nil {
		return
	}
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.stopped
}

// renew extends the lease while the job runs (only jobs slower than
// leaseRenewEvery ever do).
func (l *deliveryLease) renew(ctx context.Context) {
	defer close(l.stopped)
	t := time.NewTicker(leaseRenewEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := l.q.Exec(ctx, `UPDATE outbound_messages SET sending_until = $3
				WHERE conversation_id = $1 AND seq <= $2 AND status IN ('queued', 'sending')`,
				l.conv, l.upTo, l.e.clock.Now().Add(deliverLease)); err != nil && ctx.Err() == nil {
				l.e.log.WarnContext(ctx, "could not renew a delivery lease", "conversation_id", l.conv, "error", err)
			}
		}
	}
}

// end stops the renewal. A job that stops early (err: a failure, or a
// snooze) drops its lease on the messages still queued, whose retry River
// now holds; a message left "sending" keeps it, since its outcome is
// unknown. A panic keeps everything leased, as a crash does.
func (l *deliveryLease) end(err error) {
	if l.stop == nil {
		return
	}
	l.stopRenewing()
	if err == nil || l.held {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	// Shortened to leaseGrace, not dropped: River records the job's new
	// state (snoozed, retryable) a moment after it returns, and until then
	// the job still looks "running", as a dead one does.
	until := l.e.clock.Now().Add(leaseGrace)
	if _, rerr := l.q.Exec(ctx, `UPDATE outbound_messages SET sending_until = $3
		WHERE conversation_id = $1 AND seq <= $2 AND status = 'queued' AND sending_until > $3`,
		l.conv, l.upTo, until); rerr != nil {
		l.e.log.WarnContext(ctx, "could not release a delivery lease", "conversation_id", l.conv, "error", rerr)
	}
}

// recordSent records a message the channel accepted, trying again a few
// times on a database error: a sent message left unrecorded is sent twice.
func (e *Engine) recordSent(ctx context.Context, q store.Q, id int64, ext string) error {
	var err error
	for i, wait := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 0} {
		if err = q.MarkOutboundSent(ctx, id, ext, e.clock.Now()); err == nil || wait == 0 || ctx.Err() != nil {
			break
		}
		e.log.WarnContext(ctx, "could not record a sent message; trying again", "outbound_id", id, "attempt", i+1, "error", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	return err
}

// deliveryFailed records a failed send. A nil result means the message is
// given up and delivery goes on with the next; an error tells River to retry
// (or, for a JobSnooze, to wait) and stops this run so order is kept.
func (e *Engine) deliveryFailed(ctx context.Context, q store.Q, lease *deliveryLease, conv *store.Conversation, m store.Outbound, sendErr error) error {
	msg := truncate(sendErr.Error(), 500)
	var ra *RetryAfterError
	switch {
	case errors.Is(sendErr, ErrUnreachable):
		e.log.WarnContext(ctx, "recipient unreachable; not retrying", "conversation_id", conv.ID, "channel", conv.Channel)
		if err := q.MarkOutboundFailed(ctx, m.ID, msg); err != nil {
			return err
		}
		e.metrics.MessagesOut.WithLabelValues(conv.Channel, "failed").Inc()
		// Later messages of this conversation fail fast until the patient writes again.
		conv.Unreachable = true
		return q.SetUnreachable(ctx, conv.ID, true, e.clock.Now())
	case errors.Is(sendErr, ErrPermanent):
		e.log.WarnContext(ctx, "message cannot be delivered", "conversation_id", conv.ID, "outbound_id", m.ID, "error", sendErr)
		e.metrics.MessagesOut.WithLabelValues(conv.Channel, "failed").Inc()
		return q.MarkOutboundFailed(ctx, m.ID, msg)
	case errors.As(sendErr, &ra):
		wait := ra.After
		if wait < time.Second {
			wait = time.Second
		}
		if err := lease.hold(ctx, m.ID, msg, e.clock.Now().Add(wait)); err != nil {
			return err
		}
		e.metrics.DeliveryRetries.WithLabelValues(conv.Channel).Inc()
		return river.JobSnooze(wait)
	default:
		if err := q.MarkOutboundRetry(ctx, m.ID, msg); err != nil {
			return err
		}
		e.metrics.DeliveryRetries.WithLabelValues(conv.Channel).Inc()
		return fmt.Errorf("deliver to %s: %w", conv.Channel, sendErr)
	}
}
