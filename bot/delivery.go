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
func (e *Engine) Deliver(ctx context.Context, a DeliverArgs) error {
	unlock, err := e.db.LockKey(ctx, "deliver:"+strconv.FormatInt(a.ConversationID, 10))
	if err != nil {
		return err
	}
	defer unlock()
	q := e.db.Q()
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
			// A previous attempt was cut off before its outcome was recorded;
			// the channel may or may not have it. Sending again is the only
			// way not to lose it.
			e.log.WarnContext(ctx, "re-sending a message whose earlier attempt was interrupted",
				"conversation_id", conv.ID, "outbound_id", m.ID)
		}
		r, err := DecodeReply(m.Body)
		if err != nil {
			_ = q.MarkOutboundFailed(ctx, m.ID, "unreadable body")
			continue
		}
		if err := q.MarkOutboundSending(ctx, m.ID); err != nil {
			return err
		}
		ext, sendErr := sender.Send(ctx, to, r)
		if sendErr == nil {
			if err := q.MarkOutboundSent(ctx, m.ID, ext, e.clock.Now()); err != nil {
				return err
			}
			e.metrics.MessagesOut.WithLabelValues(conv.Channel, "sent").Inc()
			continue
		}
		if err := e.deliveryFailed(ctx, q, &conv, m, sendErr); err != nil {
			return err
		}
		// A message that can never go out does not hold back the ones after it.
	}
	return nil
}

// deliveryFailed records a failed send. A nil result means the message is
// given up and delivery goes on with the next; an error tells River to retry
// (or, for a JobSnooze, to wait) and stops this run so order is kept.
func (e *Engine) deliveryFailed(ctx context.Context, q store.Q, conv *store.Conversation, m store.Outbound, sendErr error) error {
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
		if err := q.MarkOutboundRetry(ctx, m.ID, msg); err != nil {
			return err
		}
		e.metrics.DeliveryRetries.WithLabelValues(conv.Channel).Inc()
		wait := ra.After
		if wait < time.Second {
			wait = time.Second
		}
		return river.JobSnooze(wait)
	default:
		if err := q.MarkOutboundRetry(ctx, m.ID, msg); err != nil {
			return err
		}
		e.metrics.DeliveryRetries.WithLabelValues(conv.Channel).Inc()
		return fmt.Errorf("deliver to %s: %w", conv.Channel, sendErr)
	}
}
