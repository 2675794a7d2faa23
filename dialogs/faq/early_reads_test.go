package faq_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

// TestEarlyReads: on PostgreSQL a question's turn sends its reads of the
// index's state and of the price lists' versions with its first statement
// (bot.Early.ReadAhead), and each saves the turn a round trip: without
// early work the turn runs them alone. (The catalog reads the versions
// again for some questions; a read sent ahead serves the first.) Should
// the catalog's or the base's read change its SQL, the one sent ahead goes
// unused and this fails.
func TestEarlyReads(t *testing.T) {
	t.Parallel()
	type count struct{ alone, ahead int }
	run := func(early bool) count {
		var reads aheadReads
		db := storetest.OpenPostgresTraced(t, &reads)
		h := pricesHarnessWith(t, db, faq.Options{NoEarly: !early})
		chat := newChat()
		h.send(chat, "how much is a brain MRI without dye?", "", "") // warm: the guesses, pgx's statements
		reads.reset()
		for _, q := range []string{"how much is a brain MRI without dye?", "where do I park?"} {
			require.NotEmpty(t, h.send(chat, q, "", "")[0].Text)
		}
		var c count
		c.alone, c.ahead = reads.counts()
		return c
	}
	inTurn, early := run(false), run(true)
	require.Zero(t, inTurn.ahead)
	require.Equal(t, 4, early.ahead, "both reads sent ahead, for both questions")
	require.Equal(t, inTurn.alone-4, early.alone, "each read sent ahead saved one of the turn's")
}

// aheadReads counts the two reads, sent alone or in a batch.
type aheadReads struct {
	mu           sync.Mutex
	alone, ahead int
}

func isAheadRead(sql string) bool {
	return sql == knowledge.StateQuery || sql == prices.ListsVersionQuery
}

func (r *aheadReads) reset() { r.mu.Lock(); r.alone, r.ahead = 0, 0; r.mu.Unlock() }

func (r *aheadReads) counts() (int, int) { r.mu.Lock(); defer r.mu.Unlock(); return r.alone, r.ahead }

func (r *aheadReads) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if isAheadRead(d.SQL) {
		r.mu.Lock()
		r.alone++
		r.mu.Unlock()
	}
	return ctx
}

func (r *aheadReads) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *aheadReads) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range d.Batch.QueuedQueries {
		if isAheadRead(q.SQL) {
			r.ahead++
		}
	}
	return ctx
}

func (r *aheadReads) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (r *aheadReads) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
