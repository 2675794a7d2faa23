package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Writes whose results a transaction does not need at once. On PostgreSQL
// they are held back and travel in one round trip with the transaction's
// next statement, or with its COMMIT (see lazyTx); an engine turn is then
// three round trips, not five. On SQLite, with no network between the
// process and its database, they run at once.
//
// A held-back write's error comes back from the statement or the commit it
// travels with, never lost: either way the transaction does not commit.
// Because a write with no result to read may go out with COMMIT, nothing can
// be checked in Go between it and the commit (SaveConversationLater cannot
// count the rows it updated); the callers lock what they write first, which
// is what makes the row certain to be there.

// later runs sql: held back on PostgreSQL, at once on SQLite. read, when
// set, gets the statement's rows when they arrive.
func (tx *Tx) later(ctx context.Context, sql string, args []any, read func(Rows) error) error {
	return tx.laterRead(ctx, sql, args, read, false)
}

// laterRead is later; with collect, read only copies the result out and
// refuses nothing (its error means a broken invariant, not a refusal), so
// the statement may travel with COMMIT. Should it fail there all the same,
// the transaction has committed and the commit returns its error: the
// caller sees a failure for work that is done, and a message's retry finds
// it by its id.
func (tx *Tx) laterRead(ctx context.Context, sql string, args []any, read func(Rows) error, collect bool) error {
	if lt, ok := tx.pgTx.(*lazyTx); ok {
		var r func(pgx.Rows) error
		if read != nil {
			r = func(rs pgx.Rows) error { return read(rs) }
		}
		return lt.hold(heldStmt{sql: sql, args: args, read: r, collect: collect && read != nil})
	}
	if read == nil {
		_, err := tx.q.exec(ctx, sql, args...)
		return err
	}
	rs, err := tx.q.query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	if err := read(rs); err != nil {
		return err
	}
	rs.Close()
	return rs.Err()
}

// ExecLater runs a write whose result the transaction does not need (raw
// SQL, as Q.Exec), held back on PostgreSQL like the writes above. The rows
// it touches need no lock: a missing one is simply not written.
func (tx *Tx) ExecLater(ctx context.Context, sql string, args ...any) error {
	return tx.later(ctx, sql, args, nil)
}

// scanOne reads the single row of a result into dest.
func scanOne(rs Rows, dest ...any) error {
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return err
		}
		return ErrNotFound
	}
	return rs.Scan(dest...)
}

// SaveConversationLater is SaveConversation held back until the next
// statement or the commit. The conversation must be locked by this
// transaction (LockConversation, OpenWithInbound, or created in it): a
// held-back write cannot report a missing row before the commit.
func (tx *Tx) SaveConversationLater(ctx context.Context, c *Conversation, now time.Time) error {
	sql, args := tx.saveConversation(c, now)
	if err := tx.later(ctx, sql, args, nil); err != nil {
		return fmt.Errorf("store: save conversation %d: %w", c.ID, err)
	}
	return nil
}

// InsertOutboundLater is InsertOutbound held back: m.ID is set when the
// statement's result arrives, which is before the transaction's next
// statement returns (or at the commit, if none follows: the insert then
// travels with COMMIT, its id only collected).
func (tx *Tx) InsertOutboundLater(ctx context.Context, m *Outbound) error {
	sql, args := tx.insertOutbound(m)
	err := tx.laterRead(ctx, sql, args, func(rs Rows) error {
		if err := scanOne(rs, &m.ID); err != nil {
			return fmt.Errorf("store: insert outbound: %w", err)
		}
		return nil
	}, true)
	if err != nil {
		return fmt.Errorf("store: insert outbound: %w", err)
	}
	return nil
}

// FinishInboundLater is FinishInbound held back until the next statement or
// the commit.
func (tx *Tx) FinishInboundLater(ctx context.Context, id int64, status, errText string, now time.Time) error {
	if err := tx.later(ctx, finishInboundSQL, []any{id, status, errText, now}, nil); err != nil {
		return fmt.Errorf("store: finish inbound: %w", err)
	}
	return nil
}
