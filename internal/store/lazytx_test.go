package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestTransactionFirstStatement: on PostgreSQL a transaction's BEGIN
// travels with its first statement. Whatever that statement is (rows, one
// row, no row, a write, an error), the transaction behaves as one that
// began on its own: it sees its own writes, commits them or rolls them all
// back, and leaves the connection usable.
func TestTransactionFirstStatement(t *testing.T) {
	t.Parallel()
	db := storetest.OpenPostgres(t)
	ctx := context.Background()
	_, err := db.Q().Exec(ctx, `CREATE TABLE lazy_probe (n int PRIMARY KEY)`)
	require.NoError(t, err)
	count := func() int {
		var n int
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT count(*) FROM lazy_probe`).Scan(&n))
		return n
	}
	boom := errors.New("boom")

	// A write first, then a failure: both undone.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO lazy_probe VALUES (1)`); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, 0, count())

	// A query with rows first: the rows are read, the transaction goes on.
	require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT g FROM generate_series(1, 3) g`)
		if err != nil {
			return err
		}
		var got []int
		for rows.Next() {
			var g int
			require.NoError(t, rows.Scan(&g))
			got = append(got, g)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		require.Equal(t, []int{1, 2, 3}, got)
		_, err = tx.Exec(ctx, `INSERT INTO lazy_probe VALUES (2)`)
		return err
	}))
	require.Equal(t, 1, count())

	// One row that is not there first: not found, and the transaction is
	// still good for what follows.
	require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		err := tx.QueryRow(ctx, `SELECT n FROM lazy_probe WHERE n = 99`).Scan(&n)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = tx.Exec(ctx, `INSERT INTO lazy_probe VALUES (3)`)
		return err
	}))
	require.Equal(t, 2, count())

	// A failing first statement: the error comes back and nothing stays.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO lazy_probe VALUES (2)`) // duplicate key
		return err
	})
	require.Error(t, err)
	require.Equal(t, 2, count())

	// Nothing run at all: commits trivially.
	require.NoError(t, db.InTx(ctx, func(*store.Tx) error { return nil }))

	// A savepoint (pgx's nested transaction) as the first thing.
	require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
		sp, err := tx.PgxTx().Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := sp.Exec(ctx, `INSERT INTO lazy_probe VALUES (4)`); err != nil {
			return err
		}
		require.NoError(t, sp.Rollback(ctx))
		_, err = tx.Exec(ctx, `INSERT INTO lazy_probe VALUES (5)`)
		return err
	}))
	require.Equal(t, 3, count(), "the savepoint's insert rolled back, the rest committed")

	// Every transaction's connection went back clean: all of the pool's
	// connections still work and none is left inside a transaction.
	for range 20 {
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			var status string
			err := tx.QueryRow(ctx, `SELECT current_setting('transaction_isolation')`).Scan(&status)
			require.Equal(t, pgx.ReadCommitted, pgx.TxIsoLevel(status))
			return err
		}))
	}
}
