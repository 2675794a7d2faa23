// Package loadtest drives a benchmark's operation the two ways load is
// measured, and reports throughput and latency percentiles as benchmark
// metrics (msgs/s or req/s, p50-ms, p99-ms, max-ms).
//
//   - Closed loop (the default): a fixed number of callers each start their
//     next operation when the last one returns. This finds the most the
//     system does; latency then is mostly queueing behind the other callers
//     (with 16 callers at 1,000 operations/s the median waits ~16 ms).
//   - Open loop (TEND_BENCH_RATE=r): operations start at r per second,
//     whatever the pace of the answers, as a clinic's traffic arrives, and
//     each latency counts from when the operation was due, so a stall is
//     not hidden by callers that stop sending (no coordinated omission).
//     This gives the latency at a given load.
package loadtest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Options shape a run.
type Options struct {
	// Callers is the closed loop's concurrency (default 16).
	Callers int
	// Rate, when positive, runs an open loop at this many operations per
	// second. Otherwise TEND_BENCH_RATE does, else DefaultRate does, else
	// the loop is closed.
	Rate        float64
	DefaultRate float64
	// Unit names the throughput metric ("msgs/s", "req/s").
	Unit string
	// AfterWarmUp, when set, runs between the warm-up and the timed
	// operations (a benchmark that measures CPU time starts counting there).
	AfterWarmUp func()
}

// maxInFlight bounds the open loop's concurrent operations: beyond it the
// system is overloaded and the latencies say so.
const maxInFlight = 512

// Run runs op b.N times (n counts from 1) and reports the metrics. op must
// accept any n, negative ones too, as a distinct operation.
func Run(b *testing.B, o Options, op func(n int64) error) {
	if o.Callers <= 0 {
		o.Callers = 16
	}
	if o.Unit == "" {
		o.Unit = "ops/s"
	}
	if o.Rate <= 0 {
		o.Rate, _ = strconv.ParseFloat(os.Getenv("TEND_BENCH_RATE"), 64)
	}
	if o.Rate <= 0 {
		o.Rate = o.DefaultRate
	}
	// Warm up, untimed, as a running server is: every pooled connection
	// open, its statements prepared. Warm-up operations get n < 0.
	var warm atomic.Int64
	closedLoop(b, o.Callers, 4*o.Callers, func(int64) error { return op(-warm.Add(1)) })
	if o.AfterWarmUp != nil {
		o.AfterWarmUp()
	}
	var lat []time.Duration
	var elapsed time.Duration
	b.ResetTimer()
	if o.Rate > 0 {
		lat, elapsed = openLoop(b, o.Rate, op)
	} else {
		lat, elapsed = closedLoop(b, o.Callers, b.N, op)
	}
	b.StopTimer()
	report(b, lat, elapsed, o.Unit)
	if o.Rate > 0 {
		b.ReportMetric(o.Rate, "offered/s")
	}
}

func closedLoop(b *testing.B, callers, total int, op func(int64) error) ([]time.Duration, time.Duration) {
	var next atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, total/callers+1)
			for {
				n := next.Add(1)
				if n > int64(total) {
					break
				}
				t0 := time.Now()
				if err := op(n); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, time.Since(start)
}

func openLoop(b *testing.B, rate float64, op func(int64) error) ([]time.Duration, time.Duration) {
	all := make([]time.Duration, b.N)
	interval := time.Duration(float64(time.Second) / rate)
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range b.N {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := op(int64(i + 1)); err != nil {
				b.Error(err)
			}
			all[i] = time.Since(due)
		}()
	}
	wg.Wait()
	return all, time.Since(start)
}

// report sorts lat and reports throughput over elapsed and the percentiles.
func report(b *testing.B, lat []time.Duration, elapsed time.Duration, unit string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), unit)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(0, "ns/op") // throughput says it; ns/op of a concurrent run misleads
}

// Post sends req with client and wants 200 OK; the body is read and
// discarded so the connection is reused.
func Post(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
