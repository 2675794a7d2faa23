package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Inbound statuses.
const (
	InboundPending = "pending" // accepted, not handled yet
	InboundDone    = "done"    // handled; its replies are queued
	InboundFailed  = "failed"  // handling failed; the patient got an apology
)

// Outbound statuses.
const (
	OutboundQueued  = "queued"  // waiting for delivery
	OutboundSending = "sending" // handed to the channel; outcome not yet recorded
	OutboundSent    = "sent"    // the channel accepted it
	OutboundFailed  = "failed"  // the channel refused it for good
)

// Inbound is a stored patient message.
type Inbound struct {
	ID             int64
	ConversationID int64
	Seq            int64
	Channel        string
	ExternalID     string
	SenderID       string
	Text           string
	Payload        string
	Locale         string
	Meta           []byte
	Status         string
	Error          string
	ReceivedAt     time.Time
	HandledAt      *time.Time
}

const inboundCols = `id, conversation_id, seq, channel, external_id, sender_id, text, payload, locale, meta,
	status, error, received_at, handled_at`

func (q Q) scanInbound(r row) (Inbound, error) {
	var m Inbound
	var meta string
	err := r.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.Channel, &m.ExternalID, &m.SenderID, &m.Text, &m.Payload,
		&m.Locale, &meta, &m.Status, &m.Error, &m.ReceivedAt, &m.HandledAt)
	if err != nil {
		return m, err
	}
	if m.Text, err = q.Open(PurposeInboundText, m.Text); err != nil {
		return m, err
	}
	if meta, err = q.OpenJSON(PurposeInboundMeta, meta); err != nil {
		return m, err
	}
	m.Meta = []byte(meta)
	return m, nil
}

// inboundInsertCols are the columns every insert of a message writes.
const inboundInsertCols = `(conversation_id, seq, channel, external_id, sender_id, text, payload, locale, meta, status,
	received_at, handled_at)`

// InsertInbound stores a message unless one with the same (channel,
// external id) exists; inserted is false for such a repeat.
func (q Q) InsertInbound(ctx context.Context, m *Inbound) (inserted bool, err error) {
	text, meta, _ := q.inboundValues(m)
	err = q.q.queryRow(ctx, `INSERT INTO inbound_messages `+inboundInsertCols+`
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (channel, external_id) DO NOTHING RETURNING id`,
		m.ConversationID, m.Seq, m.Channel, m.ExternalID, m.SenderID, text, m.Payload, m.Locale, meta, m.Status, m.ReceivedAt,
		m.HandledAt,
	).Scan(&m.ID)
	if err == ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: insert inbound: %w", err)
	}
	return true, nil
}

// FindInbound returns the message with this channel id.
func (q Q) FindInbound(ctx context.Context, channel, externalID string) (Inbound, error) {
	return q.scanInbound(q.q.queryRow(ctx, `SELECT `+inboundCols+` FROM inbound_messages WHERE channel = $1 AND external_id = $2`,
		channel, externalID))
}

// PendingInbound lists a conversation's unhandled messages in order.
func (q Q) PendingInbound(ctx context.Context, conversationID int64) ([]Inbound, error) {
	return Collect[Inbound](q.q.query(ctx, `SELECT `+inboundCols+` FROM inbound_messages
		WHERE conversation_id = $1 AND status = 'pending' ORDER BY seq`, conversationID))(q.scanInbound)
}

// RecentInbound lists a conversation's last n messages, oldest first.
func (q Q) RecentInbound(ctx context.Context, conversationID int64, n int) ([]Inbound, error) {
	return Collect[Inbound](q.q.query(ctx, `SELECT `+inboundCols+` FROM (SELECT * FROM inbound_messages
		WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2) AS recent ORDER BY seq`, conversationID, n))(q.scanInbound)
}

// FinishInbound records the outcome of handling a message.
func (q Q) FinishInbound(ctx context.Context, id int64, status, errText string, now time.Time) error {
	if _, err := q.q.exec(ctx, finishInboundSQL, id, status, errText, now); err != nil {
		return fmt.Errorf("store: finish inbound: %w", err)
	}
	return nil
}

const finishInboundSQL = `UPDATE inbound_messages SET status = $2, error = $3, handled_at = $4 WHERE id = $1`

// Outbound is a stored message to the patient. Body is the engine's JSON.
type Outbound struct {
	ID             int64
	ConversationID int64
	Seq            int64
	InboundID      *int64
	Channel        string
	Body           []byte
	Status         string
	Attempts       int
	ExternalID     string
	Error          string
	CreatedAt      time.Time
	SentAt         *time.Time
}

const outboundCols = `id, conversation_id, seq, inbound_id, channel, body, status, attempts, external_id, error, created_at, sent_at`

func (q Q) scanOutbound(r row) (Outbound, error) {
	var m Outbound
	var body string
	err := r.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.InboundID, &m.Channel, &body, &m.Status, &m.Attempts,
		&m.ExternalID, &m.Error, &m.CreatedAt, &m.SentAt)
	if err != nil {
		return m, err
	}
	if body, err = q.OpenJSON(PurposeOutboundBody, body); err != nil {
		return m, err
	}
	m.Body = []byte(body)
	return m, nil
}

func (q Q) listOutbound(ctx context.Context, query string, args ...any) ([]Outbound, error) {
	return Collect[Outbound](q.q.query(ctx, query, args...))(q.scanOutbound)
}

// InsertOutbound stores a message to send; the caller assigns Seq. A
// message that needs no sending (web chat and console, whose replies go out
// in the HTTP answer) is stored with status sent and SentAt.
func (q Q) InsertOutbound(ctx context.Context, m *Outbound) error {
	sql, args := q.insertOutbound(m)
	if err := q.q.queryRow(ctx, sql, args...).Scan(&m.ID); err != nil {
		return fmt.Errorf("store: insert outbound: %w", err)
	}
	return nil
}

func (q Q) insertOutbound(m *Outbound) (string, []any) {
	if m.Status == "" {
		m.Status = OutboundQueued
	}
	return `INSERT INTO outbound_messages (conversation_id, seq, inbound_id, channel, body, status, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		[]any{m.ConversationID, m.Seq, m.InboundID, m.Channel, q.SealJSON(PurposeOutboundBody, string(m.Body)), m.Status,
			m.CreatedAt, m.SentAt}
}

// GetOutbound loads one outgoing message.
func (q Q) GetOutbound(ctx context.Context, id int64) (Outbound, error) {
	return q.scanOutbound(q.q.queryRow(ctx, `SELECT `+outboundCols+` FROM outbound_messages WHERE id = $1`, id))
}

// OutboundAfter lists a conversation's outgoing messages with seq > after, in order.
func (q Q) OutboundAfter(ctx context.Context, conversationID, after int64, limit int) ([]Outbound, error) {
	return q.listOutbound(ctx, `SELECT `+outboundCols+` FROM outbound_messages
		WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, conversationID, after, limit)
}

// OutboundForInbound lists the replies to one inbound message, in order.
func (q Q) OutboundForInbound(ctx context.Context, inboundID int64) ([]Outbound, error) {
	return q.listOutbound(ctx, `SELECT `+outboundCols+` FROM outbound_messages
		WHERE inbound_id = $1 ORDER BY seq`, inboundID)
}

// UndeliveredUpTo lists queued or in-flight messages of a conversation with seq <= upTo, in order.
func (q Q) UndeliveredUpTo(ctx context.Context, conversationID, upTo int64) ([]Outbound, error) {
	return q.listOutbound(ctx, `SELECT `+outboundCols+` FROM outbound_messages
		WHERE conversation_id = $1 AND seq <= $2 AND status IN ('queued', 'sending') ORDER BY seq`, conversationID, upTo)
}

// MarkOutboundSending records that a send is being attempted, so that a crash
// mid-send is visible (the message is then re-sent at most once more).
func (q Q) MarkOutboundSending(ctx context.Context, id int64) error {
	_, err := q.q.exec(ctx, `UPDATE outbound_messages SET status = 'sending', attempts = attempts + 1 WHERE id = $1`, id)
	return err
}

// MarkOutboundSent records a successful send.
func (q Q) MarkOutboundSent(ctx context.Context, id int64, externalID string, now time.Time) error {
	_, err := q.q.exec(ctx, `UPDATE outbound_messages SET status = 'sent', external_id = $2, error = '', sent_at = $3 WHERE id = $1`,
		id, externalID, now)
	return err
}

// MarkOutboundRetry puts a message back in the queue after a failed attempt.
func (q Q) MarkOutboundRetry(ctx context.Context, id int64, errText string) error {
	_, err := q.q.exec(ctx, `UPDATE outbound_messages SET status = 'queued', error = $2 WHERE id = $1`, id, errText)
	return err
}

// MarkOutboundFailed records that a message cannot be delivered.
func (q Q) MarkOutboundFailed(ctx context.Context, id int64, errText string) error {
	_, err := q.q.exec(ctx, `UPDATE outbound_messages SET status = 'failed', error = $2 WHERE id = $1`, id, errText)
	return err
}

// CountOutboundByStatus counts a conversation's outgoing messages per status.
func (q Q) CountOutboundByStatus(ctx context.Context, conversationID int64) (map[string]int, error) {
	return CountBy(q.q.query(ctx, `SELECT status, count(*) FROM outbound_messages WHERE conversation_id = $1 GROUP BY status`, conversationID))
}

// AcceptInbound records a new message's arrival: AdvanceConversation, then
// InsertInbound with the seq it took (m.ConversationID and m.Seq are
// filled in). On PostgreSQL, when the conversation exists (every message
// but a chat's first), both are one statement: accepting a webhook is
// bound by round trips to the database, each a write and a wake-up on both
// sides. inserted is false for a message seen before; the caller must then
// roll back, since the seq was taken.
func (q Q) AcceptInbound(ctx context.Context, chatID, lang string, wroteAt, now time.Time, m *Inbound) (inserted bool, err error) {
	if q.dialect == Postgres {
		sql, args := q.acceptInbound(chatID, wroteAt, now, m)
		var convID, seq int64
		var id *int64
		err := q.q.queryRow(ctx, sql, args...).Scan(&convID, &seq, &id)
		if ok, err := acceptedAs(m, convID, seq, id, err); !errors.Is(err, ErrNotFound) {
			return ok, err
		}
		// A new chat: create the conversation below.
	}
	return q.acceptNewChat(ctx, chatID, lang, wroteAt, now, m)
}

// acceptInbound is AcceptInbound's one statement for a chat that exists.
func (q Q) acceptInbound(chatID string, wroteAt, now time.Time, m *Inbound) (string, []any) {
	text, meta, status := q.inboundValues(m)
	return `WITH c AS (
				UPDATE conversations SET next_in_seq = next_in_seq + 1,
				sender_id = $3, last_inbound_at = $4, unreachable = false, updated_at = $5
				WHERE channel = $1 AND chat_id = $2 RETURNING id, next_in_seq),
			ins AS (
				INSERT INTO inbound_messages ` + inboundInsertCols + `
				SELECT c.id, c.next_in_seq, $1, $6, $3, $7, $8, $9, $10::jsonb, $11, $12::timestamptz, $13::timestamptz FROM c
				ON CONFLICT (channel, external_id) DO NOTHING RETURNING id)
			SELECT c.id, c.next_in_seq, ins.id FROM c LEFT JOIN ins ON true`,
		[]any{m.Channel, chatID, m.SenderID, wroteAt, now, m.ExternalID, text, m.Payload, m.Locale, meta, status,
			m.ReceivedAt, m.HandledAt}
}

// acceptedAs reads acceptInbound's result into m; ErrNotFound means a new chat.
func acceptedAs(m *Inbound, convID, seq int64, id *int64, err error) (bool, error) {
	switch {
	case errors.Is(err, ErrNotFound):
		return false, ErrNotFound
	case err != nil:
		return false, fmt.Errorf("store: accept inbound: %w", err)
	}
	m.ConversationID, m.Seq = convID, seq
	if id == nil {
		return false, nil
	}
	m.ID = *id
	return true, nil
}

// acceptNewChat is AcceptInbound in two statements, the way for a chat's
// first message (and for SQLite).
func (q Q) acceptNewChat(ctx context.Context, chatID, lang string, wroteAt, now time.Time, m *Inbound) (bool, error) {
	conv, err := q.AdvanceConversation(ctx, m.Channel, chatID, m.SenderID, lang, wroteAt, now)
	if err != nil {
		return false, err
	}
	m.ConversationID, m.Seq = conv.ID, conv.NextInSeq
	return q.InsertInbound(ctx, m)
}

// AcceptInboundLater is AcceptInbound with its statement held back, on
// PostgreSQL, to travel with the transaction's next one: a webhook then
// accepts a message in two round trips, BEGIN with the message and its
// handling job, then COMMIT. The outcome is known once that next statement
// has run; result returns it (sending the statement first if nothing did),
// and for a chat's first message creates the conversation and stores the
// message then. On SQLite the work is done at once.
func (tx *Tx) AcceptInboundLater(ctx context.Context, chatID, lang string, wroteAt, now time.Time, m *Inbound) (result func() (inserted bool, err error), err error) {
	lt, ok := tx.pgTx.(*lazyTx)
	if !ok {
		inserted, err := tx.AcceptInbound(ctx, chatID, lang, wroteAt, now, m)
		return func() (bool, error) { return inserted, err }, err
	}
	var (
		arrived  bool
		inserted bool
		accErr   error
	)
	sql, args := tx.acceptInbound(chatID, wroteAt, now, m)
	err = lt.later(sql, args, func(rs pgx.Rows) error {
		arrived = true
		var convID, seq int64
		var id *int64
		scanErr := scanOne(rs, &convID, &seq, &id)
		inserted, accErr = acceptedAs(m, convID, seq, id, scanErr)
		if errors.Is(accErr, ErrNotFound) {
			return nil // a new chat: result creates it
		}
		return accErr
	})
	if err != nil {
		return nil, fmt.Errorf("store: accept inbound: %w", err)
	}
	return func() (bool, error) {
		if !arrived {
			if err := lt.flush(ctx); err != nil {
				return false, fmt.Errorf("store: accept inbound: %w", err)
			}
		}
		if errors.Is(accErr, ErrNotFound) {
			return tx.acceptNewChat(ctx, chatID, lang, wroteAt, now, m)
		}
		return inserted, accErr
	}, nil
}

// inboundValues fills in a message's empty status and returns its text
// and meta as stored (sealed when a key is configured; an empty meta is
// "{}").
func (q Q) inboundValues(m *Inbound) (text, meta, status string) {
	meta = string(m.Meta)
	if meta == "" {
		meta = "{}"
	}
	if m.Status == "" {
		m.Status = InboundPending
	}
	return q.Seal(PurposeInboundText, m.Text), q.SealJSON(PurposeInboundMeta, meta), m.Status
}

// OpenWithInbound opens and locks the conversation for (m.Channel, chatID),
// creating it when new, and stores m as its next message: OpenConversation
// then InsertInbound, with m.ConversationID and m.Seq filled in. With
// handleNow, a message with nothing older pending is stored as done (the
// caller handles it in this transaction). The conversation is returned as
// it was before the message; inserted is false for a message seen before.
// On PostgreSQL, for a conversation that exists, both are one statement:
// a turn is bound by its round trips. On a NoWait Q, a conversation locked
// by another transaction is ErrBusy.
func (q Q) OpenWithInbound(ctx context.Context, chatID, lang string, now time.Time, m *Inbound, handleNow bool) (Conversation, bool, error) {
	if q.dialect == Postgres {
		text, meta, _ := q.inboundValues(m)
		var id *int64
		var status *string
		c, err := q.scanConversation(q.q.queryRow(ctx, `WITH c AS (
				SELECT `+conversationCols+` FROM conversations WHERE channel = $1 AND chat_id = $2`+q.forUpdate()+`),
			ins AS (
				INSERT INTO inbound_messages `+inboundInsertCols+`
				SELECT c.id, c.next_in_seq + 1, $1, $3, $4, $5, $6, $7, $8::jsonb,
					CASE WHEN $9::boolean AND c.handled_seq = c.next_in_seq THEN 'done' ELSE 'pending' END, $10::timestamptz,
					CASE WHEN $9::boolean AND c.handled_seq = c.next_in_seq THEN $11::timestamptz END
				FROM c ON CONFLICT (channel, external_id) DO NOTHING RETURNING id AS ins_id, status AS ins_status)
			SELECT c.*, ins.ins_id, ins.ins_status FROM c LEFT JOIN ins ON true`,
			m.Channel, chatID, m.ExternalID, m.SenderID, text, m.Payload, m.Locale, meta, handleNow, m.ReceivedAt, now,
		), &id, &status)
		switch {
		case err == nil:
			m.ConversationID, m.Seq = c.ID, c.NextInSeq+1
			if id == nil {
				return c, false, nil
			}
			m.ID, m.Status = *id, *status
			if m.Status == InboundDone {
				m.HandledAt = &now
			}
			return c, true, nil
		case !errors.Is(err, ErrNotFound):
			return c, false, fmt.Errorf("store: open conversation with message: %w", busy(err))
		}
		// A new chat: create the conversation below.
	}
	c, _, err := q.OpenConversation(ctx, m.Channel, chatID, lang, now)
	if err != nil {
		return c, false, err
	}
	m.ConversationID, m.Seq = c.ID, c.NextInSeq+1
	if handleNow && c.HandledSeq == c.NextInSeq {
		m.Status, m.HandledAt = InboundDone, &now
	}
	inserted, err := q.InsertInbound(ctx, m)
	return c, inserted, err
}
