package prices_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// Benchmarks (numbers in docs/prices.md):
//
//	go test ./internal/prices -run XXX -bench Import -benchtime 1x
//	TEND_BENCH_PRICES_ROWS=5000000 go test ./internal/prices -run XXX -bench 'Parse|Import' -benchtime 1x -timeout 60m
//	TEND_BENCH_1M=1 go test ./internal/prices -run XXX -bench Find1M -benchtime 1x -timeout 60m

func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("TEND_BENCH_PRICES_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

func generated(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "generated.csv")
	f, err := os.Create(path)
	require.NoError(b, err)
	require.NoError(b, prices.GenerateTall(f, rows))
	require.NoError(b, f.Close())
	return path
}

// cpuTime is the process's user and system CPU time so far: SQLite runs in
// the process, so CPU per row is a measure that does not depend on how
// busy the machine is (PostgreSQL's own work is in its server).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident memory (VmHWM), in MiB.
func peakRSS(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkParse streams a generated file: rows/s and peak memory, which
// stays flat whatever the file's size.
func BenchmarkParse(b *testing.B) {
	rows := benchRows()
	path := generated(b, rows)
	st, _ := os.Stat(path)
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		f, err := os.Open(path)
		require.NoError(b, err)
		rep, err := prices.Parse(f, prices.TallCSV, func(*prices.Item) error { return nil })
		require.NoError(b, err)
		require.True(b, rep.OK(), rep.Err())
		f.Close()
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(rows*b.N), "cpu-us/row")
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
	b.ReportMetric(peakRSS(b), "peak-RSS-MiB")
}

func BenchmarkImport(b *testing.B) {
	rows := benchRows()
	path := generated(b, rows)
	for _, s := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		b.Run(s.name, func(b *testing.B) {
			c := prices.NewCatalog(s.open(b), nil)
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				rep, err := c.Import(context.Background(), "generated.csv", prices.TallCSV,
					func() (io.ReadCloser, error) { return os.Open(path) }, prices.ImportOptions{})
				require.NoError(b, err)
				require.True(b, rep.OK())
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(rows*b.N), "cpu-us/row")
			b.ReportMetric(peakRSS(b), "peak-RSS-MiB")
		})
	}
}

// BenchmarkFind1M looks questions up with 1,000,000 charge rows loaded
// (opt-in: the import takes a while) and reports the p50 and p99 latency
// of 1,000 lookups, after the index is built (index-build-s).
func BenchmarkFind1M(b *testing.B) {
	if os.Getenv("TEND_BENCH_1M") == "" {
		b.Skip("set TEND_BENCH_1M=1 to load 1,000,000 charge rows")
	}
	const rows = 1_000_000
	path := generated(b, rows)
	questions := []string{"how much is an MRI of the knee without contrast", "CPT 10042", "price of a shoulder ultrasound",
		"what does a CT scan of the abdomen cost with Acme Health PPO", "how much is a colonoscopy", "DRG 470",
		"cost of a hip arthroscopy", "breast biopsy with contrast", "¿cuánto cuesta una resonancia de rodilla?"}
	for _, s := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		b.Run(s.name, func(b *testing.B) {
			db := s.open(b)
			c := prices.NewCatalog(db, nil)
			rep, err := c.Import(context.Background(), "generated.csv", prices.TallCSV,
				func() (io.ReadCloser, error) { return os.Open(path) }, prices.ImportOptions{})
			require.NoError(b, err)
			require.True(b, rep.OK())
			// The index is built once per version of the lists (after an
			// import, at the first lookup or Warm): timed on its own.
			start := time.Now()
			require.NoError(b, c.Warm(context.Background()))
			build := time.Since(start)
			var lat []time.Duration
			b.ResetTimer()
			for i := range b.N * 1000 {
				q := questions[i%len(questions)]
				lang := "en"
				if strings.HasPrefix(q, "¿") {
					lang = "es"
				}
				start := time.Now()
				_, err := c.Find(context.Background(), db.Q(), q, lang)
				lat = append(lat, time.Since(start))
				require.NoError(b, err)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(build.Seconds(), "index-build-s")
		})
	}
}

func TestGeneratedFileIsValid(t *testing.T) {
	var b strings.Builder
	require.NoError(t, prices.GenerateTall(&b, 2*prices.GenItems*len(prices.GenPlans())+7))
	var items []prices.Item
	rep, err := prices.Parse(strings.NewReader(b.String()), prices.TallCSV, func(it *prices.Item) error {
		items = append(items, *it)
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	require.Equal(t, 2*prices.GenItems+1, rep.Items)
	require.Equal(t, prices.GenDescription(0), items[0].Description)
	require.Equal(t, prices.GenCash(0), items[0].Cash)
	require.Equal(t, prices.GenDollar(0, 0), items[0].Rates[0].Dollar)
	require.Equal(t, prices.GenDescription(0)+", variant 1", items[prices.GenItems].Description)
}
