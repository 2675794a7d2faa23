package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func sqlFiles(names ...string) fstest.MapFS {
	out := fstest.MapFS{}
	for _, n := range names {
		out[n] = &fstest.MapFile{Data: []byte("-- +goose Up\nSELECT 1;\n")}
	}
	return out
}

// The owners' migrations merge into one directory; a version given twice,
// in one dialect only or under two names is refused before anything runs.
func TestMergeMigrations(t *testing.T) {
	t.Parallel()
	a := Migrations{Owner: "a", FS: sqlFiles("postgres/00010_a.sql", "sqlite/00010_a.sql")}
	merged, err := mergeMigrations(SQLite, []Migrations{coreMigrations(), a})
	require.NoError(t, err)
	names, err := fs.Glob(merged, "*.sql")
	require.NoError(t, err)
	require.Contains(t, names, "00001_core.sql")
	require.Contains(t, names, "00010_a.sql")

	for name, m := range map[string]Migrations{
		"duplicate":  {Owner: "b", FS: sqlFiles("postgres/00001_b.sql", "sqlite/00001_b.sql")},
		"one only":   {Owner: "b", FS: sqlFiles("postgres/00011_b.sql")},
		"two names":  {Owner: "b", FS: sqlFiles("postgres/00011_b.sql", "sqlite/00011_bb.sql")},
		"no version": {Owner: "b", FS: sqlFiles("postgres/b.sql", "sqlite/b.sql")},
	} {
		_, err := mergeMigrations(Postgres, []Migrations{coreMigrations(), m})
		require.Error(t, err, name)
		require.Contains(t, err.Error(), "b", name)
	}

	_, err = Open(context.Background(), Options{SQLitePath: filepath.Join(t.TempDir(), "tend.db"),
		Migrations: []Migrations{a, a}})
	require.ErrorContains(t, err, "migration version 10 is both a/00010_a.sql and a/00010_a.sql")
}
