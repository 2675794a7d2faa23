package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestRoundTrips pins what a message costs in round trips to PostgreSQL: an
// engine turn on an existing conversation takes 3 (BEGIN with the lock and
// the message; the reply with its delivery job; the conversation's save
// with COMMIT), as does a webhook's message answered in its request
// (Receive); a webhook's accept 2 (BEGIN with the message and its job;
// COMMIT) and its handling job 4. On a small machine each is a system call and a wake-up on both
// sides, and they bound throughput (docs/performance.md).
//
// Encryption at rest (a key configured) costs CPU, not round trips: the
// counts are the same with personal data sealed.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	t.Run("plaintext", func(t *testing.T) { t.Parallel(); testRoundTrips(t, false) })
	t.Run("sealed", func(t *testing.T) { t.Parallel(); testRoundTrips(t, true) })
}

func testRoundTrips(t *testing.T, sealed bool) {
	var trips roundTrips
	db := storetest.OpenPostgresTraced(t, &trips)
	if sealed {
		storetest.Sealed(t, db)
	}
	e := apptest.New(t, db, apptest.Options{}).Engine
	ctx := context.Background()
	count := func(what string, n int, fn func(i int) error) float64 {
		trips.n.Store(0)
		for i := range n {
			require.NoError(t, fn(i), what)
		}
		return float64(trips.n.Load()) / float64(n)
	}
	// Warm up: the conversations exist, pgx has prepared its statements.
	count("warm-up", 3, func(i int) error {
		if _, err := e.Handle(ctx, in("rt-turn", fmt.Sprintf("warm-%d", i), "hello")); err != nil {
			return err
		}
		_, err := e.Accept(ctx, in("rt-accept", fmt.Sprintf("warm-accept-%d", i), "hello"))
		return err
	})

	turn := count("turn", 20, func(i int) error {
		out, err := e.Handle(ctx, in("rt-turn", fmt.Sprintf("turn-%d", i), "hello"))
		if err == nil && len(out.Replies) == 0 {
			err = fmt.Errorf("no reply")
		}
		return err
	})
	require.InDelta(t, 3, turn, 0.1, "round trips per engine turn")

	// A webhook's message answered in its request (NOWAIT lock) is a turn.
	received := count("receive", 20, func(i int) error {
		out, err := e.Receive(ctx, in("rt-turn", fmt.Sprintf("receive-%d", i), "hello"))
		if err == nil && len(out.Replies) == 0 {
			err = fmt.Errorf("not answered in the request")
		}
		return err
	})
	require.InDelta(t, 3, received, 0.1, "round trips per webhook message answered in its request")

	accept := count("accept", 20, func(i int) error {
		_, err := e.Accept(ctx, in("rt-accept", fmt.Sprintf("accept-%d", i), "hello"))
		return err
	})
	require.InDelta(t, 2, accept, 0.1, "round trips per accepted webhook message")

	// The job that handles an accepted message: BEGIN with the lock; the
	// pending messages; the reply with its delivery job; the message's
	// status and the conversation's save with COMMIT.
	require.NoError(t, e.ProcessPendingChat(ctx, "web", "rt-accept"))
	process := count("process", 20, func(i int) error {
		if _, err := e.Accept(ctx, in("rt-accept", fmt.Sprintf("process-%d", i), "hello")); err != nil {
			return err
		}
		return e.ProcessPendingChat(ctx, "web", "rt-accept")
	})
	require.InDelta(t, 2+4, process, 0.1, "round trips per accepted and handled message")
}

// roundTrips counts what pgx sends and waits for: each statement, batch or
// prepare.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	// River tells the workers about new jobs with a NOTIFY, at most once per
	// queue per fetch cooldown (100 ms): one round trip per hundreds of
	// messages under load, so not counted per message.
	if !strings.Contains(d.SQL, "name: PGNotifyMany") {
		r.n.Add(1)
	}
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (r *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (r *roundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}
