package bot_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/loadtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkEngine drives many concurrent conversations through the engine
// end to end (store the message, run the dialog, save state, store the reply,
// enqueue its delivery job, commit) and reports messages/s and latency.
// The -sealed variants run with an encryption key (docs/security.md,
// "Encryption at rest"): message text, replies and state sealed at rest.
func BenchmarkEngine(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchEngine(b, storetest.OpenSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchEngine(b, storetest.OpenPostgres(b)) })
	b.Run("sqlite-sealed", func(b *testing.B) { benchEngine(b, storetest.Sealed(b, storetest.OpenSQLite(b))) })
	b.Run("postgres-sealed", func(b *testing.B) { benchEngine(b, storetest.Sealed(b, storetest.OpenPostgres(b))) })
}

func benchEngine(b *testing.B, db *store.DB) {
	e := apptest.New(b, db, apptest.Options{}).Engine
	ctx := context.Background()
	const conversations = 200
	measure(b, func(n int64) error {
		_, err := e.Handle(ctx, in(fmt.Sprintf("bench-%d", n%conversations), fmt.Sprintf("m%d", n), "hello"))
		return err
	})
}

// BenchmarkAccept measures what a webhook does before answering 200: store
// the message and enqueue its handling job, in one transaction.
func BenchmarkAccept(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchAccept(b, storetest.OpenSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchAccept(b, storetest.OpenPostgres(b)) })
}

func benchAccept(b *testing.B, db *store.DB) {
	e := apptest.New(b, db, apptest.Options{}).Engine
	ctx := context.Background()
	measure(b, func(n int64) error {
		_, err := e.Accept(ctx, in(fmt.Sprintf("wa-%d", n%200), fmt.Sprintf("wamid.%d", n), "hello"))
		return err
	})
}

// measure runs op from 16 concurrent senders (load, not just latency, on
// two cores), or at TEND_BENCH_RATE messages/s (see internal/loadtest).
func measure(b *testing.B, op func(n int64) error) {
	loadtest.Run(b, loadtest.Options{Callers: 16, Unit: "msgs/s"}, op)
}
