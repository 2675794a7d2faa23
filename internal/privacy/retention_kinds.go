package privacy

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/store"
)

// skipLocked makes a batch's SELECT lock the rows it picks and pass over
// rows another transaction holds (PostgreSQL; SQLite has one writer).
func skipLocked(q store.Q) string {
	if q.Dialect() == store.Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// expiredConversationsSQL picks conversations whose channel address
// (the WhatsApp number, the Telegram chat id, the web chat id) is no
// longer needed: no activity since the cutoff ($2) and nothing of them
// left or waiting, namely
//
//   - no message either way (the messages rules removed the old ones; a
//     message not yet handled or a reply not yet sent is never removed);
//   - no handoff open, taken or waiting as an alert;
//   - no appointment booked through it that ends after the cutoff (a
//     future one needs its reminders);
//   - no survey waiting to be sent or answered there, no campaign message
//     queued for it, no open campaign request from it, no reply held for
//     WhatsApp's window and no live web session;
//   - no opt-out said there still in force (STOP or STOP ALL on its own
//     channel identity, not lifted by START): the address, and the links
//     that make that opt-out the patient's on every channel, are what
//     honouring it needs (see the Policy notes);
//   - not already erased or expired.
//
// Ids above $1, in order, at most $3.
const expiredConversationsSQL = `SELECT c.id, c.channel, c.chat_id FROM conversations c
	WHERE c.id > $1 AND c.updated_at < $2 AND (c.last_inbound_at IS NULL OR c.last_inbound_at < $2)
	AND c.chat_id NOT LIKE 'erased:%' AND c.chat_id NOT LIKE 'expired:%'
	AND NOT EXISTS (SELECT 1 FROM inbound_messages m WHERE m.conversation_id = c.id)
	AND NOT EXISTS (SELECT 1 FROM outbound_messages m WHERE m.conversation_id = c.id)
	AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = c.id AND h.status IN ('open', 'taken', 'alert'))
	AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.conversation_id = c.id AND a.ends_at >= $2)
	AND NOT EXISTS (SELECT 1 FROM survey_responses r WHERE r.conversation_id = c.id
		AND r.status IN ('scheduled', 'invited', 'in-progress'))
	AND NOT EXISTS (SELECT 1 FROM campaign_deliveries d WHERE d.conversation_id = c.id AND d.status = 'queued')
	AND NOT EXISTS (SELECT 1 FROM campaign_requests r WHERE r.conversation_id = c.id AND r.status = 'open')
	AND NOT EXISTS (SELECT 1 FROM whatsapp_held w WHERE w.conversation_id = c.id)
	AND NOT EXISTS (SELECT 1 FROM web_sessions s WHERE c.channel = 'web' AND s.chat_id = c.chat_id)
	AND NOT EXISTS (SELECT 1 FROM consent_states s WHERE s.subject = 'chat:' || c.channel || ':' || c.chat_id
		AND s.purpose = 'optout' AND s.status IN ($4, $5))
	ORDER BY c.id LIMIT $3`

// expireConversations removes the channel address of conversations that
// have nothing left (expiredConversationsSQL), one batch in one
// transaction. The row stays, as an empty record, like an erased one: its
// id is what survey responses, consent events, handoffs and audit rows
// name, and a deleted id could be handed to a new conversation on SQLite.
// Its address becomes "expired:<id>", its sender, dialog state and flag
// are cleared, it is no longer linked to a registry patient
// (conversations.patient_id, consent_links), and what is keyed by its
// address goes: the consent rows of its channel identity (its opt-outs
// since lifted), the options last offered on WhatsApp, send parts and
// statuses, and its identity check. Someone writing from the same address
// later starts a new conversation.
//
// On PostgreSQL the rows are locked as they are picked, skipping any a
// message is being accepted or handled in; a message accepted after the
// address went starts a new conversation. A proactive message whose
// sender picked the conversation just before (an outreach run looking up
// a patient's conversations) can still be queued to the expired address,
// and then fails to send.
func expireConversations(ctx context.Context, db *store.DB, b batch) (batchResult, error) {
	var res batchResult
	err := db.InTx(ctx, func(tx *store.Tx) error {
		q := tx.Q
		res = batchResult{last: b.after}
		type conv struct {
			id            int64
			channel, chat string
		}
		convs, err := store.Collect[conv](q.Query(ctx, expiredConversationsSQL+skipLocked(q), b.after, b.cutoff, b.limit,
			consent.Stopped, consent.StoppedAll))(func(r store.Row) (conv, error) {
			var c conv
			return c, r.Scan(&c.id, &c.channel, &c.chat)
		})
		if err != nil {
			return fmt.Errorf("pick: %w", err)
		}
		res.seen = len(convs)
		if len(convs) == 0 {
			return nil
		}
		res.last = convs[len(convs)-1].id
		ids := make([]int64, len(convs))
		keys := make([]any, len(convs))
		for i, c := range convs {
			ids[i] = c.id
			keys[i] = "chat:" + c.channel + ":" + c.chat
		}
		in := placeholders(1, len(ids))
		for _, s := range []struct {
			what, sql string
			args      []any
		}{
			{"consent", `DELETE FROM consent_states WHERE subject IN (` + in + `)`, keys},
			{"consent history", `DELETE FROM consent_events WHERE subject IN (` + in + `)`, keys},
			{"consent links", `DELETE FROM consent_links WHERE conversation_id IN (` + in + `)`, int64Args(ids)},
			{"options", `DELETE FROM whatsapp_options WHERE conversation_id IN (` + in + `)`, int64Args(ids)},
			{"send parts", `DELETE FROM whatsapp_send_parts WHERE conversation_id IN (` + in + `)`, int64Args(ids)},
			{"statuses", `DELETE FROM whatsapp_statuses WHERE conversation_id IN (` + in + `)`, int64Args(ids)},
			{"identity checks", `DELETE FROM patient_verifications WHERE conversation_id IN (` + in + `)`, int64Args(ids)},
			{"address", `UPDATE conversations SET chat_id = 'expired:' || CAST(id AS text), sender_id = '', state = '{}',
				dialog = '', mode = 'bot', patient_id = NULL, flagged_at = NULL WHERE id IN (` + in + `)`, int64Args(ids)},
		} {
			n, err := q.Exec(ctx, s.sql, s.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", s.what, err)
			}
			if s.what == "address" {
				res.changed = n
			}
		}
		return nil
	})
	return res, err
}

// surveyFreeText removes the free-text answers (valueString) of survey
// responses whose visit was before the cutoff, one batch in one
// transaction; the score, the options chosen and the rest of the response
// stay. Responses still waiting to be sent or answered are left alone.
func surveyFreeText(ctx context.Context, db *store.DB, b batch) (batchResult, error) {
	var res batchResult
	err := db.InTx(ctx, func(tx *store.Tx) error {
		q := tx.Q
		res = batchResult{last: b.after}
		type resp struct {
			id      int64
			answers string
		}
		rows, err := store.Collect[resp](q.Query(ctx, `SELECT id, CAST(answers AS text) FROM survey_responses
			WHERE id > $1 AND visit_at < $2 AND status NOT IN ('scheduled', 'invited', 'in-progress')
			AND CAST(answers AS text) LIKE '%"valueString"%' ORDER BY id LIMIT $3`+skipLocked(q),
			b.after, b.cutoff, b.limit))(func(r store.Row) (resp, error) {
			var x resp
			return x, r.Scan(&x.id, &x.answers)
		})
		if err != nil {
			return fmt.Errorf("pick: %w", err)
		}
		res.seen = len(rows)
		for _, r := range rows {
			res.last = r.id
			kept, changed := withoutFreeText(r.answers)
			if !changed {
				continue
			}
			if _, err := q.Exec(ctx, `UPDATE survey_responses SET answers = $2, updated_at = $3 WHERE id = $1`,
				r.id, kept, b.now); err != nil {
				return fmt.Errorf("response %d: %w", r.id, err)
			}
			res.changed++
		}
		return nil
	})
	return res, err
}

// withoutFreeText drops every valueString answer from a response's items
// (QuestionnaireResponse items as JSON), and the items left with no
// answer; other answers and fields are kept as they are. Answers that are
// not such JSON cannot be told apart, so they all go ("[]"): the score is
// in a column of its own.
func withoutFreeText(answers string) (string, bool) {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(answers), &items); err != nil {
		return "[]", true
	}
	changed := false
	out := make([]map[string]json.RawMessage, 0, len(items))
	for _, it := range items {
		var list []map[string]json.RawMessage
		if raw, ok := it["answer"]; ok {
			if err := json.Unmarshal(raw, &list); err != nil {
				return "[]", true
			}
		}
		kept := make([]map[string]json.RawMessage, 0, len(list))
		for _, a := range list {
			if _, ok := a["valueString"]; ok {
				changed = true
				continue
			}
			kept = append(kept, a)
		}
		if len(kept) == 0 && len(list) > 0 {
			continue
		}
		if len(kept) != len(list) {
			raw, err := json.Marshal(kept)
			if err != nil {
				return "[]", true
			}
			it["answer"] = raw
		}
		out = append(out, it)
	}
	if !changed {
		return answers, false
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "[]", true
	}
	return string(b), true
}
