package store

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// TestCommitWithHeldStatements: what travels with COMMIT can only fail by
// an SQL error, which rolls the transaction back; a statement whose result
// is read goes out before the COMMIT, so a failing reader stops it too.
// (Inside the package: storetest imports store.)
func TestCommitWithHeldStatements(t *testing.T) {
	url := os.Getenv("TEND_TEST_DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/tend_test?sslmode=disable"
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.MaxConns = 1 // one session, so its temporary table is seen throughout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL not reachable: %v", err)
		}
		t.Skipf("PostgreSQL not reachable: %v (set CI=true to make this a failure)", err)
	}
	_, err = pool.Exec(ctx, `CREATE TEMP TABLE held_probe (n int PRIMARY KEY)`)
	require.NoError(t, err)
	count := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM held_probe`).Scan(&n))
		return n
	}
	commit := func(held ...heldStmt) error {
		lt, err := beginLazy(ctx, pool)
		require.NoError(t, err)
		for _, h := range held {
			require.NoError(t, lt.later(h.sql, h.args, h.read))
		}
		return lt.Commit(ctx)
	}
	insert := func(n any, read func(pgx.Rows) error) heldStmt {
		return heldStmt{sql: `INSERT INTO held_probe VALUES ($1) RETURNING n`, args: []any{n}, read: read}
	}

	// Writes with no reader go out with the COMMIT, and commit.
	require.NoError(t, commit(insert(1, nil), insert(2, nil)))
	require.Equal(t, 2, count())

	// A reader that fails stops the commit of everything.
	refuse := errors.New("reader refuses")
	err = commit(insert(3, nil), insert(4, func(pgx.Rows) error { return refuse }))
	require.ErrorIs(t, err, refuse)
	require.Equal(t, 2, count(), "nothing of the refused transaction stayed")

	// A reader that reads gets its row, and the transaction commits.
	var got int
	require.NoError(t, commit(insert(5, func(rows pgx.Rows) error {
		if !rows.Next() {
			return errors.New("no row")
		}
		return rows.Scan(&got)
	})))
	require.Equal(t, 5, got)
	require.Equal(t, 3, count())

	// An SQL error in a statement travelling with COMMIT (a duplicate key)
	// rolls back the statements before it too.
	err = commit(insert(6, nil), insert(1, nil))
	require.Error(t, err)
	require.Equal(t, 3, count())

	// The one connection went back clean after all that.
	c, err := pool.Acquire(ctx)
	require.NoError(t, err)
	require.Equal(t, byte('I'), c.Conn().PgConn().TxStatus(), "not left inside a transaction")
	c.Release()
}
