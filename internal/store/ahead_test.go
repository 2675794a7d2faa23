package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

const aheadProbe = `SELECT key, value, updated_at FROM kv WHERE key LIKE 'ahead-%' ORDER BY key`

type kvRow struct {
	key, value string
	at         time.Time
}

func readProbe(ctx context.Context, q store.Q) ([]kvRow, error) {
	return store.Collect[kvRow](q.Query(ctx, aheadProbe))(func(r store.Row) (kvRow, error) {
		var k kvRow
		err := r.Scan(&k.key, &k.value, &k.at)
		return k, err
	})
}

// TestReadAhead: a read sent ahead gives the transaction's first query of
// it the rows that query would have read (types, NULLs, no rows), once; a
// second query reads again and sees the transaction's own writes; a read
// sent ahead and not used changes nothing. On both stores.
func TestReadAhead(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 8, 1, 2, 3, 456000, time.UTC)
		require.NoError(t, db.Q().PutKV(ctx, "ahead-a", "1", at))
		require.NoError(t, db.Q().PutKV(ctx, "ahead-b", "2", at))
		want, err := readProbe(ctx, db.Q())
		require.NoError(t, err)
		require.Len(t, want, 2)

		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			tx.ReadAhead(aheadProbe)
			tx.ReadAhead(`SELECT value FROM kv WHERE key = 'ahead-none'`)
			tx.ReadAhead(`SELECT NULL::text, 7::bigint`)
			conv, _, err := tx.OpenConversation(ctx, "web", "ahead-chat", "en", at)
			require.NoError(t, err)
			require.NotZero(t, conv.ID)
			got, err := readProbe(ctx, tx.Q)
			require.NoError(t, err)
			require.Equal(t, want, got, "the rows sent ahead are the query's")
			var v string
			require.ErrorIs(t, tx.QueryRow(ctx, `SELECT value FROM kv WHERE key = 'ahead-none'`).Scan(&v), store.ErrNotFound)
			if db.Dialect() == store.Postgres {
				var s *string
				var n int64
				require.NoError(t, tx.QueryRow(ctx, `SELECT NULL::text, 7::bigint`).Scan(&s, &n))
				require.Nil(t, s)
				require.Equal(t, int64(7), n)
			}
			require.NoError(t, tx.PutKV(ctx, "ahead-c", "3", at))
			got, err = readProbe(ctx, tx.Q)
			require.NoError(t, err)
			require.Len(t, got, 3, "a second query reads again")
			return nil
		}))

		// Sent ahead, never queried: the transaction commits as without it.
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			tx.ReadAhead(aheadProbe)
			return tx.PutKV(ctx, "ahead-d", "4", at)
		}))
		got, err := readProbe(ctx, db.Q())
		require.NoError(t, err)
		require.Len(t, got, 4)
	})
}

// TestReadAheadRoundTrips: on PostgreSQL the reads sent ahead travel with
// the transaction's first statement (and BEGIN), and a reply's insert,
// whose id is only collected, with the COMMIT: a transaction of a read
// ahead, a write, the read and a held-back insert is two round trips.
func TestReadAheadRoundTrips(t *testing.T) {
	t.Parallel()
	var trips tripCount
	db := storetest.OpenPostgresTraced(t, &trips)
	ctx := context.Background()
	at := time.Now()
	conv, _, err := db.Q().OpenConversation(ctx, "web", "ahead-trips", "en", at)
	require.NoError(t, err)
	run := func(seq int64) (store.Outbound, error) {
		o := store.Outbound{ConversationID: conv.ID, Seq: seq, Channel: "web", Body: []byte(`{"text":"hi"}`), CreatedAt: at}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			tx.ReadAhead(aheadProbe)
			if err := tx.PutKV(ctx, "ahead-trips", "x", at); err != nil {
				return err
			}
			if _, err := readProbe(ctx, tx.Q); err != nil {
				return err
			}
			return tx.InsertOutboundLater(ctx, &o)
		})
		return o, err
	}
	_, err = run(1) // pgx prepares its statements the first time
	require.NoError(t, err)
	trips.n.Store(0)
	o, err := run(2)
	require.NoError(t, err)
	require.Equal(t, int64(2), trips.n.Load(), "round trips")
	require.NotZero(t, o.ID, "the id collected with the COMMIT")
	stored, err := db.Q().GetOutbound(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, int64(2), stored.Seq)
}

// tripCount counts what pgx sends and waits for.
type tripCount struct{ n atomic.Int64 }

func (c *tripCount) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *tripCount) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *tripCount) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *tripCount) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *tripCount) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
