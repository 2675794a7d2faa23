package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestWriteWaitsForTheWriter: on SQLite, DB.Write's statements run only
// when no transaction of the process holds the writer, in turn, instead of
// meeting SQLite's busy handler; on PostgreSQL they run at once.
func TestWriteWaitsForTheWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	var committed atomic.Bool
	wrote := make(chan error, 1)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		go func() {
			wrote <- db.Write(ctx, func(q store.Q) error {
				if !committed.Load() {
					return errors.New("ran while a transaction held the writer")
				}
				return q.PutKV(ctx, "write-probe", "after", time.Now())
			})
		}()
		// Time for the write to run, were it not held back.
		time.Sleep(100 * time.Millisecond)
		committed.Store(true)
		return tx.PutKV(ctx, "write-probe", "tx", time.Now())
	})
	require.NoError(t, err)
	require.NoError(t, <-wrote)
	v, err := db.Q().GetKV(ctx, "write-probe")
	require.NoError(t, err)
	require.Equal(t, "after", v)
}

// TestExecLater: a held-back write commits with its transaction and is
// rolled back with it, on both stores.
func TestExecLater(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		require.NoError(t, db.Q().PutKV(ctx, "later-probe", "before", time.Now()))
		set := func(v string) func(*store.Tx) error {
			return func(tx *store.Tx) error {
				return tx.ExecLater(ctx, `UPDATE kv SET value = $2 WHERE key = $1`, "later-probe", v)
			}
		}
		require.NoError(t, db.InTx(ctx, set("committed")))
		failed := errors.New("turn failed")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			require.NoError(t, set("rolled back")(tx))
			_, err := tx.GetKV(ctx, "later-probe") // sends the held-back write on PostgreSQL
			require.NoError(t, err)
			return failed
		})
		require.ErrorIs(t, err, failed)
		v, err := db.Q().GetKV(ctx, "later-probe")
		require.NoError(t, err)
		require.Equal(t, "committed", v)
		require.NoError(t, db.Write(ctx, func(q store.Q) error { return q.PutKV(ctx, "later-probe", "written", time.Now()) }))
		v, err = db.Q().GetKV(ctx, "later-probe")
		require.NoError(t, err)
		require.Equal(t, "written", v)
	})
}
