package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store/storetest"
)

// The SQLite connections keep their compiled statements (stmtcache.go); a
// statement run from the cache must behave as a fresh one in every way the
// store and River use it. PostgreSQL's pgx has its own statement cache and is
// not wrapped, so these run on SQLite's connection, pinned so that every step
// meets the same cache.
func TestSQLiteStatementCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	conn, err := db.SQLDB().Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()

	_, err = conn.ExecContext(ctx, `CREATE TABLE cache_probe (n INTEGER PRIMARY KEY)`)
	require.NoError(t, err)
	for n := 1; n <= 5; n++ {
		_, err := conn.ExecContext(ctx, `INSERT INTO cache_probe (n) VALUES ($1)`, n)
		require.NoError(t, err)
	}
	const all = `SELECT n FROM cache_probe ORDER BY n`
	ints := func(rows *sql.Rows, err error) []int {
		t.Helper()
		require.NoError(t, err)
		defer rows.Close()
		var out []int
		for rows.Next() {
			var n int
			require.NoError(t, rows.Scan(&n))
			out = append(out, n)
		}
		require.NoError(t, rows.Err())
		return out
	}

	t.Run("a query inside a loop over its own rows", func(t *testing.T) {
		rows, err := conn.QueryContext(ctx, all)
		require.NoError(t, err)
		var outer []int
		// bounded: an outer statement reset by the inner run would start over
		for len(outer) < 10 && rows.Next() {
			var n int
			require.NoError(t, rows.Scan(&n))
			outer = append(outer, n)
			require.Equal(t, []int{1, 2, 3, 4, 5}, ints(conn.QueryContext(ctx, all)))
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		require.Equal(t, []int{1, 2, 3, 4, 5}, outer)
	})

	t.Run("rows closed early are read from the start next time", func(t *testing.T) {
		rows, err := conn.QueryContext(ctx, all)
		require.NoError(t, err)
		require.True(t, rows.Next())
		require.NoError(t, rows.Close())
		require.Equal(t, []int{1, 2, 3, 4, 5}, ints(conn.QueryContext(ctx, all)))
	})

	t.Run("arguments of the last run do not stick", func(t *testing.T) {
		const some = `SELECT n FROM cache_probe WHERE n > $1 ORDER BY n`
		require.Equal(t, []int{4, 5}, ints(conn.QueryContext(ctx, some, 3)))
		require.Equal(t, []int{2, 3, 4, 5}, ints(conn.QueryContext(ctx, some, 1)))
		require.Empty(t, ints(conn.QueryContext(ctx, some, 9)))
	})

	t.Run("a failed statement runs again", func(t *testing.T) {
		const insert = `INSERT INTO cache_probe (n) VALUES ($1)`
		_, err := conn.ExecContext(ctx, insert, 5)
		require.Error(t, err, "the primary key holds")
		_, err = conn.ExecContext(ctx, insert, 6)
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, `DELETE FROM cache_probe WHERE n = $1`, 6)
		require.NoError(t, err)
	})

	t.Run("a schema change is seen", func(t *testing.T) {
		const star = `SELECT * FROM cache_probe WHERE n = 1`
		cols := func() []string {
			rows, err := conn.QueryContext(ctx, star)
			require.NoError(t, err)
			defer rows.Close()
			c, err := rows.Columns()
			require.NoError(t, err)
			return c
		}
		require.Equal(t, []string{"n"}, cols())
		_, err := conn.ExecContext(ctx, `ALTER TABLE cache_probe ADD COLUMN m TEXT`)
		require.NoError(t, err)
		require.Equal(t, []string{"n", "m"}, cols())
	})

	t.Run("more statements than the cache holds", func(t *testing.T) {
		for i := 0; i < 300; i++ {
			var got int
			require.NoError(t, conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM cache_probe`, i)).Scan(&got))
			require.Equal(t, 5+i, got)
		}
		require.Equal(t, []int{1, 2, 3, 4, 5}, ints(conn.QueryContext(ctx, all)))
	})

	t.Run("in a transaction, rolled back", func(t *testing.T) {
		tx, err := conn.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `INSERT INTO cache_probe (n) VALUES ($1)`, 7)
		require.NoError(t, err)
		require.Equal(t, []int{1, 2, 3, 4, 5, 7}, ints(tx.QueryContext(ctx, all)))
		require.NoError(t, tx.Rollback())
		require.Equal(t, []int{1, 2, 3, 4, 5}, ints(conn.QueryContext(ctx, all)))
	})
}
