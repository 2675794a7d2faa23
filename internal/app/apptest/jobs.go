package apptest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
)

// JobArgs lists the arguments of the River jobs of one kind enqueued in
// db, in the order they were enqueued, as River stored them.
func JobArgs[T any](t testing.TB, db *store.DB, kind string) []T {
	t.Helper()
	args := "args::text"
	if db.Dialect() == store.SQLite {
		args = "json(args)" // River's SQLite driver stores JSONB
	}
	rs, err := db.Q().Query(context.Background(), `SELECT `+args+` FROM river_job WHERE kind = $1 ORDER BY id`, kind)
	require.NoError(t, err)
	defer rs.Close()
	var out []T
	for rs.Next() {
		var raw []byte
		require.NoError(t, rs.Scan(&raw))
		var a T
		require.NoError(t, json.Unmarshal(raw, &a))
		out = append(out, a)
	}
	return out
}
