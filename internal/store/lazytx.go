package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is a PostgreSQL transaction whose BEGIN travels with its first
// statement in one pgx batch (pgx's Batch.BeginTx), one network round trip,
// instead of taking a round trip of its own. Accepting a webhook is three
// statements (conversation and message, River's job insert, commit) and on
// a small machine each round trip costs a write and a wake-up on both
// sides, a third of the process's CPU. After the first statement it is
// pgx's own transaction.
type lazyTx struct {
	conn   *pgxpool.Conn
	tx     pgx.Tx // nil until BEGIN has been sent
	closed bool
}

var _ pgx.Tx = (*lazyTx)(nil)

func beginLazy(ctx context.Context, pool *pgxpool.Pool) (*lazyTx, error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &lazyTx{conn: c}, nil
}

// first sends BEGIN and one statement together; the caller reads the
// statement's result from the batch and closes it.
func (t *lazyTx) first(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	var b pgx.Batch
	b.BeginTx(pgx.TxOptions{})
	b.Queue(sql, args...)
	br := t.conn.SendBatch(ctx, &b)
	if _, err := br.Exec(); err != nil {
		return nil, errors.Join(err, br.Close())
	}
	t.tx = br.Tx()
	return br, nil
}

// ensureBegun sends BEGIN on its own, for what cannot share a batch with it.
func (t *lazyTx) ensureBegun(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if t.tx != nil {
		return nil
	}
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return err
	}
	t.tx = tx
	return nil
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	if t.tx != nil {
		return t.tx.Exec(ctx, sql, args...)
	}
	br, err := t.first(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, errors.Join(err, br.Close())
}

func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.closed {
		return nil, pgx.ErrTxClosed
	}
	if t.tx != nil {
		return t.tx.Query(ctx, sql, args...)
	}
	br, err := t.first(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, errors.Join(err, br.Close())
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.tx != nil && !t.closed {
		return t.tx.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	return &lazyRow{rows: rows, err: err}
}

func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.ensureBegun(ctx); err != nil {
		return 0, err
	}
	return t.tx.CopyFrom(ctx, table, cols, src)
}

func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := t.ensureBegun(ctx); err != nil {
		return errBatch{err}
	}
	return t.tx.SendBatch(ctx, b)
}

func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := t.ensureBegun(ctx); err != nil {
		return nil, err
	}
	return t.tx.Prepare(ctx, name, sql)
}

// LargeObjects needs a transaction that has begun (nothing here uses them).
func (t *lazyTx) LargeObjects() pgx.LargeObjects {
	if t.tx == nil {
		panic("store: large objects need a statement first in a transaction")
	}
	return t.tx.LargeObjects()
}

func (t *lazyTx) Conn() *pgx.Conn { return t.conn.Conn() }

// Begin starts a nested transaction (a savepoint).
func (t *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.ensureBegun(ctx); err != nil {
		return nil, err
	}
	return t.tx.Begin(ctx)
}

// Commit commits (nothing to do when no statement ran) and returns the
// connection to the pool, which drops it if it is left in a transaction.
func (t *lazyTx) Commit(ctx context.Context) error {
	return t.end(func(tx pgx.Tx) error { return tx.Commit(ctx) })
}

// Rollback rolls back and returns the connection to the pool.
func (t *lazyTx) Rollback(ctx context.Context) error {
	return t.end(func(tx pgx.Tx) error { return tx.Rollback(ctx) })
}

// end closes the transaction with finish, if it ever began, and releases
// the connection.
func (t *lazyTx) end(finish func(pgx.Tx) error) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	defer t.conn.Release()
	if t.tx == nil {
		return nil
	}
	return finish(t.tx)
}

// batchRows closes the batch that carried BEGIN once its rows are read.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	err    error
	closed bool
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// lazyRow is QueryRow's result: the first row, as pgx's own does it.
type lazyRow struct {
	rows pgx.Rows
	err  error
}

func (r *lazyRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// errBatch is the result of a batch that could not be sent.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return &lazyRow{err: b.err} }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
