package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkWebhookPostgres measures webhook handling end to end over HTTP
// on loopback: check the secret, decode, record the message and enqueue its
// job in one PostgreSQL transaction, answer 200. Patients are spread over
// 2,000 chats, as a clinic's traffic is. It reports requests per second
// and latency percentiles.
//
//	go test ./channels/telegram -run '^$' -bench WebhookPostgres -benchtime 20000x
//
// The "http" case goes through a loopback HTTP server (client and server
// both in this process); "handler" calls the handler directly, which leaves
// out the HTTP client's share of the two cores. BENCH_PAR sets requests in
// flight per core (default 8: 16 at once, Telegram's max_connections is 40).
func BenchmarkWebhookPostgres(b *testing.B) {
	benchParallelism, _ = strconv.Atoi(os.Getenv("BENCH_PAR"))
	if benchParallelism == 0 {
		benchParallelism = 8
	}
	b.Run("http", func(b *testing.B) { benchWebhook(b, true) })
	b.Run("handler", func(b *testing.B) { benchWebhook(b, false) })
}

func benchWebhook(b *testing.B, overHTTP bool) {
	db := storetest.OpenPostgres(b)
	fake := telegramtest.New(b)
	cfg, err := config.LoadFrom(map[string]string{"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_ENDPOINT": fake.Endpoint(),
		"TELEGRAM_WEBHOOK_SECRET": webhookSecret, "TEND_PUBLIC_URL": "https://clinic.example.org"})
	require.NoError(b, err)
	a, err := app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true,
		Modules: []app.Module{&telegram.Module{Options: testOptions()}}})
	require.NoError(b, err)
	b.Cleanup(a.Close)
	handler := a.HTTP.Handler()
	srv := httptest.NewServer(handler)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			n := next.Add(1)
			chat := 10000 + n%2000
			body := telegramtest.Update(1000000+n, "message", map[string]any{
				"message_id": n, "date": 1700000000, "text": fmt.Sprintf("How much is a visit without insurance? (%d)", n),
				"from": map[string]any{"id": chat, "is_bot": false, "first_name": "Pat", "language_code": "en"},
				"chat": map[string]any{"id": chat, "first_name": "Pat", "type": "private"},
			})
			req, _ := http.NewRequest(http.MethodPost, srv.URL+telegram.WebhookPath, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
			t0 := time.Now()
			status := 0
			if overHTTP {
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
			} else {
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				status = rec.Code
			}
			local = append(local, time.Since(t0))
			if status != http.StatusOK {
				b.Errorf("status %d", status)
				return
			}
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
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

var benchParallelism int
