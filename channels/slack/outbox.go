package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	slackgo "github.com/slack-go/slack"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
)

// postMaxAttempts with postBackoff covers a Slack outage of about a day.
const postMaxAttempts = 300

// PostArgs is the durable job that sends a handoff's queued Slack posts, in
// order, up to and including Seq.
type PostArgs struct {
	HandoffID int64 `json:"handoff_id"`
	Seq       int64 `json:"seq"`
}

// Kind implements river.JobArgs.
func (PostArgs) Kind() string { return "slack_post" }

type postWorker struct {
	river.WorkerDefaults[PostArgs]
	m *Module
}

func (w *postWorker) Timeout(*river.Job[PostArgs]) time.Duration { return 2 * time.Minute }

// NextRetry backs off 1 s, 2 s, 4 s ... up to 5 minutes: staff should see a
// thread catch up soon after Slack comes back, not hours later as River's
// default backoff would have it.
func (w *postWorker) NextRetry(job *river.Job[PostArgs]) time.Time {
	return time.Now().Add(postBackoff(job.Attempt))
}

func postBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 9 {
		return 5 * time.Minute
	}
	return min(time.Second<<(attempt-1), 5*time.Minute)
}

func (w *postWorker) Work(ctx context.Context, job *river.Job[PostArgs]) error {
	return w.m.flush(ctx, job.Args.HandoffID, job.Args.Seq)
}

type outboxRow struct {
	ID   int64
	Seq  int64
	Op   string
	Body []byte
}

type thread struct {
	Channel string
	TS      string
	Root    root
}

// flush sends a handoff's undelivered posts up to seq, in order. Jobs for
// one handoff may run at once on several replicas: the lock makes them take
// turns and the row status makes the later ones find their work done. A
// failed post blocks the ones after it, so the thread keeps its order.
func (m *Module) flush(ctx context.Context, handoffID, upTo int64) error {
	unlock, err := m.a.DB.LockKey(ctx, "slack-post:"+strconv.FormatInt(handoffID, 10))
	if err != nil {
		return err
	}
	defer unlock()
	q := m.a.DB.Q()
	rows, err := pendingPosts(ctx, q, handoffID, upTo)
	if err != nil || len(rows) == 0 {
		return err
	}
	th, err := loadThread(ctx, q, handoffID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // handoff purged
	}
	if err != nil {
		return err
	}
	for i, r := range rows {
		if r.Op == opUpdate && laterUpdate(rows[i+1:]) {
			// The later update renders the same, newer state.
			if err := markPost(ctx, q, r.ID, "sent", "", m.now()); err != nil {
				return err
			}
			continue
		}
		if _, err := q.Exec(ctx, `UPDATE slack_outbox SET status = 'sending', attempts = attempts + 1 WHERE id = $1`, r.ID); err != nil {
			return err
		}
		sendErr := m.send(ctx, q, handoffID, &th, r)
		if sendErr == nil {
			if err := markPost(ctx, q, r.ID, "sent", "", m.now()); err != nil {
				return err
			}
			continue
		}
		switch f, wait := classify(sendErr); f {
		case failPermanent:
			m.a.Log.ErrorContext(ctx, "slack refused a post; skipping it", "handoff_id", handoffID, "op", r.Op, "error", sendErr)
			if err := markPost(ctx, q, r.ID, "failed", sendErr.Error(), m.now()); err != nil {
				return err
			}
		case failSnooze:
			if err := markPost(ctx, q, r.ID, "queued", sendErr.Error(), time.Time{}); err != nil {
				return err
			}
			m.a.Log.InfoContext(ctx, "slack rate limited; waiting", "handoff_id", handoffID, "retry_after_s", wait.Seconds())
			return river.JobSnooze(wait)
		default:
			if err := markPost(ctx, q, r.ID, "queued", sendErr.Error(), time.Time{}); err != nil {
				return err
			}
			return fmt.Errorf("slack %s for handoff %d: %w", r.Op, handoffID, sendErr)
		}
	}
	return nil
}

func (m *Module) now() time.Time { return m.a.Clock.Now() }

func laterUpdate(rows []outboxRow) bool {
	for _, r := range rows {
		if r.Op == opUpdate {
			return true
		}
	}
	return false
}

// errNoRoot means the handoff message has not been posted yet, so its
// thread cannot be written to; the job retries.
var errNoRoot = errors.New("slack: the handoff message is not posted yet")

// send performs one post.
func (m *Module) send(ctx context.Context, q store.Q, handoffID int64, th *thread, r outboxRow) error {
	h, err := handoff.Get(ctx, q, handoffID)
	if err != nil {
		return err
	}
	switch r.Op {
	case opRoot:
		if th.TS != "" {
			return nil // posted by an attempt cut off before it recorded the outcome
		}
		m.summarize(ctx, q, handoffID, th)
		text, blocks := m.renderRoot(h, th.Root)
		_, ts, err := m.api.PostMessageContext(ctx, th.Channel, slackgo.MsgOptionText(text, false),
			slackgo.MsgOptionBlocks(blocks...))
		if err != nil {
			return err
		}
		th.TS = ts
		_, err = q.Exec(ctx, `UPDATE slack_threads SET ts = $2, posted_at = $3 WHERE handoff_id = $1`, handoffID, ts, m.now())
		return err
	case opThread:
		if th.TS == "" {
			return m.noRoot(ctx, q, handoffID)
		}
		var n note
		if err := json.Unmarshal(r.Body, &n); err != nil {
			return slackgo.SlackErrorResponse{Err: "invalid_arguments"} // unreadable: skip it, never block the thread
		}
		_, _, err := m.api.PostMessageContext(ctx, th.Channel, slackgo.MsgOptionText(m.renderNote(n), false),
			slackgo.MsgOptionTS(th.TS))
		return err
	case opUpdate:
		if th.TS == "" {
			return m.noRoot(ctx, q, handoffID)
		}
		text, blocks := m.renderRoot(h, th.Root)
		_, _, _, err := m.api.UpdateMessageContext(ctx, th.Channel, th.TS, slackgo.MsgOptionText(text, false),
			slackgo.MsgOptionBlocks(blocks...))
		return err
	}
	return slackgo.SlackErrorResponse{Err: "invalid_arguments"}
}

// noRoot explains a missing handoff message: still to come (retry), or
// refused by Slack for good, which no retry of its thread can mend.
func (m *Module) noRoot(ctx context.Context, q store.Q, handoffID int64) error {
	var status string
	err := q.QueryRow(ctx, `SELECT status FROM slack_outbox WHERE handoff_id = $1 AND op = $2 ORDER BY seq LIMIT 1`,
		handoffID, opRoot).Scan(&status)
	if err == nil && status == "failed" {
		return slackgo.SlackErrorResponse{Err: "thread_not_found"}
	}
	return errNoRoot
}

// summarize asks the Summarizer, once per handoff, for the two lines that
// head the handoff message; failure leaves the transcript alone.
func (m *Module) summarize(ctx context.Context, q store.Q, handoffID int64, th *thread) {
	s := th.Root.Snapshot
	if m.opts.Summarizer == nil || s == nil || th.Root.SummaryDone || len(s.Lines) == 0 || th.Root.Alert {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	summary, err := m.opts.Summarizer.Summarize(sctx, s.Lines)
	cancel()
	if err != nil {
		m.a.Log.WarnContext(ctx, "handoff summary failed; posting the transcript alone", "handoff_id", handoffID, "error", err)
	} else {
		s.Summary = clipRunes(summary, 600)
	}
	th.Root.SummaryDone = true
	body, err := json.Marshal(th.Root)
	if err == nil {
		_, err = q.Exec(ctx, `UPDATE slack_threads SET root = $2 WHERE handoff_id = $1`, handoffID,
			q.SealJSON(purposeRoot, string(body)))
	}
	if err != nil {
		m.a.Log.WarnContext(ctx, "could not store the handoff summary", "handoff_id", handoffID, "error", err)
	}
}

func pendingPosts(ctx context.Context, q store.Q, handoffID, upTo int64) ([]outboxRow, error) {
	rs, err := q.Query(ctx, `SELECT id, seq, op, body FROM slack_outbox
		WHERE handoff_id = $1 AND seq <= $2 AND status IN ('queued', 'sending') ORDER BY seq`, handoffID, upTo)
	if err != nil {
		return nil, fmt.Errorf("slack: pending posts: %w", err)
	}
	defer rs.Close()
	var out []outboxRow
	for rs.Next() {
		var r outboxRow
		var body string
		if err := rs.Scan(&r.ID, &r.Seq, &r.Op, &body); err != nil {
			return nil, err
		}
		// A post that cannot be opened (its key is not configured) waits:
		// the job retries, and goes on once the key is back.
		if body, err = q.OpenJSON(purposePost, body); err != nil {
			return nil, err
		}
		r.Body = []byte(body)
		out = append(out, r)
	}
	return out, rs.Err()
}

func loadThread(ctx context.Context, q store.Q, handoffID int64) (thread, error) {
	var th thread
	var body string
	err := q.QueryRow(ctx, `SELECT channel, ts, root FROM slack_threads WHERE handoff_id = $1`, handoffID).
		Scan(&th.Channel, &th.TS, &body)
	if err != nil {
		return th, err
	}
	if body, err = q.OpenJSON(purposeRoot, body); err != nil {
		return th, err
	}
	if err := json.Unmarshal([]byte(body), &th.Root); err != nil {
		th.Root = root{}
	}
	return th, nil
}

// markPost records a post's outcome; a sent post's body (which may hold a
// patient's words) is blanked, since Slack now has it.
func markPost(ctx context.Context, q store.Q, id int64, status, errText string, now time.Time) error {
	var err error
	if status == "sent" {
		_, err = q.Exec(ctx, `UPDATE slack_outbox SET status = 'sent', body = '{}', error = '', sent_at = $2 WHERE id = $1`, id, now)
	} else {
		_, err = q.Exec(ctx, `UPDATE slack_outbox SET status = $2, error = $3 WHERE id = $1`, id, status, clipRunes(errText, 500))
	}
	if err != nil {
		return fmt.Errorf("slack: mark post: %w", err)
	}
	return nil
}
