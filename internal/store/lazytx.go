package store

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is a PostgreSQL transaction that spends as few network round trips
// as it can. On a small machine each round trip costs a write and a wake-up
// on both sides, a third of the process's CPU, and an engine turn is bound
// by them, not by the work in the statements. So:
//
//   - BEGIN travels with the first statement in one pgx batch (pgx's
//     Batch.BeginTx) instead of taking a round trip of its own;
//   - a statement whose result the caller does not need at once (saving the
//     conversation, storing a reply) may be held back with later: it travels
//     in one batch with the transaction's next statement, or with COMMIT.
//
// Statements still run in the order they were issued. A held-back
// statement's error comes back from the statement or the commit it travelled
// with, and aborts the transaction as any error does.
type lazyTx struct {
	conn   *pgxpool.Conn
	tx     pgx.Tx // nil until BEGIN has been sent
	held   []heldStmt
	ahead  map[string]*aheadRead // reads sent ahead (ahead.go), by SQL
	closed bool
}

// heldStmt is a statement waiting for the next round trip; read, when set,
// receives its rows when they arrive (and must not keep them). A collecting
// read only copies the result out (a RETURNING id): it refuses nothing, so
// the statement may travel with COMMIT.
type heldStmt struct {
	sql     string
	args    []any
	read    func(pgx.Rows) error
	collect bool
}

var _ pgx.Tx = (*lazyTx)(nil)

func beginLazy(ctx context.Context, pool *pgxpool.Pool) (*lazyTx, error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &lazyTx{conn: c}, nil
}

// later holds a statement back until the next one is sent.
func (t *lazyTx) later(sql string, args []any, read func(pgx.Rows) error) error {
	return t.hold(heldStmt{sql: sql, args: args, read: read})
}

func (t *lazyTx) hold(h heldStmt) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.held = append(t.held, h)
	return nil
}

// direct reports whether a statement can go straight to pgx's transaction:
// BEGIN has been sent and nothing is held back.
func (t *lazyTx) direct() bool { return t.tx != nil && len(t.held) == 0 }

// send sends, in one batch, BEGIN if it has not been sent, the held-back
// statements, then sql. It reads the held-back statements' results; the
// caller reads sql's from the batch and closes it.
func (t *lazyTx) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	var b pgx.Batch
	begun := t.tx != nil
	if !begun {
		b.BeginTx(pgx.TxOptions{})
	}
	held := t.held
	t.held = nil
	for _, h := range held {
		b.Queue(h.sql, h.args...)
	}
	b.Queue(sql, args...)
	var br pgx.BatchResults
	if begun {
		br = t.tx.SendBatch(ctx, &b)
	} else {
		br = t.conn.SendBatch(ctx, &b)
		if _, err := br.Exec(); err != nil {
			return nil, errors.Join(err, br.Close())
		}
		t.tx = br.Tx()
	}
	for _, h := range held {
		if err := readHeld(br, h); err != nil {
			return nil, errors.Join(err, br.Close())
		}
	}
	return br, nil
}

func readHeld(br pgx.BatchResults, h heldStmt) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	if h.read != nil {
		err = h.read(rows)
	}
	rows.Close()
	return errors.Join(err, rows.Err())
}

// flush sends what is held back (and BEGIN), for what cannot share a batch
// with it: pgx's own batches, COPY, savepoints, prepares.
func (t *lazyTx) flush(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if t.direct() {
		return nil
	}
	if t.tx == nil && len(t.held) == 0 {
		tx, err := t.conn.Begin(ctx)
		if err != nil {
			return err
		}
		t.tx = tx
		return nil
	}
	held := t.held[len(t.held)-1]
	t.held = t.held[:len(t.held)-1]
	br, err := t.send(ctx, held.sql, held.args)
	if err != nil {
		return err
	}
	return errors.Join(readHeld(br, held), br.Close())
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	if t.direct() {
		return t.tx.Exec(ctx, sql, args...)
	}
	br, err := t.send(ctx, sql, args)
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
	if rows, ok := t.takeAhead(sql, args); ok {
		return rows, nil
	}
	if t.direct() {
		return t.tx.Query(ctx, sql, args...)
	}
	br, err := t.send(ctx, sql, args)
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
	if t.direct() && !t.closed && !t.hasAhead(sql, args) {
		return t.tx.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	return &lazyRow{rows: rows, err: err}
}

func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.tx.CopyFrom(ctx, table, cols, src)
}

func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := t.flush(ctx); err != nil {
		return errBatch{err}
	}
	return t.tx.SendBatch(ctx, b)
}

func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.tx.Prepare(ctx, name, sql)
}

// LargeObjects needs a transaction that has begun and holds nothing back
// (nothing here uses them).
func (t *lazyTx) LargeObjects() pgx.LargeObjects {
	if !t.direct() {
		panic("store: large objects need a statement first in a transaction")
	}
	return t.tx.LargeObjects()
}

// Conn is the transaction's connection; a statement run on it directly
// would overtake the held-back ones, so nothing here does.
func (t *lazyTx) Conn() *pgx.Conn { return t.conn.Conn() }

// Begin starts a nested transaction (a savepoint).
func (t *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.tx.Begin(ctx)
}

// Commit commits (nothing to do when no statement ran) and returns the
// connection to the pool. Held-back statements travel with the COMMIT, but
// only those whose results nobody reads or only collects (a reply's
// RETURNING id): their one way to fail is an SQL error, which turns the
// COMMIT into a rollback. A reader that checks what it reads could refuse
// after the COMMIT had run, so statements with one go out first.
func (t *lazyTx) Commit(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if slices.ContainsFunc(t.held, func(h heldStmt) bool { return h.read != nil && !h.collect }) {
		if err := t.flush(ctx); err != nil {
			_ = t.Rollback(ctx)
			return err
		}
	}
	if len(t.held) == 0 {
		return t.end(func(tx pgx.Tx) error { return tx.Commit(ctx) })
	}
	defer t.release()
	br, err := t.send(ctx, "COMMIT", nil)
	if err == nil {
		var tag pgconn.CommandTag
		tag, err = br.Exec()
		err = errors.Join(err, br.Close())
		if err == nil && tag.String() != "COMMIT" {
			err = pgx.ErrTxCommitRollback // an earlier error had aborted the transaction
		}
	}
	if err != nil && !t.conn.Conn().IsClosed() && t.conn.Conn().PgConn().TxStatus() != 'I' {
		// A held-back statement failed, so the COMMIT never ran: end the
		// transaction so that the connection can go back to the pool.
		_, _ = t.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
	}
	return err
}

// Rollback drops what is held back, rolls back and returns the connection
// to the pool.
func (t *lazyTx) Rollback(ctx context.Context) error {
	t.held = nil
	return t.end(func(tx pgx.Tx) error { return tx.Rollback(ctx) })
}

// end closes the transaction with finish, if it ever began, and releases
// the connection, which the pool drops if it is left in a transaction.
func (t *lazyTx) end(finish func(pgx.Tx) error) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	defer t.release()
	if t.tx == nil {
		return nil
	}
	return finish(t.tx)
}

func (t *lazyTx) release() {
	t.closed = true
	t.held = nil
	t.ahead = nil
	t.conn.Release()
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
