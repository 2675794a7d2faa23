package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"
	"modernc.org/sqlite"

	"github.com/tend-health/tend/internal/sealed"
)

// Options says which database to open.
type Options struct {
	// PostgresURL selects PostgreSQL when set.
	PostgresURL string
	// Schema, on PostgreSQL, puts every table in this schema (created if
	// missing); tests use one schema each.
	Schema string
	// SQLitePath is the embedded database file (used when PostgresURL is empty).
	SQLitePath string
	// MaxConns caps the PostgreSQL pool (0 means 16, or pool_max_conns in
	// the URL); the advisory-lock connections are capped alike.
	MaxConns int32
	// SessionURL, on PostgreSQL, is a connection in session mode for the
	// advisory locks and River's LISTEN, so that PostgresURL may go through
	// a pooler in transaction mode (session.go).
	SessionURL string
	Logger     *slog.Logger
	// Tracer, on PostgreSQL, sees every statement and batch (tests count
	// round trips with it).
	Tracer pgx.QueryTracer
	// Keys seal personal data at rest (see SetKeyring); nil stores it as
	// plaintext.
	Keys *sealed.Keyring
	// Migrations are the schema of the packages that own tables beside the
	// store's own (internal/schema.All); Migrate applies them with the
	// store's as one ordered set.
	Migrations []Migrations
}

// Open connects to the database. It does not migrate: call Migrate.
func Open(ctx context.Context, o Options) (*DB, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	open, dialect := openSQLite, SQLite
	if o.PostgresURL != "" {
		open, dialect = openPostgres, Postgres
	}
	migrations, err := mergeMigrations(dialect, append([]Migrations{coreMigrations()}, o.Migrations...))
	if err != nil {
		return nil, err
	}
	db, err := open(ctx, o, log)
	if err != nil {
		return nil, err
	}
	db.migrations = migrations
	db.SetKeyring(o.Keys)
	return db, nil
}

// sqliteBusyTimeout is how long a SQLite statement waits for another's lock.
const sqliteBusyTimeout = 10 * time.Second

func openSQLite(ctx context.Context, o Options, log *slog.Logger) (*DB, error) {
	if o.SQLitePath == "" {
		return nil, errors.New("store: no SQLite path")
	}
	if dir := filepath.Dir(o.SQLitePath); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	// WAL lets readers run beside the one writer; immediate transactions take
	// the write lock at BEGIN so the busy timeout applies instead of failing
	// on a lock upgrade.
	q := url.Values{}
	busy := fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds())
	for _, p := range []string{"journal_mode(WAL)", busy, "foreign_keys(ON)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + o.SQLitePath + "?" + q.Encode()
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	sqldb := sql.OpenDB(stmtCacheConnector{base})
	sqldb.SetMaxOpenConns(4)
	sqldb.SetMaxIdleConns(4)
	sqldb.SetConnMaxLifetime(0)
	if err := sqldb.PingContext(ctx); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", o.SQLitePath, err)
	}
	return &DB{dialect: SQLite, q: sqliteQuerier{sqldb}, sqldb: sqldb, writer: make(chan struct{}, 1), log: log}, nil
}

func openPostgres(ctx context.Context, o Options, log *slog.Logger) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(o.PostgresURL)
	if err != nil {
		return nil, errors.New("store: DATABASE_URL is not a valid PostgreSQL URL")
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	} else if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	if o.Tracer != nil {
		cfg.ConnConfig.Tracer = o.Tracer
	}
	if o.Schema != "" {
		if err := ensureSchema(ctx, o.PostgresURL, o.Schema); err != nil {
			return nil, err
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.Schema}.Sanitize() + ", public"
	}
	db := &DB{dialect: Postgres, pgConfig: cfg, schema: o.Schema, log: log}
	if err := db.configureSession(o, cfg); err != nil {
		return nil, err
	}
	// The vector type exists only after the extension is created, so register
	// it lazily: a connection made before migrations ran skips registration
	// and the pool is reset after migrating.
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		// Times come back in UTC on both databases, whatever the server's zone.
		conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'vector')").Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return nil
		}
		return pgxvec.RegisterTypes(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect postgres: %w", redactURL(err, o.PostgresURL))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect postgres: %w", redactURL(err, o.PostgresURL))
	}
	db.q, db.pool = pgxQuerier{pool}, pool
	return db, nil
}

func ensureSchema(ctx context.Context, dsn, schema string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("store: connect postgres: %w", redactURL(err, dsn))
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	return err
}

// redactURL keeps a password in the URL out of error messages.
func redactURL(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}
