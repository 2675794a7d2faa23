package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// waitFor bounds every wait on River's workers.
const waitFor = 30 * time.Second

type okArgs struct {
	N int `json:"n"`
}

func (okArgs) Kind() string { return "jobs_test_ok" }

type okWorker struct {
	river.WorkerDefaults[okArgs]
	mu  sync.Mutex
	ran []int
}

func (w *okWorker) Work(_ context.Context, job *river.Job[okArgs]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ran = append(w.ran, job.Args.N)
	return nil
}

func (w *okWorker) done() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.ran...)
}

type failArgs struct {
	Panic bool `json:"panic"`
}

func (failArgs) Kind() string { return "jobs_test_fail" }

// failWorker fails every attempt and asks for its retry an hour later, so
// the test sees exactly one attempt.
type failWorker struct {
	river.WorkerDefaults[failArgs]
}

func (failWorker) Work(_ context.Context, job *river.Job[failArgs]) error {
	if job.Args.Panic {
		panic("worker panicked on purpose")
	}
	return errors.New("failed on purpose")
}

func (failWorker) NextRetry(*river.Job[failArgs]) time.Time { return time.Now().Add(time.Hour) }

type blockArgs struct {
	N int `json:"n"`
}

func (blockArgs) Kind() string { return "jobs_test_block" }

// blockWorker holds its job until released or cancelled, counting how many
// run at once.
type blockWorker struct {
	river.WorkerDefaults[blockArgs]
	release   chan struct{}
	running   atomic.Int32
	most      atomic.Int32
	cancelled atomic.Int32
	finished  atomic.Int32
}

func (w *blockWorker) Work(ctx context.Context, _ *river.Job[blockArgs]) error {
	n := w.running.Add(1)
	defer w.running.Add(-1)
	for {
		m := w.most.Load()
		if n <= m || w.most.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-w.release:
		w.finished.Add(1)
		return nil
	case <-ctx.Done():
		w.cancelled.Add(1)
		return ctx.Err()
	}
}

func enqueue(t *testing.T, db *store.DB, args ...river.JobArgs) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
		for _, a := range args {
			if err := tx.Enqueue(ctx, a, nil); err != nil {
				return err
			}
		}
		return nil
	}))
}

func states(t *testing.T, c *jobs.Client, kind string) map[string]int {
	t.Helper()
	m, err := c.JobsByKind(context.Background(), kind)
	require.NoError(t, err)
	return m
}

// A job exists exactly when the transaction that asked for it commits:
// rolled back, it was never there.
func TestInsertTxCommitsWithTheTransaction(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c, err := jobs.New(db, jobs.Options{})
		require.NoError(t, err)

		rollback := errors.New("changed my mind")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			require.NoError(t, tx.Enqueue(ctx, okArgs{N: 1}, nil))
			return rollback
		})
		require.ErrorIs(t, err, rollback)
		require.Empty(t, states(t, c, okArgs{}.Kind()), "a rolled-back job does not exist")

		enqueue(t, db, okArgs{N: 2}, okArgs{N: 3})
		require.Equal(t, map[string]int{"available": 2}, states(t, c, okArgs{}.Kind()))
		require.Empty(t, states(t, c, "nosuch_kind"))

		// An insert River refuses names the job's kind.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.Enqueue(ctx, okArgs{N: 4}, &river.InsertOpts{Queue: "not a valid queue name!"})
		})
		require.ErrorContains(t, err, "jobs: insert jobs_test_ok")
		require.Equal(t, map[string]int{"available": 2}, states(t, c, okArgs{}.Kind()))
	})
}

// The CLI's client only inserts: it cannot be started, and stopping it is
// harmless.
func TestInsertOnlyClientDoesNotRun(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c, err := jobs.New(db, jobs.Options{})
		require.NoError(t, err)
		require.EqualError(t, c.Start(context.Background()), "jobs: client has no workers")
		require.NoError(t, c.Stop(context.Background()))
	})
}

// With workers a client runs the jobs committed before and after it
// started; each failed attempt, an error or a panic, is logged with its
// kind and reported to the error hook (the metrics), leaves the job to be
// retried and counts in the queue depth.
func TestWorkersRunJobsAndReportFailures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ok := &okWorker{}
		w := river.NewWorkers()
		river.AddWorker(w, ok)
		river.AddWorker(w, failWorker{})
		var mu sync.Mutex
		var hooked []string
		var logged bytes.Buffer
		c, err := jobs.New(db, jobs.Options{Workers: w, Logger: slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logged}, nil)),
			ErrorHook: func(kind string) {
				mu.Lock()
				defer mu.Unlock()
				hooked = append(hooked, kind)
			}})
		require.NoError(t, err)
		enqueue(t, db, okArgs{N: 1})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		require.NoError(t, c.Start(ctx))
		t.Cleanup(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			_ = c.Stop(sctx)
		})
		enqueue(t, db, okArgs{N: 2}, failArgs{}, failArgs{Panic: true})

		require.Eventually(t, func() bool { return states(t, c, okArgs{}.Kind())["completed"] == 2 }, waitFor, 20*time.Millisecond)
		require.ElementsMatch(t, []int{1, 2}, ok.done())
		require.Eventually(t, func() bool { return states(t, c, failArgs{}.Kind())["retryable"] == 2 }, waitFor, 20*time.Millisecond)
		mu.Lock()
		require.Equal(t, []string{"jobs_test_fail", "jobs_test_fail"}, hooked)
		require.Contains(t, logged.String(), "job attempt failed")
		require.Contains(t, logged.String(), "failed on purpose")
		require.Contains(t, logged.String(), "job panicked")
		require.Contains(t, logged.String(), "kind=jobs_test_fail")
		mu.Unlock()
		n, err := c.Depth(context.Background())
		require.NoError(t, err)
		require.Equal(t, int64(2), n, "jobs waiting for a retry are queued work")
	})
}

// A replica works at most 4 jobs at once by default, on SQLite (one
// writer) and on PostgreSQL with storetest's pool of 8 connections (4 kept
// for River and other queries); a smaller MaxWorkers is honoured, a larger
// one cannot exhaust the PostgreSQL pool.
func TestWorkersAreBounded(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if p := db.Pool(); p != nil {
			require.Equal(t, int32(8), p.Config().MaxConns, "storetest's pool size, which this test relies on")
		}
		cases := []struct{ maxWorkers, want int32 }{{0, 4}, {2, 2}}
		if db.Dialect() == store.Postgres {
			cases = append(cases, struct{ maxWorkers, want int32 }{50, 4})
		}
		for _, tc := range cases {
			bw := &blockWorker{release: make(chan struct{})}
			w := river.NewWorkers()
			river.AddWorker(w, bw)
			c, err := jobs.New(db, jobs.Options{Workers: w, MaxWorkers: int(tc.maxWorkers)})
			require.NoError(t, err)
			var args []river.JobArgs
			for i := range 10 {
				args = append(args, blockArgs{N: i})
			}
			enqueue(t, db, args...)
			ctx, cancel := context.WithCancel(context.Background())
			require.NoError(t, c.Start(ctx))
			require.Eventually(t, func() bool { return bw.running.Load() == tc.want }, waitFor, 10*time.Millisecond,
				"MaxWorkers %d", tc.maxWorkers)
			time.Sleep(300 * time.Millisecond) // River fetches every 20-50 ms: time for one more to start, were it allowed
			require.Equal(t, tc.want, bw.most.Load(), "MaxWorkers %d", tc.maxWorkers)
			close(bw.release)
			require.Eventually(t, func() bool { return states(t, c, blockArgs{}.Kind())["completed"] == 10 }, waitFor, 20*time.Millisecond)
			require.Equal(t, tc.want, bw.most.Load(), "MaxWorkers %d", tc.maxWorkers)
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			require.NoError(t, c.Stop(sctx))
			scancel()
			cancel()
			_, err = db.Q().Exec(context.Background(), `DELETE FROM river_job`)
			require.NoError(t, err)
		}
	})
}

// Stop lets running jobs finish while its context allows, then cancels
// them rather than hang the shutdown.
func TestStopWaitsThenCancels(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tc := range []struct {
			name          string
			grace         time.Duration
			releaseAfter  time.Duration
			wantFinished  int32
			wantCancelled int32
		}{
			{"the job finishes within the grace period", 20 * time.Second, 200 * time.Millisecond, 1, 0},
			{"the job outlasts it", 200 * time.Millisecond, time.Hour, 0, 1},
		} {
			bw := &blockWorker{release: make(chan struct{})}
			w := river.NewWorkers()
			river.AddWorker(w, bw)
			c, err := jobs.New(db, jobs.Options{Workers: w})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			require.NoError(t, c.Start(ctx))
			enqueue(t, db, blockArgs{N: 1})
			require.Eventually(t, func() bool { return bw.running.Load() == 1 }, waitFor, 10*time.Millisecond, tc.name)
			timer := time.AfterFunc(tc.releaseAfter, func() { close(bw.release) })

			sctx, scancel := context.WithTimeout(context.Background(), tc.grace)
			start := time.Now()
			err = c.Stop(sctx)
			took := time.Since(start)
			scancel()
			cancel()
			timer.Stop()
			require.NoError(t, err, tc.name)
			require.Less(t, took, 15*time.Second, tc.name)
			require.Equal(t, tc.wantFinished, bw.finished.Load(), tc.name)
			require.Equal(t, tc.wantCancelled, bw.cancelled.Load(), tc.name)
			require.Zero(t, bw.running.Load(), "%s: nothing runs after Stop", tc.name)

			// The next round works on a clean queue.
			_, err = db.Q().Exec(context.Background(), `DELETE FROM river_job`)
			require.NoError(t, err)
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
