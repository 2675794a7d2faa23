package jobs_test

import (
	"context"
	"testing"

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
