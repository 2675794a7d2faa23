package privacy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// Erased says what an erase removed, in counts (these are also the audit
// row's detail: numbers, never what was removed).
type Erased struct {
	PatientID int64     `json:"patient_id"`
	ErasedAt  time.Time `json:"erased_at"`
	// Conversations were emptied: messages, state, identity checks, Slack
	// copies, held replies, unanswered questions; their addresses replaced.
	Conversations int   `json:"conversations"`
	Messages      int64 `json:"messages"`
	// SharedConversations were left alone: verified as another patient.
	SharedConversations int   `json:"shared_conversations,omitempty"`
	Appointments        int64 `json:"appointments"`
	SurveyResponses     int64 `json:"survey_responses"`
	ConsentRows         int64 `json:"consent_rows"`
	VerificationRows    int64 `json:"verification_rows"`
	SlackCopies         int64 `json:"slack_copies"`
	Other               int64 `json:"other_rows"`
}

func (e Erased) detail() map[string]any {
	return map[string]any{"outcome": outcomeOK, "conversations": e.Conversations, "messages": e.Messages, "shared_conversations": e.SharedConversations,
		"appointments": e.Appointments, "survey_responses": e.SurveyResponses, "consent_rows": e.ConsentRows,
		"verification_rows": e.VerificationRows, "slack_copies": e.SlackCopies, "other_rows": e.Other}
}

// Erase removes or anonymizes the patient's personal data everywhere Tend
// holds it, in one transaction, and records the fact in the audit trail
// (actor from ctx) in that same transaction:
//
//   - the registry row is kept as an empty record (names, birth date,
//     phone, e-mail, their lookup hashes, sex, language, channel, time zone
//     and last provider blanked, consent flags off, the record number
//     replaced by "erased:<id>", erased_at set), so appointments and survey
//     scores that point to it still count;
//   - each of the patient's conversations (see linked) loses its messages,
//     what its dialogs remembered, its identity checks, its replies held for
//     WhatsApp, its unanswered questions, the copies kept for Slack (the
//     handoff card and transcript, queued posts, staff input) and its
//     rejected updates; its address (the WhatsApp number, the chat id) is
//     replaced by "erased:<id>", its open handoffs are resolved, its web
//     sessions end and jobs waiting to handle its messages are dropped;
//   - appointments keep time, provider, visit type and status (the
//     schedule stays right) but no longer point to a conversation, so no
//     reminder goes out; survey responses lose their answers and comments
//     (the score stays, anonymous); due items and campaign requests are
//     deleted;
//   - consent rows and events, consent links and verification counts and
//     history of the patient, of the phone and e-mail (the keyed hashes
//     contacts gives) and of the conversations are deleted.
//
// Audit rows are kept: they never held personal data, and the erase adds
// one ("patient.erase", with outcome "ok" and the counts). An erase that
// fails changes nothing, its row included (it rolls back with the rest), so
// the failure is then recorded on its own: "patient.erase" with outcome
// "failed", the actor and the patient's id, never the error's text (which
// may quote a value). If that cannot be written either, the error says so.
func Erase(ctx context.Context, db *store.DB, p patients.Patient, contacts Subjects, now time.Time) (Erased, error) {
	var res Erased
	err := db.InTx(ctx, func(tx *store.Tx) error {
		res = Erased{PatientID: p.ID, ErasedAt: now}
		q := tx.Q
		var id int64
		if err := q.QueryRow(ctx, `SELECT id FROM patients WHERE id = $1`+q.ForUpdate(), p.ID).Scan(&id); err != nil {
			return fmt.Errorf("privacy: erase: %w", err)
		}
		subjects := []string{patients.LimitPatient(p.ID)}
		if contacts != nil {
			subjects = append(subjects, contacts(p)...)
		}
		convs, shared, err := linked(ctx, q, p, subjects)
		if err != nil {
			return err
		}
		res.SharedConversations = shared
		for _, c := range convs { // by id: one lock order everywhere
			if _, err := q.LockConversation(ctx, c.ID); err != nil {
				return fmt.Errorf("privacy: erase: lock conversation %d: %w", c.ID, err)
			}
		}
		for _, c := range convs {
			if err := eraseConversation(ctx, tx, c.Conversation, now, &res); err != nil {
				return err
			}
			res.Conversations++
		}
		if err := erasePatient(ctx, tx, p, contacts, now, &res); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.For(ctx, now, "patient.erase", audit.Patient(p.ID), res.detail()))
	})
	if err != nil {
		if aerr := recordErase(ctx, db, audit.Patient(p.ID), outcomeFailed, now); aerr != nil {
			err = errors.Join(err, aerr)
		}
	}
	return res, err
}

// Outcomes of an erase in its audit row.
const (
	outcomeOK       = "ok"
	outcomeFailed   = "failed"    // it ran and rolled back: nothing was erased
	outcomeNotFound = "not_found" // no such patient (the API; the command line says so and records nothing)
)

// recordErase records an erase that did not happen (outcome failed or
// not_found) in a transaction of its own, for ctx's actor, even when ctx
// was cancelled (a client that went away, an interrupted command): the
// attempt is what the trail must show.
func recordErase(ctx context.Context, db *store.DB, subject, outcome string, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := audit.Record(ctx, db, audit.For(ctx, now, "patient.erase", subject, map[string]any{"outcome": outcome})); err != nil {
		return fmt.Errorf("privacy: erase: the attempt could not be recorded in the audit trail: %w", err)
	}
	return nil
}

// exec runs statements and adds up the rows they touched.
func exec(ctx context.Context, q store.Q, n *int64, stmts ...stmt) error {
	for _, s := range stmts {
		c, err := q.Exec(ctx, s.sql, s.args...)
		if err != nil {
			return fmt.Errorf("privacy: erase: %s: %w", s.what, err)
		}
		*n += c
	}
	return nil
}

type stmt struct {
	what string
	sql  string
	args []any
}

func eraseConversation(ctx context.Context, tx *store.Tx, c store.Conversation, now time.Time, res *Erased) error {
	q := tx.Q
	id := c.ID
	if err := exec(ctx, q, &res.Messages,
		stmt{"replies", `DELETE FROM outbound_messages WHERE conversation_id = $1`, []any{id}},
		stmt{"messages", `DELETE FROM inbound_messages WHERE conversation_id = $1`, []any{id}},
	); err != nil {
		return err
	}
	// Slack: the card and transcript kept to re-render the thread's root,
	// posts waiting or kept after sending, staff input about the thread.
	handoffs, err := store.Collect[[3]string](q.Query(ctx, `SELECT CAST(h.id AS text), COALESCE(s.channel, ''), COALESCE(s.ts, '')
		FROM handoffs h LEFT JOIN slack_threads s ON s.handoff_id = h.id WHERE h.conversation_id = $1`, id))(
		func(r store.Row) ([3]string, error) {
			var x [3]string
			return x, r.Scan(&x[0], &x[1], &x[2])
		})
	if err != nil {
		return fmt.Errorf("privacy: erase: handoffs: %w", err)
	}
	for _, h := range handoffs {
		hid, _ := strconv.ParseInt(h[0], 10, 64)
		if err := exec(ctx, q, &res.SlackCopies,
			stmt{"slack posts", `DELETE FROM slack_outbox WHERE handoff_id = $1`, []any{hid}},
			stmt{"slack input", `DELETE FROM slack_inbox WHERE thread = $1 OR thread = $2`,
				[]any{"handoff:" + h[0], h[1] + ":" + h[2]}},
			stmt{"slack card", `UPDATE slack_threads SET root = '{}' WHERE handoff_id = $1`, []any{hid}},
		); err != nil {
			return err
		}
	}
	if c.Channel == "web" {
		if err := exec(ctx, q, &res.Other,
			stmt{"web sessions", `DELETE FROM web_sessions WHERE chat_id = $1`, []any{c.ChatID}}); err != nil {
			return err
		}
	}
	if err := exec(ctx, q, &res.Other,
		stmt{"handoffs", `UPDATE handoffs SET status = 'resolved', closed_at = $2, updated_at = $2
			WHERE conversation_id = $1 AND status IN ('open', 'taken', 'alert')`, []any{id, now}},
		stmt{"held replies", `DELETE FROM whatsapp_held WHERE conversation_id = $1`, []any{id}},
		stmt{"options", `DELETE FROM whatsapp_options WHERE conversation_id = $1`, []any{id}},
		stmt{"send parts", `DELETE FROM whatsapp_send_parts WHERE conversation_id = $1`, []any{id}},
		stmt{"statuses", `DELETE FROM whatsapp_statuses WHERE conversation_id = $1`, []any{id}},
		stmt{"unanswered questions", `DELETE FROM kb_unanswered WHERE conversation_id = $1`, []any{id}},
		stmt{"rejected updates", `DELETE FROM inbound_rejections WHERE channel = $1 AND chat_id = $2`, []any{c.Channel, c.ChatID}},
		stmt{"jobs", riverJobsSQL(q.Dialect()), []any{c.Channel, c.ChatID}},
	); err != nil {
		return err
	}
	if err := exec(ctx, q, &res.VerificationRows,
		stmt{"identity checks", `DELETE FROM patient_verifications WHERE conversation_id = $1`, []any{id}},
		stmt{"verification counts", `DELETE FROM verification_limits WHERE subject = $1`, []any{patients.LimitConversation(id)}},
		stmt{"verification history", `DELETE FROM verification_events WHERE subject = $1`, []any{patients.LimitConversation(id)}},
	); err != nil {
		return err
	}
	key := "chat:" + c.Channel + ":" + c.ChatID
	if err := exec(ctx, q, &res.ConsentRows,
		stmt{"consent", `DELETE FROM consent_states WHERE subject = $1`, []any{key}},
		stmt{"consent history", `DELETE FROM consent_events WHERE subject = $1`, []any{key}},
		stmt{"consent links", `DELETE FROM consent_links WHERE conversation_id = $1`, []any{id}},
	); err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE conversations SET chat_id = $2, sender_id = '', state = '{}', dialog = '', mode = $3,
		patient_id = NULL, flagged_at = NULL, updated_at = $4 WHERE id = $1`, id, "erased:"+strconv.FormatInt(id, 10),
		store.ModeBot, now)
	if err != nil {
		return fmt.Errorf("privacy: erase: conversation %d: %w", id, err)
	}
	return nil
}

// riverJobsSQL drops the jobs, not running, that would handle messages of
// the chat (they name it by channel and chat id, which may be a phone
// number); a running one finds nothing left to do.
func riverJobsSQL(d store.Dialect) string {
	if d == store.Postgres {
		return `DELETE FROM river_job WHERE kind = 'process_inbound' AND state <> 'running'
			AND args->>'channel' = $1 AND args->>'chat_id' = $2`
	}
	return `DELETE FROM river_job WHERE kind = 'process_inbound' AND state <> 'running'
		AND json_extract(args, '$.channel') = $1 AND json_extract(args, '$.chat_id') = $2`
}

func erasePatient(ctx context.Context, tx *store.Tx, p patients.Patient, contacts Subjects, now time.Time, res *Erased) error {
	q := tx.Q
	subjects := []string{patients.LimitPatient(p.ID)}
	if contacts != nil {
		subjects = append(subjects, contacts(p)...)
	}
	for _, s := range subjects {
		if s == "" {
			continue
		}
		if err := exec(ctx, q, &res.VerificationRows,
			stmt{"verification counts", `DELETE FROM verification_limits WHERE subject = $1`, []any{s}},
			stmt{"verification history", `DELETE FROM verification_events WHERE subject = $1`, []any{s}},
		); err != nil {
			return err
		}
	}
	keys := []string{"patient:" + strconv.FormatInt(p.ID, 10)}
	if p.Phone != "" {
		keys = append(keys, "chat:whatsapp:"+p.Phone)
	}
	for _, k := range keys {
		if err := exec(ctx, q, &res.ConsentRows,
			stmt{"consent", `DELETE FROM consent_states WHERE subject = $1`, []any{k}},
			stmt{"consent history", `DELETE FROM consent_events WHERE subject = $1`, []any{k}},
		); err != nil {
			return err
		}
	}
	if err := exec(ctx, q, &res.ConsentRows,
		stmt{"consent links", `DELETE FROM consent_links WHERE patient_id = $1`, []any{p.ID}}); err != nil {
		return err
	}
	if err := exec(ctx, q, &res.Appointments,
		stmt{"appointments", `UPDATE appointments SET conversation_id = NULL WHERE patient_id = $1`, []any{p.ID}}); err != nil {
		return err
	}
	if err := exec(ctx, q, &res.SurveyResponses,
		stmt{"survey answers", `UPDATE survey_responses SET answers = '[]', alert = '', lang = '', conversation_id = NULL
			WHERE patient_id = $1`, []any{p.ID}}); err != nil {
		return err
	}
	if err := exec(ctx, q, &res.Other,
		stmt{"due items", `DELETE FROM patient_due_items WHERE patient_id = $1`, []any{p.ID}},
		stmt{"campaign requests", `DELETE FROM campaign_requests WHERE patient_id = $1`, []any{p.ID}},
		stmt{"campaign deliveries", `UPDATE campaign_deliveries SET conversation_id = NULL, outbound_id = NULL, response = ''
			WHERE patient_id = $1`, []any{p.ID}},
	); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `UPDATE patients SET external_id = $2, first_name = '', last_name = '', birth_date = '', phone = '',
		email = '', phone_hash = '', email_hash = '', sex = '', lang = '', channel = '', time_zone = '',
		consent_reminders = false, consent_messages = false, last_provider_id = '', updated_at = $3, erased_at = $3
		WHERE id = $1`, p.ID, "erased:"+strconv.FormatInt(p.ID, 10), now)
	if err != nil {
		return fmt.Errorf("privacy: erase: registry: %w", err)
	}
	return nil
}
