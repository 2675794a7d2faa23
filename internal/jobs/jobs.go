// Package jobs runs Tend's durable background work on River, over whichever
// database the store uses: pgx on PostgreSQL, database/sql on SQLite. Jobs are
// inserted inside the store transaction that decided them (store.Tx.Enqueue),
// so a job exists exactly when the state change that asked for it exists.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/store"
)

// Options tune the job client.
type Options struct {
	// Workers runs jobs; nil makes an insert-only client (the CLI commands).
	Workers  *river.Workers
	Periodic []*river.PeriodicJob
	// MaxWorkers is the number of jobs worked at once on this replica.
	MaxWorkers int
	Logger     *slog.Logger
	// ErrorHook is told about each failed job attempt (metrics).
	ErrorHook func(kind string)
}

// Client is River bound to the store's database.
type Client struct {
	db     *store.DB
	pg     *river.Client[pgx.Tx]
	sq     *river.Client[*sql.Tx]
	canRun bool
}

// New creates the job client and attaches it to db as its enqueuer.
func New(db *store.DB, o Options) (*Client, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := &river.Config{
		Logger:     logging.AtLeast(log.With("component", "jobs"), slog.LevelWarn),
		JobTimeout: 2 * time.Minute,
		// A job left "running" by a process that died is retried after this,
		// by the leader's rescuer (every 30 s). River requires it to exceed
		// JobTimeout, so it cannot be seconds without cutting every job's
		// time short; a delivery cut off mid-send is taken over sooner,
		// through its message's lease (bot.deliverLease), and its rescued
		// job then finds the work done.
		RescueStuckJobsAfter: 5 * time.Minute,
		MaxAttempts:          25,
		// Completed jobs are kept a day for inspection, then River prunes them.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		ErrorHandler:                errorHandler{log: log, hook: o.ErrorHook},
		FetchCooldown:               fetchCooldown(db.Dialect()),
		Schema:                      db.Schema(),
	}
	c := &Client{db: db}
	if o.Workers != nil {
		n := o.MaxWorkers
		if n <= 0 {
			n = 20
			if db.Dialect() == store.SQLite {
				n = 4
			}
		}
		if pool := db.Pool(); pool != nil {
			// Each running job may hold a query connection, and River needs
			// a few of its own; locks have their own pool (store.LockKey).
			if limit := max(1, int(pool.Config().MaxConns)-4); n > limit {
				n = limit
			}
		}
		cfg.Workers = o.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}}
		cfg.PeriodicJobs = o.Periodic
		c.canRun = true
	}
	var err error
	switch db.Dialect() {
	case store.Postgres:
		var session *pgxpool.Pool
		if session, err = db.SessionPool(); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		if session != nil {
			c.pg, err = river.NewClient[pgx.Tx](sessionListenDriver{riverpgxv5.New(db.Pool()), riverpgxv5.New(session)}, cfg)
		} else {
			c.pg, err = river.NewClient(riverpgxv5.New(db.Pool()), cfg)
		}
	default:
		// SQLite has no LISTEN/NOTIFY; poll often so replies go out promptly.
		cfg.PollOnly = true
		cfg.FetchPollInterval = sqlitePollInterval()
		c.sq, err = river.NewClient(riversqlite.New(db.SQLDB()), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	db.SetEnqueuer(c)
	return c, nil
}

// InsertTx implements store.Enqueuer.
func (c *Client) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	var err error
	if c.pg != nil {
		_, err = c.pg.InsertTx(ctx, tx.PgxTx(), args, opts)
	} else {
		_, err = c.sq.InsertTx(ctx, tx.SQLTx(), args, opts)
	}
	if err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// RunInTx does one job's work in a transaction of db. A positive duration
// from work asks River to run the job again that much later (quiet hours
// began, the send window is shut): the transaction commits first.
func RunInTx(ctx context.Context, db *store.DB, work func(tx *store.Tx) (time.Duration, error)) error {
	var snooze time.Duration
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		snooze, err = work(tx)
		return err
	})
	if err == nil && snooze > 0 {
		return river.JobSnooze(snooze)
	}
	return err
}

// Start begins working jobs; it is an error on an insert-only client.
func (c *Client) Start(ctx context.Context) error {
	if !c.canRun {
		return errors.New("jobs: client has no workers")
	}
	if c.pg != nil {
		return c.pg.Start(ctx)
	}
	return c.sq.Start(ctx)
}

// Stop waits for running jobs to finish (up to ctx's deadline, then cancels them).
func (c *Client) Stop(ctx context.Context) error {
	if !c.canRun {
		return nil
	}
	var err error
	if c.pg != nil {
		err = c.pg.Stop(ctx)
	} else {
		err = c.sq.Stop(ctx)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		if c.pg != nil {
			return c.pg.StopAndCancel(context.Background())
		}
		return c.sq.StopAndCancel(context.Background())
	}
	return err
}

// Depth counts jobs waiting to run: available and due, or retryable. A job
// River snoozed briefly (a rate limit, the recovery job between its runs)
// is "available" before it is due, and is not counted until it is.
func (c *Client) Depth(ctx context.Context) (int64, error) {
	now := "now()"
	if c.db.Dialect() == store.SQLite {
		now = "datetime('now', 'subsec')" // River's SQLite timestamps are text in this form
	}
	var n int64
	err := c.db.Q().QueryRow(ctx, `SELECT count(*) FROM river_job
		WHERE (state = 'available' AND scheduled_at <= `+now+`) OR state = 'retryable'`).Scan(&n)
	return n, err
}

// JobsByKind lists job states by kind, for tests and the admin page.
func (c *Client) JobsByKind(ctx context.Context, kind string) (map[string]int, error) {
	return store.CountBy(c.db.Q().Query(ctx, `SELECT state, count(*) FROM river_job WHERE kind = $1 GROUP BY state`, kind))
}

type errorHandler struct {
	log  *slog.Logger
	hook func(kind string)
}

func (h errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.log.WarnContext(ctx, "job attempt failed", "kind", job.Kind, "job_id", job.ID, "attempt", job.Attempt, "error", err)
	if h.hook != nil {
		h.hook(job.Kind)
	}
	return nil
}

func (h errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "job panicked", "kind", job.Kind, "job_id", job.ID, "panic", fmt.Sprint(panicVal))
	if h.hook != nil {
		h.hook(job.Kind)
	}
	return nil
}

// fetchCooldown is the least time between two fetches of new jobs by this
// replica, and between two insert notifications per queue (River's
// FetchCooldown). A webhook's reply waits for two fetches (its handling
// job, then its delivery job). On PostgreSQL each insert's NOTIFY wakes the
// fetch at once unless one ran within the cooldown, so a short one keeps
// that wait short under load: 2 ms halved the time from a webhook to its
// reply at 25 messages/s against 20 ms (docs/performance.md), for at most
// 500 fetches a second while jobs keep coming and none when idle. On
// SQLite it is the poll interval (River requires it to be no longer).
// TEND_JOBS_FETCH_COOLDOWN overrides it (a benchmark knob, not a setting).
func fetchCooldown(d store.Dialect) time.Duration {
	if v, err := time.ParseDuration(os.Getenv("TEND_JOBS_FETCH_COOLDOWN")); err == nil && v >= time.Millisecond {
		return v
	}
	if d == store.Postgres {
		return 2 * time.Millisecond
	}
	return sqlitePollInterval()
}

// sqlitePoll is how often SQLite, which has no LISTEN/NOTIFY, looks for new
// jobs: a webhook's reply waits for two such looks, half an interval each
// on average. River offers no way to wake its fetcher after a transaction
// that inserted a job commits: InsertTx does not, the in-process trigger
// it keeps for drivers without a listener is unexported, and riversqlite,
// which reports a listener, emulates LISTEN by polling a table every 50 ms
// (slower than this poll, and not used: PollOnly). So the interval is the
// wait. 5 ms (was 20; 50 before that) took the median from webhook to
// reply at 25 messages/s from 44-47 ms to 20 ms; a look that finds nothing
// costs about 0.2 ms of CPU (its statement compiled once), and an idle
// `tend serve` went from about 4% to 6-9% of one core (docs/performance.md).
const sqlitePoll = 5 * time.Millisecond

// sqlitePollInterval is sqlitePoll unless TEND_JOBS_POLL overrides it (a
// benchmark knob).
func sqlitePollInterval() time.Duration {
	if v, err := time.ParseDuration(os.Getenv("TEND_JOBS_POLL")); err == nil && v >= time.Millisecond {
		return v
	}
	return sqlitePoll
}
