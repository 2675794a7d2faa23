// Package store is Tend's persistence: one set of repository methods written
// once in portable SQL and run on either embedded SQLite (modernc.org/sqlite)
// or PostgreSQL (pgx), with the few dialect differences (locking, vector and
// full-text search) kept behind the Dialect value.
//
// Times are timestamptz in PostgreSQL and integer microseconds since the epoch
// in SQLite; the SQLite adapter converts time.Time arguments and scan targets
// so repository code handles time.Time on both.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/sealed"
)

// Dialect names the database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// querier is what both pgx and database/sql offer, in one shape.
type querier interface {
	exec(ctx context.Context, sql string, args ...any) (int64, error)
	query(ctx context.Context, sql string, args ...any) (rows, error)
	queryRow(ctx context.Context, sql string, args ...any) row
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type row interface {
	Scan(dest ...any) error
}

// Enqueuer inserts durable jobs inside a store transaction. The jobs package
// provides it, wrapping River's client for the database in use.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx *Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// DB is an open store.
type DB struct {
	dialect Dialect
	q       querier
	pool    *pgxpool.Pool // postgres only
	// lockPool holds the connections that keep session advisory locks
	// (LockKey), apart from the query pool: a lock holder also needs query
	// connections, and sharing one pool lets lock holders starve it.
	lockPool     *pgxpool.Pool
	lockPoolOnce sync.Once
	lockPoolErr  error
	pgConfig     *pgxpool.Config
	// sessionConfig, when Options.SessionURL is set, is where the locks and
	// River's listener connect (session.go).
	sessionConfig  *pgxpool.Config
	listenPool     *pgxpool.Pool
	listenPoolOnce sync.Once
	listenPoolErr  error
	sqldb          *sql.DB // sqlite only: the single writer connection
	schema         string  // postgres schema in use (search_path), "" for default
	log            *slog.Logger
	migrations     fs.FS // every owner's migrations for this dialect, merged (migrate.go)

	// writer, on SQLite, lets one transaction of this process at a time ask
	// for the database's write lock, in arrival order (see gateWriter).
	writer chan struct{}

	enqMu sync.RWMutex
	enq   Enqueuer

	locks keyedMutex

	// keys seal personal data at rest (sealing.go); nil is plaintext.
	keys atomic.Pointer[sealed.Keyring]
}

// Dialect tells which database is behind the store.
func (db *DB) Dialect() Dialect { return db.dialect }

// Pool is the pgx pool (PostgreSQL only, nil otherwise).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// SQLDB is the database/sql handle (SQLite only, nil otherwise).
func (db *DB) SQLDB() *sql.DB { return db.sqldb }

// Schema is the PostgreSQL schema this store uses ("" for the default search path).
func (db *DB) Schema() string { return db.schema }

// SetEnqueuer attaches the job queue used by Tx.Enqueue.
func (db *DB) SetEnqueuer(e Enqueuer) {
	db.enqMu.Lock()
	db.enq = e
	db.enqMu.Unlock()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.pool != nil {
		return db.pool.Ping(ctx)
	}
	return db.sqldb.PingContext(ctx)
}

// Close releases the database.
func (db *DB) Close() error {
	if db.pool != nil {
		db.closeSessionPools()
		db.pool.Close()
		return nil
	}
	return db.sqldb.Close()
}

// Tx is one transaction. Repository methods exist on both DB (auto-commit)
// and Tx through the shared Q type.
type Tx struct {
	Q
	db    *DB
	pgTx  pgx.Tx
	sqlTx *sql.Tx
	after []func()
}

// PgxTx is the underlying pgx transaction (PostgreSQL only).
func (tx *Tx) PgxTx() pgx.Tx { return tx.pgTx }

// SQLTx is the underlying database/sql transaction (SQLite only).
func (tx *Tx) SQLTx() *sql.Tx { return tx.sqlTx }

// Enqueue inserts a durable job that becomes visible only if the transaction commits.
func (tx *Tx) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	tx.db.enqMu.RLock()
	enq := tx.db.enq
	tx.db.enqMu.RUnlock()
	if enq == nil {
		return errors.New("store: no job queue attached")
	}
	return enq.InsertTx(ctx, tx, args, opts)
}

// AfterCommit runs fn once the transaction has committed (not on rollback).
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// Querier is the transaction's Q; it makes *Tx a Work.
func (tx *Tx) Querier() Q { return tx.Q }

// Work is a transaction lent to code that runs inside it without owning it:
// a domain service called from a dialog's turn (bot.Turn.Work) or from a
// staff action (a *Tx). It reads and writes through Querier and enqueues
// jobs that commit with the transaction; it cannot commit, hold writes back
// or reach the driver.
type Work interface {
	Querier() Q
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Q carries the repository methods; it runs on a pool or inside a transaction.
type Q struct {
	q       querier
	dialect Dialect
	keys    *sealed.Keyring
	// nowait makes the conversation locks fail with ErrBusy instead of
	// waiting for another transaction (NoWait).
	nowait bool
}

// Q returns auto-commit access to the repository methods.
func (db *DB) Q() Q { return Q{q: db.q, dialect: db.dialect, keys: db.keys.Load()} }

// Write runs fn's auto-commit statements (db.Q()) in this process's turn to
// write to SQLite (gateWriter). A write outside a transaction that meets the
// lock held by a turn sleeps in SQLite's busy handler (1, 2, 5 ... 100 ms)
// and loses to the turns queued at the gate again and again: the web chat's
// session touch waited up to 1.5 s under 16 senders (docs/performance.md).
// On PostgreSQL fn runs on db.Q() at once.
func (db *DB) Write(ctx context.Context, fn func(Q) error) error {
	if db.writer != nil {
		release, err := db.gateWriter(ctx)
		if err != nil {
			return err
		}
		defer release()
	}
	return fn(db.Q())
}

// InTx runs fn in a transaction, committing when it returns nil. Transient
// conflicts (SQLite busy, PostgreSQL serialization failure or deadlock) are
// retried a few times with a short pause, so fn must be safe to run again.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 10 * time.Millisecond):
			}
		}
		err = db.inTxOnce(ctx, fn)
		if err == nil || !isRetryable(err) {
			return err
		}
	}
	return err
}

func (db *DB) inTxOnce(ctx context.Context, fn func(*Tx) error) (err error) {
	tx := &Tx{db: db}
	if db.pool != nil {
		ptx, berr := beginLazy(ctx, db.pool)
		if berr != nil {
			return fmt.Errorf("store: begin: %w", berr)
		}
		tx.pgTx = ptx
		tx.Q = Q{q: pgxQuerier{ptx}, dialect: db.dialect, keys: db.keys.Load()}
		defer func() {
			if err != nil {
				_ = ptx.Rollback(context.WithoutCancel(ctx))
			}
		}()
	} else {
		release, gerr := db.gateWriter(ctx)
		if gerr != nil {
			return fmt.Errorf("store: begin: %w", gerr)
		}
		defer release()
		stx, berr := db.sqldb.BeginTx(ctx, nil)
		if berr != nil {
			return fmt.Errorf("store: begin: %w", berr)
		}
		tx.sqlTx = stx
		tx.Q = Q{q: sqliteQuerier{stx}, dialect: db.dialect, keys: db.keys.Load()}
		defer func() {
			if err != nil {
				_ = stx.Rollback()
			}
		}()
	}
	// A panic in fn must not leave the transaction (and its connection) open.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: transaction panicked: %v", p)
			if tx.pgTx != nil {
				_ = tx.pgTx.Rollback(context.WithoutCancel(ctx))
			} else {
				_ = tx.sqlTx.Rollback()
			}
			panic(p)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if tx.pgTx != nil {
		err = tx.pgTx.Commit(ctx)
	} else {
		err = tx.sqlTx.Commit()
	}
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

// gateWriter waits for this process's turn to write to SQLite. SQLite has one
// writer; a transaction that finds the lock taken sleeps in its busy handler
// (1, 2, 5 ... up to 100 ms a time) and may lose to newcomers again and
// again: with 16 concurrent senders some waited 3 s. Waiting here instead
// is first come, first served. Another process (a `tend kb sync` beside
// `tend serve`) still meets the busy handler. A wait longer than SQLite's
// busy timeout falls back to it, so a transaction opened inside another
// (a bug) stalls for the timeout instead of for ever.
func (db *DB) gateWriter(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(sqliteBusyTimeout)
	defer t.Stop()
	select {
	case db.writer <- struct{}{}:
		return func() { <-db.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		db.log.Warn("store: waited for the SQLite writer longer than the busy timeout; going on without the gate")
		return func() {}, nil
	}
}

// LockKey holds a lock named key until unlock is called: within the process
// by a mutex, and across replicas on PostgreSQL by a session advisory lock on
// a dedicated connection. No transaction stays open while it is held, so the
// holder may make network calls.
func (db *DB) LockKey(ctx context.Context, key string) (unlock func(), err error) {
	release := db.locks.lock(key)
	if db.pool == nil {
		return release, nil
	}
	lp, err := db.lockConnPool()
	if err != nil {
		release()
		return nil, fmt.Errorf("store: lock %s: %w", key, err)
	}
	conn, err := lp.Acquire(ctx)
	if err != nil {
		release()
		return nil, fmt.Errorf("store: lock %s: %w", key, err)
	}
	id := lockID(key)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		conn.Release()
		release()
		return nil, fmt.Errorf("store: lock %s: %w", key, err)
	}
	return func() {
		// A failed unlock would leave the lock held by a pooled connection:
		// destroy that connection instead, which releases it for certain.
		if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", id); err != nil {
			_ = conn.Conn().Close(context.Background())
		}
		conn.Release()
		release()
	}, nil
}

// lockConnPool's connections may hold advisory locks at once, as many as
// the query pool's: locks are held by running jobs (deliveries, a sync),
// and those are fewer than the query connections (jobs.New); more lockers
// wait for one (never for a query connection). A replica thus opens at most
// twice its pool size, plus River's listener.
func (db *DB) lockConnPool() (*pgxpool.Pool, error) {
	db.lockPoolOnce.Do(func() {
		cfg := db.sessionBase()
		cfg.MaxConns = db.pgConfig.MaxConns
		cfg.MinConns = 0
		cfg.MaxConnIdleTime = time.Minute
		db.lockPool, db.lockPoolErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	return db.lockPool, db.lockPoolErr
}

func lockID(key string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("tend:" + key))
	return int64(h.Sum64())
}

// keyedMutex is a set of mutexes created on demand and dropped when unused.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedEntry)
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
