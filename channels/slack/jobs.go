package slack

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	slackgo "github.com/slack-go/slack"
)

// EphemeralArgs is the durable job that answers one staff member privately
// ("Already taken by Anna"): through the interaction's response_url when
// there is one, else chat.postEphemeral in the thread.
type EphemeralArgs struct {
	ResponseURL string `json:"response_url,omitempty"`
	Channel     string `json:"channel"`
	User        string `json:"user"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	Text        string `json:"text"`
}

// Kind implements river.JobArgs.
func (EphemeralArgs) Kind() string { return "slack_ephemeral" }

type ephemeralWorker struct {
	river.WorkerDefaults[EphemeralArgs]
	m *Module
}

// NextRetry retries soon: a private answer is only useful while the staff
// member is still looking (and a response_url lasts 30 minutes).
func (w *ephemeralWorker) NextRetry(job *river.Job[EphemeralArgs]) time.Time {
	return time.Now().Add(postBackoff(job.Attempt))
}

func (w *ephemeralWorker) Work(ctx context.Context, job *river.Job[EphemeralArgs]) error {
	a := job.Args
	text := slackgo.MsgOptionText(a.Text, false)
	var err error
	if a.ResponseURL != "" {
		_, _, err = w.m.api.PostMessageContext(ctx, a.Channel, text,
			slackgo.MsgOptionResponseURL(a.ResponseURL, slackgo.ResponseTypeEphemeral))
	} else {
		opts := []slackgo.MsgOption{text}
		if a.ThreadTS != "" {
			opts = append(opts, slackgo.MsgOptionTS(a.ThreadTS))
		}
		_, err = w.m.api.PostEphemeralContext(ctx, a.Channel, a.User, opts...)
	}
	if err == nil {
		return nil
	}
	switch f, wait := classify(err); f {
	case failSnooze:
		return river.JobSnooze(wait)
	case failPermanent:
		w.m.a.Log.WarnContext(ctx, "slack refused an ephemeral answer", "user", a.User, "error", err)
		return nil
	}
	return fmt.Errorf("slack ephemeral: %w", err)
}

// retention is how long handled inbox items and sent posts are kept (for
// dropping Slack's retries and for inspection) before cleanup deletes them.
const retention = 7 * 24 * time.Hour

// CleanupArgs is the periodic job that deletes old inbox and outbox rows.
type CleanupArgs struct{}

// Kind implements river.JobArgs.
func (CleanupArgs) Kind() string { return "slack_cleanup" }

type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	m *Module
}

func (w *cleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	cutoff := w.m.now().Add(-retention)
	q := w.m.a.DB.Q()
	if _, err := q.Exec(ctx, `DELETE FROM slack_inbox WHERE status <> 'pending' AND received_at < $1`, cutoff); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `DELETE FROM slack_outbox WHERE status IN ('sent', 'failed') AND created_at < $1`, cutoff)
	return err
}

func cleanupJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil }, nil)
}
