package bot_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkEngine drives many concurrent conversations through the engine
// end to end (store the message, run the dialog, save state, store the reply,
// enqueue its delivery job, commit) and reports messages/s and latency.
func BenchmarkEngine(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchEngine(b, storetest.OpenSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchEngine(b, storetest.OpenPostgres(b)) })
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
// two cores) and reports messages/s with the p50 and p99 latency.
func measure(b *testing.B, op func(n int64) error) {
	var seq atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			if err := op(seq.Add(1)); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
}
