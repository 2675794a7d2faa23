package schema_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for goose
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// known are the tables and columns one dialect has on purpose. knowledge:
// full-text search is an FTS5 table (and its shadow tables) on SQLite, a
// generated tsvector column on PostgreSQL.
var known = []string{
	"kb_fts", "kb_fts_config", "kb_fts_content", "kb_fts_data", "kb_fts_docsize", "kb_fts_idx",
	"kb_chunks.tsv",
}

// formerly are known differences a later migration removed, excused only
// after the versions that had them. prices: full-text search of
// price_items' terms (an expression index on PostgreSQL, no column) from
// 00160 until 00176 dropped both.
var formerly = []string{
	"price_fts", "price_fts_config", "price_fts_content", "price_fts_data", "price_fts_docsize", "price_fts_idx",
}

var dialects = []store.Dialect{store.SQLite, store.Postgres}

// owners are the store's own migrations and everyone else's, as Open
// merges them.
func owners() []store.Migrations {
	core := store.Migrations{Owner: "internal/store", FS: os.DirFS("../store/migrations")}
	return append([]store.Migrations{core}, schema.All()...)
}

// Every owner gives each of its versions in both dialects, under one name.
func TestEachVersionInBothDialects(t *testing.T) {
	t.Parallel()
	for _, o := range owners() {
		pg, err := fs.Glob(o.FS, "postgres/*.sql")
		require.NoError(t, err)
		lite, err := fs.Glob(o.FS, "sqlite/*.sql")
		require.NoError(t, err)
		require.NotEmpty(t, pg, o.Owner)
		for i := range pg {
			pg[i] = filepath.Base(pg[i])
		}
		for i := range lite {
			lite[i] = filepath.Base(lite[i])
		}
		require.Equal(t, pg, lite, "%s: the same versions and names in postgres/ and sqlite/", o.Owner)
	}
}

// The files moved beside their owners unchanged, and none was lost on the
// way: what a database migrated before ran is what runs now. (Versions
// added since are new files; they are not in the list.)
func TestSameFilesAsBeforeOwners(t *testing.T) {
	t.Parallel()
	now := map[string]string{}
	for _, d := range dialects {
		for name, file := range flat(t, d) {
			sum := sha256.Sum256(file.Data)
			now[string(d)+"/"+name] = hex.EncodeToString(sum[:])
		}
	}
	was := before(t)
	require.Len(t, was, 40)
	for name, sum := range was {
		require.Equal(t, sum, now[name], "%s as it was", name)
	}
}

// before is testdata/before-owners.txt: "dialect/file" to the SHA-256 of
// its content when every migration lived in internal/store.
func before(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/before-owners.txt")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			name, sum, _ := strings.Cut(line, " ")
			out[name] = sum
		}
	}
	return out
}

// A database migrated when every migration lived in internal/store (one
// directory per dialect) is current under the owners' layout: nothing of
// Tend's re-runs or is pending. One migrated part of the way gets exactly
// the rest, in order.
func TestDatabaseMigratedBeforeOwners(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		for _, upTo := range []int64{0, 60} { // 0: every version
			t.Run(string(d)+"/"+versionName(upTo), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				e := openEmpty(t, d)
				// The old layout: one directory, the files of before-owners.txt.
				was, oldLayout := before(t), flat(t, d)
				for name := range oldLayout {
					if _, ok := was[string(d)+"/"+name]; !ok {
						delete(oldLayout, name)
					}
				}
				old, err := goose.NewProvider(e.gooseDialect, e.raw, oldLayout, goose.WithAllowOutofOrder(true))
				require.NoError(t, err)
				if upTo == 0 {
					_, err = old.Up(ctx)
				} else {
					_, err = old.UpTo(ctx, upTo)
				}
				require.NoError(t, err)
				var rest []string // what the new layout still has to apply
				for _, name := range names(t, d) {
					v, _ := goose.NumericComponent(name)
					if _, ok := oldLayout[name]; !ok || (upTo > 0 && v > upTo) {
						rest = append(rest, name)
					}
				}

				res, err := e.db.Migrate(ctx)
				require.NoError(t, err)
				var tend []string
				for _, a := range res.Applied {
					if !strings.HasPrefix(a, "river/") {
						tend = append(tend, a)
					}
				}
				require.Equal(t, rest, tend)
				pending, err := e.db.MigrationsPending(ctx)
				require.NoError(t, err)
				require.False(t, pending)

				var applied []int64
				applied, err = store.Collect[int64](e.db.Q().Query(ctx,
					`SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY version_id`))(
					func(r store.Row) (int64, error) {
						var v int64
						return v, r.Scan(&v)
					})
				require.NoError(t, err)
				var want []int64
				for _, name := range names(t, d) {
					v, _ := goose.NumericComponent(name)
					want = append(want, v)
				}
				require.Equal(t, want, applied, "each version recorded once")
			})
		}
	}
}

// Both dialects define the same tables with the same column names (types
// differ on purpose), after each version and after everything.
func TestDialectsDefineTheSameColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg, lite := openEmpty(t, store.Postgres), openEmpty(t, store.SQLite)
	pgUp, err := goose.NewProvider(pg.gooseDialect, pg.raw, flat(t, store.Postgres))
	require.NoError(t, err)
	liteUp, err := goose.NewProvider(lite.gooseDialect, lite.raw, flat(t, store.SQLite))
	require.NoError(t, err)
	for _, name := range names(t, store.Postgres) {
		v, err := goose.NumericComponent(name)
		require.NoError(t, err)
		_, err = pgUp.UpTo(ctx, v)
		require.NoError(t, err)
		_, err = liteUp.UpTo(ctx, v)
		require.NoError(t, err)
		diff := storetest.DiffColumns(storetest.TableColumns(t, pg.db), storetest.TableColumns(t, lite.db),
			"postgres", "sqlite", append(slices.Clone(known), formerly...)...)
		require.Empty(t, diff, "after %s", name)
	}

	_, err = pg.db.Migrate(ctx)
	require.NoError(t, err)
	_, err = lite.db.Migrate(ctx)
	require.NoError(t, err)
	pgCols, liteCols := storetest.TableColumns(t, pg.db), storetest.TableColumns(t, lite.db)
	require.Empty(t, storetest.DiffColumns(pgCols, liteCols, "postgres", "sqlite", known...))
	require.Greater(t, len(pgCols), 30, "the whole schema was read")
	require.Contains(t, liteCols["conversations"], "handled_seq")
	// Each known difference is still there, on one side only: the list
	// does not outlive what it excuses.
	has := func(c storetest.Columns, name string) bool {
		table, col, isCol := strings.Cut(name, ".")
		return c[table] != nil && (!isCol || slices.Contains(c[table], col))
	}
	for _, k := range known {
		require.True(t, has(pgCols, k) != has(liteCols, k), "%s is on one side only", k)
	}
}

// DiffColumns names what differs, leaving out what is known.
func TestDiffColumns(t *testing.T) {
	t.Parallel()
	a := storetest.Columns{"t": {"id", "x"}, "only_a": {"id"}, "kb_fts": {"head"}}
	b := storetest.Columns{"t": {"id", "y", "z"}}
	require.Equal(t, []string{
		"column t.x only on a",
		"column t.y only on b",
		"table only_a only on a",
	}, storetest.DiffColumns(a, b, "a", "b", "kb_fts", "t.z"))
}

// flat is dialect d's migrations as one directory, the layout they had
// in internal/store before each owner kept its own.
func flat(t *testing.T, d store.Dialect) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	for _, o := range owners() {
		paths, err := fs.Glob(o.FS, string(d)+"/*.sql")
		require.NoError(t, err)
		for _, p := range paths {
			data, err := fs.ReadFile(o.FS, p)
			require.NoError(t, err)
			name := filepath.Base(p)
			require.NotContains(t, out, name, "%s: a version given twice", o.Owner)
			out[name] = &fstest.MapFile{Data: data}
		}
	}
	return out
}

// names are dialect d's migration files in version order.
func names(t *testing.T, d store.Dialect) []string {
	var out []string
	for name := range flat(t, d) {
		out = append(out, name)
	}
	slices.SortFunc(out, func(a, b string) int {
		va, _ := goose.NumericComponent(a)
		vb, _ := goose.NumericComponent(b)
		return int(va - vb)
	})
	return out
}

func versionName(v int64) string {
	if v == 0 {
		return "all"
	}
	return fmt.Sprintf("to_%05d", v)
}

// empty is a database with nothing applied: the store over it, and a plain
// connection to it for goose.
type empty struct {
	db           *store.DB
	raw          *sql.DB
	gooseDialect goose.Dialect
}

func openEmpty(t *testing.T, d store.Dialect) empty {
	t.Helper()
	ctx := context.Background()
	if d == store.SQLite {
		path := filepath.Join(t.TempDir(), "tend.db")
		db, err := store.Open(ctx, store.Options{SQLitePath: path, Migrations: schema.All()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)")
		require.NoError(t, err)
		t.Cleanup(func() { _ = raw.Close() })
		return empty{db: db, raw: raw, gooseDialect: goose.DialectSQLite3}
	}
	name := storetest.NewSchemaName()
	db, err := store.Open(ctx, store.Options{PostgresURL: storetest.PostgresURL(), Schema: name, MaxConns: 4,
		Migrations: schema.All()})
	if err != nil {
		storetest.RequireInCI(t, "PostgreSQL not reachable at %s: %v", storetest.PostgresURL(), err)
	}
	t.Cleanup(func() { _ = db.Close(); storetest.DropSchema(t, name) })
	u, err := url.Parse(storetest.PostgresURL())
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", name+",public") // public: the vector extension's type
	u.RawQuery = q.Encode()
	raw, err := sql.Open("pgx", u.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	return empty{db: db, raw: raw, gooseDialect: goose.DialectPostgres}
}
