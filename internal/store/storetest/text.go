package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
)

// StoredText reads every text-like column of every table in db as the
// database holds it (sealed values stay sealed), keyed "table.column", for
// checks on what is at rest: on PostgreSQL the text, JSON, varchar and bytea
// columns of the store's schema, on SQLite every column of every table.
func StoredText(t testing.TB, db *store.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	q := db.Q()
	var cols [][2]string
	if db.Dialect() == store.Postgres {
		rs, err := q.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = $1 AND data_type IN ('text', 'jsonb', 'json', 'character varying', 'bytea')`, db.Schema())
		require.NoError(t, err)
		for rs.Next() {
			var c [2]string
			require.NoError(t, rs.Scan(&c[0], &c[1]))
			cols = append(cols, c)
		}
		rs.Close()
	} else {
		var tables []string
		rs, err := q.Query(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
		require.NoError(t, err)
		for rs.Next() {
			var n string
			require.NoError(t, rs.Scan(&n))
			tables = append(tables, n)
		}
		rs.Close()
		for _, tb := range tables {
			rs, err := q.Query(ctx, `SELECT name FROM pragma_table_info($1)`, tb)
			require.NoError(t, err)
			for rs.Next() {
				var c string
				require.NoError(t, rs.Scan(&c))
				cols = append(cols, [2]string{tb, c})
			}
			rs.Close()
		}
	}
	out := map[string][]string{}
	for _, c := range cols {
		rs, err := q.Query(ctx, fmt.Sprintf(`SELECT CAST(%q AS text) FROM %q WHERE %q IS NOT NULL`, c[1], c[0], c[1]))
		require.NoError(t, err, "%s.%s", c[0], c[1])
		where := c[0] + "." + c[1]
		for rs.Next() {
			var v string
			require.NoError(t, rs.Scan(&v))
			out[where] = append(out[where], v)
		}
		rs.Close()
	}
	return out
}
