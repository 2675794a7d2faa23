package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"testing/fstest"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrations are one owner's schema changes: goose files
// postgres/NNNNN_name.sql and sqlite/NNNNN_name.sql in FS, the same
// versions under the same names in both. Versions are one sequence across
// every owner (docs/architecture.md, "Store conventions").
type Migrations struct {
	Owner string // the package that owns the tables, named in errors
	FS    fs.FS
}

//go:embed migrations
var coreFS embed.FS

// coreMigrations are the store's own: its tables (conversations, messages,
// kv) and the migrations that change several owners' tables at once, which
// existing databases have applied as one version each.
func coreMigrations() Migrations {
	sub, err := fs.Sub(coreFS, "migrations")
	if err != nil {
		panic(err) // a constant path in an embedded tree
	}
	return Migrations{Owner: "internal/store", FS: sub}
}

// mergeMigrations makes the one directory goose reads for dialect d out of
// every owner's migrations. It refuses a version given by two owners, or
// given in one dialect only or under two names: goose records versions
// alone, so either would skip or re-run a migration somewhere.
func mergeMigrations(d Dialect, sets []Migrations) (fs.FS, error) {
	// An in-memory copy (a few dozen small files) is the simplest
	// fs.FS that goose can list as one directory.
	merged := fstest.MapFS{}
	owner := map[int64]string{}
	for _, m := range sets {
		pg, err := fs.Glob(m.FS, string(Postgres)+"/*.sql")
		if err != nil {
			return nil, fmt.Errorf("store: migrations of %s: %w", m.Owner, err)
		}
		lite, err := fs.Glob(m.FS, string(SQLite)+"/*.sql")
		if err != nil {
			return nil, fmt.Errorf("store: migrations of %s: %w", m.Owner, err)
		}
		names := baseNames(pg)
		if other := baseNames(lite); !slices.Equal(names, other) {
			return nil, fmt.Errorf("store: migrations of %s differ between dialects: postgres has %v, sqlite %v",
				m.Owner, names, other)
		}
		for _, name := range names {
			v, err := goose.NumericComponent(name)
			if err != nil {
				return nil, fmt.Errorf("store: migration %s of %s: %w", name, m.Owner, err)
			}
			if prev, dup := owner[v]; dup {
				return nil, fmt.Errorf("store: migration version %d is both %s and %s/%s", v, prev, m.Owner, name)
			}
			owner[v] = m.Owner + "/" + name
			data, err := fs.ReadFile(m.FS, string(d)+"/"+name)
			if err != nil {
				return nil, fmt.Errorf("store: migrations of %s: %w", m.Owner, err)
			}
			merged[name] = &fstest.MapFile{Data: data, Mode: 0o444}
		}
	}
	return merged, nil
}

func baseNames(paths []string) []string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = path.Base(p)
	}
	return names
}

func (db *DB) gooseProvider() (*goose.Provider, func(), error) {
	dialect := goose.DialectSQLite3
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	sqldb := db.sqldb
	closeFn := func() {}
	if db.pool != nil {
		sqldb = stdlib.OpenDBFromPool(db.pool)
		closeFn = func() { _ = sqldb.Close() }
	}
	// Out-of-order lets a feature's migration numbered below an applied one
	// still apply (a branch merged after a later number shipped).
	p, err := goose.NewProvider(dialect, sqldb, db.migrations, goose.WithAllowOutofOrder(true))
	if err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, closeFn, nil
}

// MigrationResult lists what Migrate applied.
type MigrationResult struct {
	Applied []string
}

// Migrate applies Tend's migrations and River's, in that order, and is a
// no-op when both are current.
func (db *DB) Migrate(ctx context.Context) (MigrationResult, error) {
	var res MigrationResult
	p, closeFn, err := db.gooseProvider()
	if err != nil {
		return res, err
	}
	defer closeFn()
	results, err := p.Up(ctx)
	if err != nil {
		return res, fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range results {
		res.Applied = append(res.Applied, r.Source.Path)
	}
	if db.pool != nil {
		m, err := rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{Schema: db.schema})
		if err != nil {
			return res, fmt.Errorf("store: river migrate: %w", err)
		}
		rr, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return res, fmt.Errorf("store: river migrate: %w", err)
		}
		for _, v := range rr.Versions {
			res.Applied = append(res.Applied, fmt.Sprintf("river/%03d_%s", v.Version, v.Name))
		}
		// Connections opened before the vector extension existed have no
		// codec for it; start fresh ones.
		db.pool.Reset()
	} else {
		m, err := rivermigrate.New(riversqlite.New(db.sqldb), nil)
		if err != nil {
			return res, fmt.Errorf("store: river migrate: %w", err)
		}
		rr, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return res, fmt.Errorf("store: river migrate: %w", err)
		}
		for _, v := range rr.Versions {
			res.Applied = append(res.Applied, fmt.Sprintf("river/%03d_%s", v.Version, v.Name))
		}
	}
	return res, nil
}

// MigrationsPending reports whether any of Tend's or River's migrations is
// not yet applied; readiness fails while it is true.
func (db *DB) MigrationsPending(ctx context.Context) (bool, error) {
	p, closeFn, err := db.gooseProvider()
	if err != nil {
		return false, err
	}
	defer closeFn()
	pending, err := p.HasPending(ctx)
	if err != nil || pending {
		return pending, err
	}
	return db.riverPending(ctx)
}

func (db *DB) riverPending(ctx context.Context) (bool, error) {
	if db.pool != nil {
		m, err := rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{Schema: db.schema})
		if err != nil {
			return false, err
		}
		res, err := m.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: true})
		if err != nil {
			return false, err
		}
		return len(res.Versions) > 0, nil
	}
	m, err := rivermigrate.New(riversqlite.New(db.sqldb), nil)
	if err != nil {
		return false, err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: true})
	if err != nil {
		return false, err
	}
	return len(res.Versions) > 0, nil
}
