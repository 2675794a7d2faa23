package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tend-health/tend/internal/store"
)

// Columns is a database's tables, each with its column names sorted.
type Columns map[string][]string

// TableColumns reads the tables of Tend's schema and their column names:
// information_schema on PostgreSQL (the store's schema only), pragma
// table_info on SQLite. goose's and River's own tables are left out.
func TableColumns(t testing.TB, db *store.DB) Columns {
	t.Helper()
	query := `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, column_name`
	if db.Dialect() == store.SQLite {
		query = `SELECT m.name, c.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY m.name, c.name`
	}
	type column struct{ table, name string }
	cols, err := store.Collect[column](db.Q().Query(context.Background(), query))(func(r store.Row) (column, error) {
		var c column
		return c, r.Scan(&c.table, &c.name)
	})
	if err != nil {
		t.Fatalf("read the %s schema: %v", db.Dialect(), err)
	}
	out := Columns{}
	for _, c := range cols {
		if c.table == "goose_db_version" || strings.HasPrefix(c.table, "river_") {
			continue
		}
		out[c.table] = append(out[c.table], c.name)
	}
	return out
}

// DiffColumns lists what differs between two schemas' tables and column
// names (types are not compared), one line each, leaving out the names in
// known: a table ("kb_fts") or a column ("kb_chunks.tsv") one of the two
// has on purpose.
func DiffColumns(a, b Columns, aName, bName string, known ...string) []string {
	var diff []string
	only := func(have, lack Columns, name string) {
		for table, cols := range have {
			if slices.Contains(known, table) {
				continue
			}
			other, ok := lack[table]
			if !ok {
				diff = append(diff, fmt.Sprintf("table %s only on %s", table, name))
				continue
			}
			for _, c := range cols {
				if !slices.Contains(other, c) && !slices.Contains(known, table+"."+c) {
					diff = append(diff, fmt.Sprintf("column %s.%s only on %s", table, c, name))
				}
			}
		}
	}
	only(a, b, aName)
	only(b, a, bName)
	slices.Sort(diff)
	return diff
}
