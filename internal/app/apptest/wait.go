package apptest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/tend-health/tend/internal/store"
)

// WaitFor is how long the helpers wait for asynchronous work (webhook
// acceptance, delivery jobs) before failing the test.
const WaitFor = 60 * time.Second

// Settle waits until the conversation (channel, chatID) has handled at
// least handled inbound messages and none of its outgoing messages is
// queued or being sent: every reply it decided has reached the channel's
// API (or failed for good). It returns the conversation.
func Settle(t testing.TB, db *store.DB, channel, chatID string, handled int) store.Conversation {
	t.Helper()
	ctx := context.Background()
	var conv store.Conversation
	var done, busy int
	deadline := time.Now().Add(WaitFor)
	for {
		var err error
		conv, err = db.Q().FindConversation(ctx, channel, chatID)
		if err == nil {
			err = db.Q().QueryRow(ctx, `SELECT count(*) FROM inbound_messages WHERE conversation_id = $1 AND status <> $2`,
				conv.ID, store.InboundPending).Scan(&done)
		}
		if err == nil {
			err = db.Q().QueryRow(ctx, `SELECT count(*) FROM outbound_messages WHERE conversation_id = $1 AND status IN ($2, $3)`,
				conv.ID, store.OutboundQueued, store.OutboundSending).Scan(&busy)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("settle %s/%s: %v", channel, chatID, err)
		}
		if err == nil && done >= handled && busy == 0 {
			return conv
		}
		if time.Now().After(deadline) {
			t.Fatalf("settle %s/%s: %d of %d inbound handled, %d outbound still queued (err %v)", channel, chatID, done, handled, busy, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Jobs reaches River's public API on the test's store, to inspect jobs and
// bring scheduled ones forward.
type Jobs struct {
	list  func(context.Context, *river.JobListParams) (*river.JobListResult, error)
	get   func(context.Context, int64) (*rivertype.JobRow, error)
	retry func(context.Context, int64) (*rivertype.JobRow, error)
}

// NewJobs opens an insert-only River client on db.
func NewJobs(t testing.TB, db *store.DB) *Jobs {
	t.Helper()
	cfg := &river.Config{Schema: db.Schema()}
	if db.Dialect() == store.Postgres {
		c, err := river.NewClient[pgx.Tx](riverpgxv5.New(db.Pool()), cfg)
		if err != nil {
			t.Fatalf("river: %v", err)
		}
		return &Jobs{list: c.JobList, get: c.JobGet, retry: c.JobRetry}
	}
	c, err := river.NewClient[*sql.Tx](riversqlite.New(db.SQLDB()), cfg)
	if err != nil {
		t.Fatalf("river: %v", err)
	}
	return &Jobs{list: c.JobList, get: c.JobGet, retry: c.JobRetry}
}

// Scheduled lists the jobs of kind waiting for their time, earliest first.
func (j *Jobs) Scheduled(t testing.TB, kind string) []*rivertype.JobRow {
	t.Helper()
	res, err := j.list(context.Background(), river.NewJobListParams().Kinds(kind).
		States(rivertype.JobStateScheduled).OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(100))
	if err != nil {
		t.Fatalf("river: list %s: %v", kind, err)
	}
	return res.Jobs
}

// FireNext runs the earliest scheduled job of kind as if its time had
// come: setClock moves the test's fake clock to the job's scheduled time
// (what the job's code sees), River is told to run it now (River's own
// schedule follows the database's clock, not the app's), and FireNext
// waits until the job has completed. It returns the job.
func (j *Jobs) FireNext(t testing.TB, kind string, setClock func(time.Time)) *rivertype.JobRow {
	t.Helper()
	jobs := j.Scheduled(t, kind)
	if len(jobs) == 0 {
		t.Fatalf("no scheduled %s job", kind)
	}
	job := jobs[0]
	setClock(job.ScheduledAt)
	ctx := context.Background()
	if _, err := j.retry(ctx, job.ID); err != nil {
		t.Fatalf("river: run %s job %d now: %v", kind, job.ID, err)
	}
	deadline := time.Now().Add(WaitFor)
	for {
		row, err := j.get(ctx, job.ID)
		if err != nil {
			t.Fatalf("river: get job %d: %v", job.ID, err)
		}
		switch row.State {
		case rivertype.JobStateCompleted:
			return row
		case rivertype.JobStateDiscarded, rivertype.JobStateCancelled, rivertype.JobStateRetryable:
			t.Fatalf("%s job %d: %s: %v", kind, job.ID, row.State, row.Errors)
		case rivertype.JobStateScheduled:
			if row.AttemptedAt != nil {
				t.Fatalf("%s job %d snoozed until %s", kind, job.ID, row.ScheduledAt)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s job %d not completed: %s", kind, job.ID, row.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
