package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// turnTrips counts the round trips the process makes to PostgreSQL during a
// BenchmarkTurn run: each statement, batch or prepare pgx sends and waits
// for, the turn's and everything running beside it (River's fetches and
// completions, the delivery jobs, the knowledge base's generation checks).
// With TEND_BENCH_TRIPS=1 the run also prints the statements by count.
type turnTrips struct {
	n      atomic.Int64
	detail bool
	mu     sync.Mutex
	by     map[string]int
}

func (t *turnTrips) count(sql string) {
	t.n.Add(1)
	if !t.detail {
		return
	}
	// River names its queries ("-- name: JobGetAvailable"); ours are known
	// by their first words.
	key := sql
	if i := strings.Index(sql, "name: "); i >= 0 {
		key = sql[i:]
	}
	key = strings.Join(strings.Fields(key), " ")
	if len(key) > 90 && !strings.HasPrefix(key, "batch[") {
		key = key[:90]
	}
	t.mu.Lock()
	t.by[key]++
	t.mu.Unlock()
}

func (t *turnTrips) reset() {
	t.n.Store(0)
	t.mu.Lock()
	t.by = map[string]int{}
	t.mu.Unlock()
}

// print writes the statements sent per message, most first.
func (t *turnTrips) print(w io.Writer, msgs int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := slices.SortedFunc(maps.Keys(t.by), func(a, b string) int { return t.by[b] - t.by[a] })
	for _, k := range keys {
		fmt.Fprintf(w, "%6.2f  %s\n", float64(t.by[k])/float64(msgs), k)
	}
}

func (t *turnTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.count(d.SQL)
	return ctx
}

func (t *turnTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *turnTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if !t.detail || d.Batch == nil {
		t.count("batch")
		return ctx
	}
	// A batch is known by the first words of what it carries.
	parts := make([]string, 0, len(d.Batch.QueuedQueries))
	for _, q := range d.Batch.QueuedQueries {
		w := strings.Fields(q.SQL)
		parts = append(parts, strings.Join(w[:min(len(w), 4)], " "))
	}
	t.count("batch[" + strings.Join(parts, " | ") + "]")
	return ctx
}

func (t *turnTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (t *turnTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (t *turnTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	t.count("prepare " + d.SQL)
	return ctx
}

func (t *turnTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}
