// Package rekey seals what is not sealed under the current key: values
// written as plaintext before a key was configured, and values sealed under
// an older key after a rotation. It walks every column in
// store.SealedColumns as a chain of durable River jobs, one batch per job:
// each batch rewrites its rows, records progress and inserts the next job in
// one transaction, so a crash or a restart resumes at the last batch that
// committed. `tend keys rotate` starts it, `tend keys status` shows it, and
// the server starts it by itself when it finds work left (a key set for the
// first time, a new current key).
//
// A row is rewritten only if it still holds the value that was read
// (compare-and-swap), so a conversation saved meanwhile by the engine, which
// already seals under the current key, is never overwritten with older
// data. A value that cannot be opened (its key is not configured, or it was
// altered) is counted and left alone.
package rekey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/store"
)

// BatchSize is how many rows one job rewrites (a variable for tests).
var BatchSize = 500

// progressKey is where the rotation's progress is kept (kv).
const progressKey = "keys:rotation"

// Args is one step of a rotation: a batch of one column.
type Args struct {
	// Target is the key id the rotation seals under.
	Target string `json:"target"`
	// Column indexes store.SealedColumns.
	Column int `json:"column"`
	// After is the cursor: rows whose key is greater.
	After int64 `json:"after,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "rekey" }

// InsertOpts keeps a step's retries going for a while: a database outage
// should delay the rotation, not end it.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 50} }

// Progress is the rotation's record.
type Progress struct {
	Target     string     `json:"target"`
	StartedAt  time.Time  `json:"started_at"`
	Column     string     `json:"column,omitempty"` // the column being worked on
	Rewritten  int64      `json:"rewritten"`
	Unreadable int64      `json:"unreadable"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Stale is set when Tend ran without a key after the rotation
	// finished: plaintext may have been written since.
	Stale bool `json:"stale,omitempty"`
	// Stopped says why the rotation ended before finishing, if it did.
	Stopped string `json:"stopped,omitempty"`
}

// Done reports whether the rotation finished for this key with nothing
// written as plaintext since.
func (p Progress) Done(current string) bool {
	return p.Target == current && p.FinishedAt != nil && !p.Stale
}

// LoadProgress reads the last rotation's record; ok is false when none ran.
func LoadProgress(ctx context.Context, q store.Q) (p Progress, ok bool, err error) {
	v, err := q.GetKV(ctx, progressKey)
	if errors.Is(err, store.ErrNotFound) {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return p, false, fmt.Errorf("rekey: progress: %w", err)
	}
	return p, true, nil
}

func saveProgress(ctx context.Context, q store.Q, p Progress, now time.Time) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return q.PutKV(ctx, progressKey, string(b), now)
}

// errNoKey: nothing can be sealed without a key.
var errNoKey = errors.New("rekey: no encryption key is configured (TEND_ENCRYPTION_KEY or TEND_ENCRYPTION_KEY_FILE)")

// Start begins a rotation to the store's current key: it records fresh
// progress and inserts the first job, for a server's workers to run.
func Start(ctx context.Context, db *store.DB, now time.Time) (Progress, error) {
	keys := db.Keyring()
	if keys == nil {
		return Progress{}, errNoKey
	}
	p := Progress{Target: keys.Current(), StartedAt: now}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := saveProgress(ctx, tx.Q, p, now); err != nil {
			return err
		}
		return tx.Enqueue(ctx, Args{Target: p.Target}, nil)
	})
	return p, err
}

// Running reports whether a rotation job is waiting or running.
func Running(ctx context.Context, q store.Q) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1
		AND state IN ('available', 'pending', 'retryable', 'running', 'scheduled')`, Args{}.Kind()).Scan(&n)
	return n > 0, err
}

// AtStart is what a starting process does: with a key, start a rotation
// unless everything is sealed under it already or one is under way
// (started reports it); without one, note that plaintext may now be
// written, so that the next start with a key seals it.
func AtStart(ctx context.Context, db *store.DB, now time.Time) (started bool, err error) {
	q := db.Q()
	p, ok, err := LoadProgress(ctx, q)
	if err != nil {
		return false, err
	}
	keys := db.Keyring()
	if keys == nil {
		if ok && !p.Stale {
			p.Stale = true
			return false, saveProgress(ctx, q, p, now)
		}
		return false, nil
	}
	if ok && p.Done(keys.Current()) {
		return false, nil
	}
	if running, err := Running(ctx, q); err != nil || running {
		return false, err
	}
	_, err = Start(ctx, db, now)
	return err == nil, err
}

// Worker runs the rotation's jobs.
type Worker struct {
	river.WorkerDefaults[Args]
	DB    *store.DB
	Log   *slog.Logger
	Clock func() time.Time
}

// Timeout bounds one batch.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 5 * time.Minute }

// Work rewrites one batch and queues the next.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	keys := w.DB.Keyring()
	switch {
	case keys == nil:
		return w.stop(ctx, job.Args, "this replica has no encryption key")
	case !keys.Has(job.Args.Target):
		// A replica that has not been given the new key yet: leave the
		// step to one that has it.
		return river.JobSnooze(time.Minute)
	case keys.Current() != job.Args.Target:
		return w.stop(ctx, job.Args, "superseded by a rotation to key "+keys.Current())
	}
	now := time.Now
	if w.Clock != nil {
		now = w.Clock
	}
	p, _, err := Step(ctx, w.DB, job.Args, now(), true)
	if err == nil && p.FinishedAt != nil && w.Log != nil {
		w.Log.InfoContext(ctx, "encryption: every value is sealed under the current key", "key_id", p.Target,
			"rewritten", p.Rewritten, "unreadable", p.Unreadable)
	}
	return err
}

func (w *Worker) stop(ctx context.Context, a Args, why string) error {
	if w.Log != nil {
		w.Log.WarnContext(ctx, "encryption: rotation step stopped", "target", a.Target, "reason", why)
	}
	q := w.DB.Q()
	p, ok, err := LoadProgress(ctx, q)
	if err != nil || !ok || p.Target != a.Target || p.FinishedAt != nil {
		return err
	}
	p.Stopped = why
	return saveProgress(ctx, q, p, time.Now())
}

// Step rewrites one batch of a.Column after a.After and records progress;
// with enqueue it inserts the job for the next step in the same
// transaction. It returns the progress after the batch and the next step.
func Step(ctx context.Context, db *store.DB, a Args, now time.Time, enqueue bool) (Progress, Args, error) {
	cols := store.SealedColumns()
	var p Progress
	var next Args
	err := db.InTx(ctx, func(tx *store.Tx) error {
		keys := tx.Keyring()
		if keys == nil || keys.Current() != a.Target {
			return fmt.Errorf("rekey: the current key is not %s", a.Target)
		}
		var ok bool
		var err error
		if p, ok, err = LoadProgress(ctx, tx.Q); err != nil {
			return err
		}
		if !ok || p.Target != a.Target {
			p = Progress{Target: a.Target, StartedAt: now}
		}
		next = Args{Target: a.Target, Column: a.Column + 1}
		if a.Column < len(cols) {
			col := cols[a.Column]
			b, err := rewrite(ctx, tx.Q, keys, col, a.After)
			if err != nil {
				return fmt.Errorf("rekey: %s: %w", col.Purpose(), err)
			}
			p.Column, p.Rewritten, p.Unreadable = col.Purpose(), p.Rewritten+b.rewritten, p.Unreadable+b.unreadable
			if b.full {
				next = Args{Target: a.Target, Column: a.Column, After: b.last}
			}
		}
		p.Stopped = ""
		if next.Column >= len(cols) {
			p.FinishedAt, p.Column, p.Stale = &now, "", false
		}
		if err := saveProgress(ctx, tx.Q, p, now); err != nil {
			return err
		}
		if enqueue && p.FinishedAt == nil {
			return tx.Enqueue(ctx, next, nil)
		}
		return nil
	})
	return p, next, err
}

// Run is a whole rotation in this process, without the job queue (`tend
// keys rotate --foreground`); report is told the progress after each batch.
func Run(ctx context.Context, db *store.DB, now func() time.Time, report func(Progress)) (Progress, error) {
	keys := db.Keyring()
	if keys == nil {
		return Progress{}, errNoKey
	}
	if err := saveProgress(ctx, db.Q(), Progress{Target: keys.Current(), StartedAt: now()}, now()); err != nil {
		return Progress{}, err
	}
	a := Args{Target: keys.Current()}
	for {
		p, next, err := Step(ctx, db, a, now(), false)
		if err != nil {
			return p, err
		}
		if report != nil {
			report(p)
		}
		if p.FinishedAt != nil {
			return p, nil
		}
		a = next
	}
}

// batch is one batch's outcome.
type batch struct {
	rewritten, unreadable int64
	full                  bool  // the batch was full: the column may have more
	last                  int64 // the last key read (the next cursor)
}
