package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/store"
)

// The channel's own tables (migration 00025_whatsapp.sql).

// Status ranks: a status only ever moves up.
var statusRank = map[string]int{"sent": 1, "delivered": 2, "read": 3, "failed": 4}

// Status is what WhatsApp last told about one outgoing message.
type Status struct {
	WAMID       string
	Status      string // sent, delivered, read, failed ("" before any webhook)
	ErrorCode   int
	ErrorTitle  string
	SentAt      *time.Time
	DeliveredAt *time.Time
	ReadAt      *time.Time
	FailedAt    *time.Time
}

// recordSend links a wamid to its conversation when the send succeeds. A
// status may already be there (webhooks can overtake the send's answer);
// it is returned so that a failure seen first is not lost.
func recordSend(ctx context.Context, q store.Q, wamid string, conversationID int64, now time.Time) (status string, code int, err error) {
	err = q.QueryRow(ctx, `INSERT INTO whatsapp_statuses (wamid, conversation_id, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (wamid) DO UPDATE SET conversation_id = excluded.conversation_id
		RETURNING status, error_code`, wamid, conversationID, now).Scan(&status, &code)
	if err != nil {
		return "", 0, fmt.Errorf("whatsapp: record send: %w", err)
	}
	return status, code, nil
}

// recordStatus merges one status webhook into the message's row, never
// moving it backwards and keeping the first time seen for each state. It
// returns the conversation when the send is already recorded.
func recordStatus(ctx context.Context, q store.Q, s status, now time.Time) (conversationID *int64, err error) {
	rank := statusRank[s.Status]
	if rank == 0 {
		return nil, fmt.Errorf("whatsapp: unknown status %q", s.Status)
	}
	at := unixTime(s.Timestamp)
	if at.IsZero() {
		at = now
	}
	var times [4]*time.Time
	times[rank-1] = &at
	code, title := 0, ""
	if len(s.Errors) > 0 {
		code, title = s.Errors[0].Code, scrub(clip(s.Errors[0].Title, 200))
	}
	err = q.QueryRow(ctx, `INSERT INTO whatsapp_statuses (wamid, status, rank, error_code, error_title,
			sent_at, delivered_at, read_at, failed_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (wamid) DO UPDATE SET
			status = CASE WHEN excluded.rank > whatsapp_statuses.rank THEN excluded.status ELSE whatsapp_statuses.status END,
			rank = CASE WHEN excluded.rank > whatsapp_statuses.rank THEN excluded.rank ELSE whatsapp_statuses.rank END,
			error_code = CASE WHEN excluded.error_code <> 0 THEN excluded.error_code ELSE whatsapp_statuses.error_code END,
			error_title = CASE WHEN excluded.error_code <> 0 THEN excluded.error_title ELSE whatsapp_statuses.error_title END,
			sent_at = COALESCE(whatsapp_statuses.sent_at, excluded.sent_at),
			delivered_at = COALESCE(whatsapp_statuses.delivered_at, excluded.delivered_at),
			read_at = COALESCE(whatsapp_statuses.read_at, excluded.read_at),
			failed_at = COALESCE(whatsapp_statuses.failed_at, excluded.failed_at),
			updated_at = excluded.updated_at
		RETURNING conversation_id`,
		s.ID, s.Status, rank, code, title, times[0], times[1], times[2], times[3], now).Scan(&conversationID)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: record status: %w", err)
	}
	return conversationID, nil
}

// MessageStatus returns what WhatsApp reported for a message id
// (store.ErrNotFound when nothing was recorded).
func MessageStatus(ctx context.Context, q store.Q, wamid string) (Status, error) {
	s := Status{WAMID: wamid}
	err := q.QueryRow(ctx, `SELECT status, error_code, error_title, sent_at, delivered_at, read_at, failed_at
		FROM whatsapp_statuses WHERE wamid = $1`, wamid).
		Scan(&s.Status, &s.ErrorCode, &s.ErrorTitle, &s.SentAt, &s.DeliveredAt, &s.ReadAt, &s.FailedAt)
	return s, err
}

// OutboundStatus returns the WhatsApp status of a stored outgoing message.
func OutboundStatus(ctx context.Context, q store.Q, outboundID int64) (Status, error) {
	var wamid string
	if err := q.QueryRow(ctx, `SELECT external_id FROM outbound_messages WHERE id = $1`, outboundID).Scan(&wamid); err != nil {
		return Status{}, err
	}
	if wamid == "" {
		return Status{}, store.ErrNotFound
	}
	return MessageStatus(ctx, q, wamid)
}

// saveOptions remembers buttons shown as numbered text; nil forgets them.
func saveOptions(ctx context.Context, q store.Q, conversationID int64, buttons []bot.Button, now time.Time) error {
	if len(buttons) == 0 {
		_, err := q.Exec(ctx, `DELETE FROM whatsapp_options WHERE conversation_id = $1`, conversationID)
		return err
	}
	raw, err := json.Marshal(buttons)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO whatsapp_options (conversation_id, options, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (conversation_id) DO UPDATE SET options = excluded.options, created_at = excluded.created_at`,
		conversationID, string(raw), now)
	return err
}

// loadOptions returns the numbered options last shown to a chat, if recent.
func loadOptions(ctx context.Context, q store.Q, chatID string, since time.Time) ([]bot.Button, error) {
	var raw string
	err := q.QueryRow(ctx, `SELECT o.options FROM whatsapp_options o JOIN conversations c ON c.id = o.conversation_id
		WHERE c.channel = $1 AND c.chat_id = $2 AND o.created_at > $3`, Channel, chatID, since).Scan(&raw)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var b []bot.Button
	return b, json.Unmarshal([]byte(raw), &b)
}

func sentPart(ctx context.Context, q store.Q, conversationID int64, digest string, part int) (string, bool, error) {
	var wamid string
	err := q.QueryRow(ctx, `SELECT wamid FROM whatsapp_send_parts WHERE conversation_id = $1 AND digest = $2 AND part = $3`,
		conversationID, digest, part).Scan(&wamid)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	return wamid, err == nil, err
}

func putPart(ctx context.Context, q store.Q, conversationID int64, digest string, part int, wamid string, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO whatsapp_send_parts (conversation_id, digest, part, wamid, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, conversationID, digest, part, wamid, now)
	return err
}

func clearParts(ctx context.Context, q store.Q, conversationID int64, digest string) error {
	_, err := q.Exec(ctx, `DELETE FROM whatsapp_send_parts WHERE conversation_id = $1 AND digest = $2`, conversationID, digest)
	return err
}

// hold keeps a reply that the closed window kept from the patient.
func hold(ctx context.Context, q store.Q, conversationID int64, r bot.Reply, now time.Time) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO whatsapp_held (conversation_id, body, created_at) VALUES ($1, $2, $3)`,
		conversationID, string(raw), now)
	if err != nil {
		return fmt.Errorf("whatsapp: hold reply: %w", err)
	}
	return nil
}

// heldReply is a reply waiting for the window to open.
type heldReply struct {
	id      int64
	reply   bot.Reply
	created time.Time
}

// listHeld returns a conversation's held replies, oldest first; unreadable
// ones are dropped rather than block the conversation.
func listHeld(ctx context.Context, q store.Q, conversationID int64) ([]heldReply, error) {
	rs, err := q.Query(ctx, `SELECT id, body, created_at FROM whatsapp_held WHERE conversation_id = $1 ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: held replies: %w", err)
	}
	defer rs.Close()
	var out []heldReply
	for rs.Next() {
		var h heldReply
		var body string
		if err := rs.Scan(&h.id, &body, &h.created); err != nil {
			return nil, err
		}
		if h.reply, err = bot.DecodeReply([]byte(body)); err != nil {
			continue
		}
		out = append(out, h)
	}
	return out, rs.Err()
}

// DiscardHeld drops the replies held for a conversation (the patient opted
// out: nothing held may follow). Consent handling calls it in its
// transaction.
func DiscardHeld(ctx context.Context, q store.Q, conversationID int64) error {
	_, err := q.Exec(ctx, `DELETE FROM whatsapp_held WHERE conversation_id = $1`, conversationID)
	return err
}

func deleteHeld(ctx context.Context, q store.Q, id int64) error {
	_, err := q.Exec(ctx, `DELETE FROM whatsapp_held WHERE id = $1`, id)
	return err
}
