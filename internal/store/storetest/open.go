// Package storetest opens real databases for tests, one isolated database
// (SQLite file) or schema (PostgreSQL) per test, and holds the store
// conformance suite that both must pass.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	tendschema "github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
)

// DefaultPostgresURL is the test database that `make test` creates.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/tend_test?sslmode=disable"

// PostgresURL is the test database URL: TEND_TEST_DATABASE_URL or the default.
func PostgresURL() string {
	if u := os.Getenv("TEND_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// RequireInCI fails the test under CI=true and skips it otherwise: a missing
// service must not pass silently in CI.
func RequireInCI(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (set CI=true to make this a failure)", args...)
}

// OpenSQLite returns a migrated SQLite store in a temporary directory.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	return OpenSQLiteAt(t, filepath.Join(t.TempDir(), "tend.db"))
}

// OpenSQLiteAt returns a migrated SQLite store at path (kept by the caller).
func OpenSQLiteAt(t testing.TB, path string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: path, Migrations: tendschema.All()})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// NewSchemaName returns a fresh schema name for one test.
func NewSchemaName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t_" + hex.EncodeToString(b)
}

// OpenPostgres returns a migrated PostgreSQL store in a schema of its own,
// dropped when the test ends.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	return OpenPostgresTraced(t, nil)
}

// OpenPostgresSchema opens (and migrates) a store on an existing or new
// schema without dropping it, so a test can open it twice, as two replicas do.
func OpenPostgresSchema(t testing.TB, schema string) *store.DB {
	t.Helper()
	return openPostgres(t, schema, nil)
}

// OpenPostgresTraced is OpenPostgres with a pgx tracer on every connection.
func OpenPostgresTraced(t testing.TB, tracer pgx.QueryTracer) *store.DB {
	t.Helper()
	schema := NewSchemaName()
	db := openPostgres(t, schema, tracer)
	t.Cleanup(func() { DropSchema(t, schema) })
	return db
}

func openPostgres(t testing.TB, schema string, tracer pgx.QueryTracer) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe, err := pgx.Connect(ctx, PostgresURL())
	if err != nil {
		RequireInCI(t, "PostgreSQL not reachable at %s: %v", PostgresURL(), err)
	}
	var hasVector bool
	_ = probe.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')").Scan(&hasVector)
	_ = probe.Close(ctx)
	if !hasVector {
		RequireInCI(t, "the vector extension is not installed in the test database; run scripts/setup.sh")
	}
	db, err := store.Open(ctx, store.Options{PostgresURL: PostgresURL(), Schema: schema, MaxConns: 8, Tracer: tracer,
		Migrations: tendschema.All()})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// DropSchema removes a test schema.
func DropSchema(t testing.TB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, PostgresURL())
	if err != nil {
		t.Logf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("drop schema %s: %v", schema, err)
	}
}

// Each runs fn as a subtest once per database, each with a fresh store.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, OpenPostgres(t))
	})
}
