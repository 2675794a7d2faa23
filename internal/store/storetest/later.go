package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
)

// testLaterWrites: held-back writes (on PostgreSQL they travel with the
// next statement or the COMMIT) keep their order and their results, and
// their errors undo the transaction as any error does.
func testLaterWrites(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := newConversation(t, db, "later")
	body := []byte(`{"text":"hi"}`)
	out := func(seq int64) *store.Outbound {
		return &store.Outbound{ConversationID: c.ID, Seq: seq, Channel: "web", Body: body, CreatedAt: t0}
	}

	// Held-back inserts get their ids by the time the next statement
	// returns, which sees them; a held-back save is written by the commit.
	var a, b *store.Outbound
	require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
		conv, err := tx.LockConversation(ctx, c.ID)
		require.NoError(t, err)
		a, b = out(1), out(2)
		require.NoError(t, tx.InsertOutboundLater(ctx, a))
		require.NoError(t, tx.InsertOutboundLater(ctx, b))
		counts, err := tx.CountOutboundByStatus(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, map[string]int{"queued": 2}, counts, "the next statement sees the held-back writes")
		require.NotZero(t, a.ID)
		require.Greater(t, b.ID, a.ID, "held-back writes run in order")
		conv.Dialog, conv.NextOutSeq = "later-dialog", 2
		return tx.SaveConversationLater(ctx, &conv, t0)
	}))
	got, err := db.Q().GetConversation(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "later-dialog", got.Dialog, "the save went out with the commit")
	require.Equal(t, int64(2), got.NextOutSeq)

	// An id is set at the commit when no statement follows.
	var last *store.Outbound
	require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
		last = out(3)
		return tx.InsertOutboundLater(ctx, last)
	}))
	require.NotZero(t, last.ID)
	stored, err := db.Q().GetOutbound(ctx, last.ID)
	require.NoError(t, err)
	require.Equal(t, int64(3), stored.Seq)

	// A held-back write that fails (seq 2 is taken) fails the commit it
	// travels with, and takes the transaction's other writes with it.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		conv, err := tx.LockConversation(ctx, c.ID)
		require.NoError(t, err)
		conv.Dialog = "must-not-stay"
		if err := tx.SaveConversationLater(ctx, &conv, t0); err != nil {
			return err
		}
		return tx.InsertOutboundLater(ctx, out(2))
	})
	require.Error(t, err, "the duplicate seq fails the commit")
	got, err = db.Q().GetConversation(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "later-dialog", got.Dialog, "nothing of the failed transaction stayed")

	// ... and fails the statement it travels with, when one follows.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertOutboundLater(ctx, out(1)); err != nil {
			return err
		}
		_, err := tx.CountOutboundByStatus(ctx, c.ID)
		return err
	})
	require.Error(t, err, "the duplicate seq fails the next statement")

	// A rollback drops what is held back.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertOutboundLater(ctx, out(9)); err != nil {
			return err
		}
		return context.Canceled
	})
	require.ErrorIs(t, err, context.Canceled)
	counts, err := db.Q().CountOutboundByStatus(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"queued": 3}, counts, "only the three committed replies")

	// Held-back writes go out before a savepoint, so rolling back to the
	// savepoint keeps them.
	if db.Dialect() == store.Postgres {
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			// Two held-back writes (the first updates no row) before the savepoint.
			if err := tx.FinishInboundLater(ctx, -1, store.InboundDone, "", t0); err != nil {
				return err
			}
			o := out(4)
			if err := tx.InsertOutboundLater(ctx, o); err != nil {
				return err
			}
			sp, err := tx.PgxTx().Begin(ctx)
			if err != nil {
				return err
			}
			require.NotZero(t, o.ID, "the savepoint sent what was held back")
			if _, err := sp.Exec(ctx, `DELETE FROM outbound_messages WHERE id = $1`, o.ID); err != nil {
				return err
			}
			return sp.Rollback(ctx)
		}))
		counts, err = db.Q().CountOutboundByStatus(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, map[string]int{"queued": 4}, counts)
	}

	// The pool's connections all came back usable, outside any transaction.
	for range 12 {
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.CountOutboundByStatus(ctx, c.ID)
			return err
		}))
	}
}
