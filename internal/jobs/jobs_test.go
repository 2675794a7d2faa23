package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

type depthArgs struct {
	N int `json:"n"`
}

func (depthArgs) Kind() string { return "depth_test" }

// TestDepthCountsDueJobs: a job snoozed for a few seconds is "available"
// before it is due (River does so for short snoozes, and the recovery job
// snoozes between its runs); the queue depth counts it only once it is due.
func TestDepthCountsDueJobs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c, err := jobs.New(db, jobs.Options{})
		require.NoError(t, err)
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			for i := range 3 {
				if err := tx.Enqueue(ctx, depthArgs{N: i}, nil); err != nil {
					return err
				}
			}
			return nil
		}))
		n, err := c.Depth(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(3), n)

		later := `now() + interval '5 seconds'`
		if db.Dialect() == store.SQLite {
			later = `datetime('now', 'subsec', '+5 seconds')`
		}
		_, err = db.Q().Exec(ctx, `UPDATE river_job SET scheduled_at = `+later+` WHERE CAST(args ->> 'n' AS INTEGER) = 0`)
		require.NoError(t, err)
		n, err = c.Depth(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(2), n, "the snoozed job is not waiting yet")
	})
}

// TestRunInTx: the work's writes commit and a positive duration snoozes
// the job; an error rolls the writes back and is returned as it is.
func TestRunInTx(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		put := func(key string, snooze time.Duration, fail error) error {
			return jobs.RunInTx(ctx, db, func(tx *store.Tx) (time.Duration, error) {
				if _, err := tx.Q.Exec(ctx, `INSERT INTO kv (key, value, updated_at) VALUES ($1, 'x', $2)`, key, time.Now()); err != nil {
					return 0, err
				}
				return snooze, fail
			})
		}
		require.NoError(t, put("done", 0, nil))
		var snoozed *river.JobSnoozeError
		require.ErrorAs(t, put("later", time.Minute, nil), &snoozed)
		require.Equal(t, time.Minute, snoozed.Duration)
		boom := errors.New("boom")
		require.ErrorIs(t, put("failed", time.Minute, boom), boom)

		n, err := store.CountBy(db.Q().Query(ctx, `SELECT key, count(*) FROM kv WHERE key IN ('done', 'later', 'failed') GROUP BY key`))
		require.NoError(t, err)
		require.Equal(t, map[string]int{"done": 1, "later": 1}, n)
	})
}
