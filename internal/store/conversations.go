package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Conversation modes: who answers the patient.
const (
	ModeBot     = "bot"     // the assistant answers
	ModeWaiting = "waiting" // a person was asked for and has not taken over yet
	ModeStaff   = "staff"   // a staff member owns the conversation; the bot stays quiet
)

// Conversation is one patient chat on one channel.
type Conversation struct {
	ID         int64
	Channel    string
	ChatID     string
	SenderID   string
	Lang       string
	Dialog     string
	State      []byte
	Mode       string
	PatientID  *int64
	NextInSeq  int64
	NextOutSeq int64
	// HandledSeq is the seq of the last inbound message handled.
	HandledSeq    int64
	Unreachable   bool
	FlaggedAt     *time.Time
	LastInboundAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const conversationCols = `id, channel, chat_id, sender_id, lang, dialog, state, mode, patient_id,
	next_in_seq, next_out_seq, handled_seq, unreachable, flagged_at, last_inbound_at, created_at, updated_at`

// scanConversation reads conversationCols, then any extra columns into
// extra (a statement that returns more than the conversation).
func (q Q) scanConversation(r row, extra ...any) (Conversation, error) {
	var c Conversation
	var state string
	err := r.Scan(append([]any{&c.ID, &c.Channel, &c.ChatID, &c.SenderID, &c.Lang, &c.Dialog, &state, &c.Mode, &c.PatientID,
		&c.NextInSeq, &c.NextOutSeq, &c.HandledSeq, &c.Unreachable, &c.FlaggedAt, &c.LastInboundAt, &c.CreatedAt,
		&c.UpdatedAt}, extra...)...)
	if err != nil {
		return c, err
	}
	if state, err = q.OpenJSON(PurposeState, state); err != nil {
		return c, err
	}
	c.State = []byte(state)
	return c, nil
}

func (q Q) forUpdate() string {
	if q.dialect == Postgres {
		if q.nowait {
			return " FOR UPDATE NOWAIT"
		}
		return " FOR UPDATE"
	}
	return "" // SQLite transactions are immediate: the writer lock is already held
}

// ErrBusy is returned by a conversation lock taken with NoWait when another
// transaction holds the conversation. The transaction is then aborted
// (PostgreSQL), so the caller rolls it back.
var ErrBusy = errors.New("store: conversation busy in another transaction")

// NoWait returns q with conversation locks (OpenConversation,
// OpenWithInbound, LockConversation, LockChat) that fail with ErrBusy
// instead of waiting for another transaction to end: PostgreSQL's FOR
// UPDATE NOWAIT. On SQLite it changes nothing, a transaction holding the
// whole database's write lock from its start. A new chat's creation may
// still wait for a concurrent creation of the same chat.
func (q Q) NoWait() Q {
	q.nowait = true
	return q
}

// busy maps PostgreSQL's lock_not_available (a NOWAIT lock refused) to ErrBusy.
func busy(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
		return fmt.Errorf("%w: %s", ErrBusy, pgErr.Message)
	}
	return err
}

// OpenConversation returns the conversation for (channel, chatID), creating
// it when new, and locks it until the transaction ends.
func (q Q) OpenConversation(ctx context.Context, channel, chatID, lang string, now time.Time) (Conversation, bool, error) {
	c, err := q.scanConversation(q.q.queryRow(ctx,
		`SELECT `+conversationCols+` FROM conversations WHERE channel = $1 AND chat_id = $2`+q.forUpdate(), channel, chatID))
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return c, false, fmt.Errorf("store: find conversation: %w", busy(err))
	}
	if lang == "" {
		lang = "en"
	}
	c, err = q.scanConversation(q.q.queryRow(ctx,
		`INSERT INTO conversations (channel, chat_id, lang, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
		 ON CONFLICT (channel, chat_id) DO NOTHING RETURNING `+conversationCols, channel, chatID, lang, now))
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return c, false, fmt.Errorf("store: create conversation: %w", err)
	}
	// Another transaction created it first; wait for its lock.
	c, err = q.scanConversation(q.q.queryRow(ctx,
		`SELECT `+conversationCols+` FROM conversations WHERE channel = $1 AND chat_id = $2`+q.forUpdate(), channel, chatID))
	if err != nil {
		return c, false, fmt.Errorf("store: find conversation: %w", busy(err))
	}
	return c, false, nil
}

// LockConversation loads a conversation by id and locks it until the transaction ends.
func (q Q) LockConversation(ctx context.Context, id int64) (Conversation, error) {
	c, err := q.scanConversation(q.q.queryRow(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = $1`+q.forUpdate(), id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: lock conversation %d: %w", id, busy(err))
	}
	return c, err
}

// LockChat loads the conversation for (channel, chatID) and locks it until
// the transaction ends.
func (q Q) LockChat(ctx context.Context, channel, chatID string) (Conversation, error) {
	c, err := q.scanConversation(q.q.queryRow(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE channel = $1 AND chat_id = $2`+q.forUpdate(), channel, chatID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: lock conversation: %w", busy(err))
	}
	return c, err
}

// GetConversation loads a conversation by id without locking it.
func (q Q) GetConversation(ctx context.Context, id int64) (Conversation, error) {
	c, err := q.scanConversation(q.q.queryRow(ctx, `SELECT `+conversationCols+` FROM conversations WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: get conversation %d: %w", id, err)
	}
	return c, err
}

// FindConversation loads the conversation for (channel, chatID).
func (q Q) FindConversation(ctx context.Context, channel, chatID string) (Conversation, error) {
	c, err := q.scanConversation(q.q.queryRow(ctx,
		`SELECT `+conversationCols+` FROM conversations WHERE channel = $1 AND chat_id = $2`, channel, chatID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: find conversation: %w", err)
	}
	return c, err
}

// SaveConversation writes back the mutable fields of a conversation.
func (q Q) SaveConversation(ctx context.Context, c *Conversation, now time.Time) error {
	sql, args := q.saveConversation(c, now)
	n, err := q.q.exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("store: save conversation %d: %w", c.ID, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func (q Q) saveConversation(c *Conversation, now time.Time) (string, []any) {
	state := string(c.State)
	if state == "" {
		state = "{}"
	}
	state = q.SealJSON(PurposeState, state)
	c.UpdatedAt = now
	return `UPDATE conversations SET sender_id = $2, lang = $3, dialog = $4, state = $5, mode = $6,
		patient_id = $7, next_in_seq = $8, next_out_seq = $9, unreachable = $10, flagged_at = $11,
		last_inbound_at = $12, updated_at = $13, handled_seq = $14 WHERE id = $1`,
		[]any{c.ID, c.SenderID, c.Lang, c.Dialog, state, c.Mode, c.PatientID, c.NextInSeq, c.NextOutSeq,
			c.Unreachable, c.FlaggedAt, c.LastInboundAt, now, c.HandledSeq}
}

// SetUnreachable marks that the channel refuses messages to this conversation
// (the patient blocked the bot, the number is invalid).
func (q Q) SetUnreachable(ctx context.Context, id int64, unreachable bool, now time.Time) error {
	_, err := q.q.exec(ctx, `UPDATE conversations SET unreachable = $2, updated_at = $3 WHERE id = $1`, id, unreachable, now)
	if err != nil {
		return fmt.Errorf("store: set unreachable: %w", err)
	}
	return nil
}

// ConversationsWithPending lists conversations that have inbound messages
// still pending since before the cutoff: accepted but not yet handled, as
// after a crash. The recovery job handles them.
func (q Q) ConversationsWithPending(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	ids, err := IDs(q.q.query(ctx, `SELECT DISTINCT conversation_id FROM inbound_messages
		WHERE status = 'pending' AND received_at < $1 ORDER BY conversation_id LIMIT $2`, before, limit))
	if err != nil {
		return nil, fmt.Errorf("store: pending conversations: %w", err)
	}
	return ids, nil
}

// AdvanceConversation records a new inbound message's arrival on the
// conversation for (channel, chatID), creating it when new, in one statement
// that also locks the row until the transaction ends: it takes the next
// inbound seq (returned as NextInSeq), the sender, the patient's last-write
// time, and makes the conversation reachable again. Accepting a webhook
// message costs one round trip here instead of a read and a write.
func (q Q) AdvanceConversation(ctx context.Context, channel, chatID, senderID, lang string, wroteAt, now time.Time) (Conversation, error) {
	for attempt := 0; attempt < 2; attempt++ {
		c, err := q.scanConversation(q.q.queryRow(ctx, `UPDATE conversations SET next_in_seq = next_in_seq + 1,
			sender_id = $3, last_inbound_at = $4, unreachable = $5, updated_at = $6
			WHERE channel = $1 AND chat_id = $2 RETURNING `+conversationCols,
			channel, chatID, senderID, wroteAt, false, now))
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return c, fmt.Errorf("store: advance conversation: %w", err)
		}
		if lang == "" {
			lang = "en"
		}
		c, err = q.scanConversation(q.q.queryRow(ctx, `INSERT INTO conversations
			(channel, chat_id, sender_id, lang, next_in_seq, last_inbound_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 1, $5, $6, $6)
			ON CONFLICT (channel, chat_id) DO NOTHING RETURNING `+conversationCols,
			channel, chatID, senderID, lang, wroteAt, now))
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return c, fmt.Errorf("store: create conversation: %w", err)
		}
		// Created by a concurrent transaction since the UPDATE: update it.
	}
	return Conversation{}, fmt.Errorf("store: advance conversation %s/%s: lost a race twice", channel, chatID)
}
