package whatsapp_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkEngineAccept is the store's share of webhook handling:
// engine.Accept alone, one transaction per message, no HTTP: the ceiling
// of BenchmarkWebhook.
func BenchmarkEngineAccept(b *testing.B) {
	schema := storetest.NewSchemaName()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{PostgresURL: storetest.PostgresURL(), Schema: schema, MaxConns: 16})
	if err != nil {
		storetest.RequireInCI(b, "PostgreSQL: %v", err)
	}
	b.Cleanup(func() { _ = db.Close(); storetest.DropSchema(b, schema) })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	a, err := app.New(ctx, config.Config{DataDir: b.TempDir()}, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	var seq atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			if _, err := a.Engine.Accept(ctx, bot.Inbound{Channel: "whatsapp", ChatID: fmt.Sprintf("1555%07d", n%1000), MessageID: fmt.Sprintf("wamid.accept%012d", n), Text: "hello"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
