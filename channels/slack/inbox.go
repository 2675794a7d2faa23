package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
)

// InboxArgs is the durable job that handles a thread's stored staff input
// (button presses and replies) in arrival order.
type InboxArgs struct {
	Thread string `json:"thread"`
}

// Kind implements river.JobArgs.
func (InboxArgs) Kind() string { return "slack_inbox" }

type inboxWorker struct {
	river.WorkerDefaults[InboxArgs]
	m *Module
}

func (w *inboxWorker) Timeout(*river.Job[InboxArgs]) time.Duration { return 2 * time.Minute }

// Work handles every pending item of the thread, oldest first, under the
// thread's lock, so that jobs on several replicas take turns and a reply is
// never handled before the Take over pressed before it.
func (w *inboxWorker) Work(ctx context.Context, job *river.Job[InboxArgs]) error {
	m := w.m
	unlock, err := m.a.DB.LockKey(ctx, "slack-inbox:"+job.Args.Thread)
	if err != nil {
		return err
	}
	defer unlock()
	q := m.a.DB.Q()
	rs, err := q.Query(ctx, `SELECT id, body FROM slack_inbox WHERE thread = $1 AND status = 'pending'
		ORDER BY id LIMIT 200`, job.Args.Thread)
	if err != nil {
		return err
	}
	type row struct {
		id   int64
		body string
	}
	var rows []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.body); err != nil {
			rs.Close()
			return err
		}
		// Staff input that cannot be opened (its key is not configured)
		// waits for the job's retry rather than being dropped.
		if r.body, err = q.OpenJSON(purposeInbox, r.body); err != nil {
			rs.Close()
			return err
		}
		rows = append(rows, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	for _, r := range rows {
		if err := m.handleItem(ctx, r.id, []byte(r.body)); err != nil {
			return err
		}
	}
	return nil
}

// handleItem applies one staff input to the state machine and answers the
// staff member privately when it did not do what they meant; the outcome,
// the ephemeral answer and the item's done mark commit together.
func (m *Module) handleItem(ctx context.Context, id int64, body []byte) error {
	var it item
	if err := json.Unmarshal(body, &it); err != nil {
		m.a.Log.ErrorContext(ctx, "unreadable slack inbox item; dropping it", "inbox_id", id)
		return finishItem(ctx, m.a.DB.Q(), id, "failed", "unreadable", m.now())
	}
	actor := handoff.Actor{ID: it.User, Name: m.staffName(ctx, it.User, it.UserName)}
	return m.a.DB.InTx(ctx, func(tx *store.Tx) error {
		var answer string
		var err error
		switch it.Kind {
		case kindAction:
			answer, err = m.press(ctx, tx, it, actor)
		case kindMessage:
			answer, err = m.reply(ctx, tx, it, actor)
		}
		if err != nil {
			return err
		}
		if answer != "" {
			args := EphemeralArgs{Channel: it.Channel, User: it.User, ThreadTS: it.ThreadTS, Text: answer}
			if it.ResponseURL != "" && m.trustedResponseURL(it.ResponseURL) {
				args.ResponseURL = it.ResponseURL
			}
			if err := tx.Enqueue(ctx, args, &river.InsertOpts{MaxAttempts: 5}); err != nil {
				return err
			}
		}
		return finishItem(ctx, tx.Q, id, "done", "", m.now())
	})
}

// press applies a button press.
func (m *Module) press(ctx context.Context, tx *store.Tx, it item, a handoff.Actor) (string, error) {
	var out handoff.Outcome
	var err error
	switch it.Action {
	case actionTake, actionContact:
		out, err = m.machine.Take(ctx, tx, it.HandoffID, a)
	case actionReturn:
		out, err = m.machine.Return(ctx, tx, it.HandoffID, a)
	case actionResolve:
		out, err = m.machine.Resolve(ctx, tx, it.HandoffID, a)
	default:
		return "", nil
	}
	if err != nil {
		return "", err
	}
	m.a.Log.InfoContext(ctx, "slack handoff action", "handoff_id", it.HandoffID, "action", it.Action,
		"user", it.User, "result", string(out.Result))
	return m.answer(out), nil
}

// reply relays a thread reply from the owner to the patient.
func (m *Module) reply(ctx context.Context, tx *store.Tx, it item, a handoff.Actor) (string, error) {
	var hid int64
	err := tx.QueryRow(ctx, `SELECT handoff_id FROM slack_threads WHERE channel = $1 AND ts = $2`, it.Channel, it.ThreadTS).Scan(&hid)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil // a thread that is not a handoff's
	}
	if err != nil {
		return "", fmt.Errorf("slack: find thread: %w", err)
	}
	text := plainText(it.Text)
	if text == "" {
		if it.Files {
			return m.t("slack.ephemeral.files", nil), nil
		}
		return "", nil
	}
	out, err := m.machine.Reply(ctx, tx, hid, a, text, it.TS)
	if err != nil {
		return "", err
	}
	m.a.Log.InfoContext(ctx, "slack thread reply", "handoff_id", hid, "user", it.User, "result", string(out.Result))
	answer := m.answer(out)
	if out.Result == handoff.Done && it.Files {
		answer = m.t("slack.ephemeral.files", nil)
	}
	return answer, nil
}

// answer is the private note telling a staff member why nothing happened.
func (m *Module) answer(out handoff.Outcome) string {
	switch out.Result {
	case handoff.TakenByOther:
		return m.t("slack.ephemeral.taken_by_other", map[string]any{"Name": out.Handoff.OwnerName})
	case handoff.AlreadyYours:
		return m.t("slack.ephemeral.already_yours", nil)
	case handoff.AlreadyResolved:
		return m.t("slack.ephemeral.resolved", nil)
	case handoff.AlreadyReturned:
		return m.t("slack.ephemeral.returned", nil)
	case handoff.Gone:
		return m.t("slack.ephemeral.gone", nil)
	case handoff.Busy:
		return m.t("slack.ephemeral.busy", nil)
	case handoff.NotOwner:
		return m.t("slack.ephemeral.not_owner", map[string]any{"Name": out.Handoff.OwnerName})
	case handoff.NotTaken:
		if out.Handoff.Status == handoff.StatusAlert {
			return m.t("slack.ephemeral.not_contacted", nil)
		}
		return m.t("slack.ephemeral.not_taken", nil)
	}
	return ""
}

// finishItem records the outcome and blanks the body (a staff reply's text
// now lives in the patient's conversation, not twice).
func finishItem(ctx context.Context, q store.Q, id int64, status, errText string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE slack_inbox SET status = $2, error = $3, body = '{}', handled_at = $4 WHERE id = $1`,
		id, status, errText, now)
	if err != nil {
		return fmt.Errorf("slack: finish inbox item: %w", err)
	}
	return nil
}
