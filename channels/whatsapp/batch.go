package whatsapp

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/metrics"
	"github.com/tend-health/tend/internal/store"
)

// batcher records the messages of concurrent webhook requests together:
// whatever arrived while the previous transaction ran goes into the next
// one, so a burst costs one commit per batch instead of one per message.
// Each request still gets its answer only after its message is committed.
type batcher struct {
	engine  *bot.Engine
	db      *store.DB
	metrics *metrics.Metrics
	cm      *channelMetrics
	workers int
	reqs    chan *acceptReq
}

type acceptReq struct {
	ctx  context.Context
	in   bot.Inbound
	done chan acceptRes
}

type acceptRes struct {
	out bot.Outcome
	err error
}

// maxBatch bounds one transaction: long enough to absorb a burst, short
// enough that conversation locks are held briefly.
const maxBatch = 32

// batchTimeout bounds one batch's transaction.
const batchTimeout = 15 * time.Second

func newBatcher(e *bot.Engine, db *store.DB, m *metrics.Metrics, cm *channelMetrics) *batcher {
	return &batcher{engine: e, db: db, metrics: m, cm: cm, workers: batchWorkers, reqs: make(chan *acceptReq)}
}

// batchWorkers is how many batches are recorded at once on PostgreSQL:
// enough for commits to overlap, few enough that batches form under load.
var batchWorkers = 2

// run starts the batch workers until ctx ends. Several run at once on
// PostgreSQL (their commits overlap); SQLite has one writer anyway.
func (b *batcher) run(ctx context.Context) {
	n := b.workers
	if b.db.Dialect() == store.SQLite {
		n = 1
	}
	for range n {
		go b.work(ctx)
	}
}

// accept records one message, in the next batch.
func (b *batcher) accept(ctx context.Context, in bot.Inbound) (bot.Outcome, error) {
	r := &acceptReq{ctx: ctx, in: in, done: make(chan acceptRes, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return bot.Outcome{}, ctx.Err()
	}
	select {
	case res := <-r.done:
		return res.out, res.err
	case <-ctx.Done():
		// The batch may still commit it; Meta's redelivery is recognised.
		return bot.Outcome{}, ctx.Err()
	}
}

func (b *batcher) work(ctx context.Context) {
	batch := make([]*acceptReq, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case r := <-b.reqs:
			batch = append(batch, r)
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		b.record(ctx, batch)
	}
}

// record accepts a batch in one transaction. Conversations are locked in
// one order (chat id) by every batch, so concurrent batches cannot
// deadlock. If the transaction fails, each message is tried on its own, so
// one bad message cannot hold back the others.
func (b *batcher) record(ctx context.Context, batch []*acceptReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.done <- acceptRes{err: r.ctx.Err()}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	b.cm.batchSize.Observe(float64(len(live)))
	if len(live) == 1 {
		out, err := b.engine.Accept(live[0].ctx, live[0].in)
		live[0].done <- acceptRes{out: out, err: err}
		return
	}
	slices.SortStableFunc(live, func(x, y *acceptReq) int { return cmp.Compare(x.in.ChatID, y.in.ChatID) })
	outs := make([]bot.Outcome, len(live))
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	defer cancel()
	err := b.db.InTx(tctx, func(tx *store.Tx) error {
		for i, r := range live {
			out, err := b.engine.AcceptTx(tctx, tx, r.in)
			if err != nil {
				return err
			}
			outs[i] = out
		}
		return nil
	})
	if err == nil {
		for i, r := range live {
			r.done <- acceptRes{out: outs[i]}
		}
		return
	}
	b.metrics.Errors.WithLabelValues("whatsapp_batch").Inc()
	for _, r := range live {
		out, err := b.engine.Accept(r.ctx, r.in)
		r.done <- acceptRes{out: out, err: err}
	}
}
