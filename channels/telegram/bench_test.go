package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/loadtest"
	"github.com/tend-health/tend/internal/store"
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
	db, a, srv := benchApp(b, telegramtest.New(b))
	handler := a.HTTP.Handler()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	var pgBefore time.Duration
	var selfBefore syscall.Rusage
	startCounting := func() {
		pgBefore = backendCPU(b, db)
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &selfBefore)
	}
	loadtest.Run(b, loadtest.Options{Callers: 2 * benchParallelism, Unit: "req/s", AfterWarmUp: startCounting}, func(n int64) error {
		req := webhookRequest(srv.URL, 1000000+n, 10000+n%2000, fmt.Sprintf("How much is a visit without insurance? (%d)", n))
		if overHTTP {
			return loadtest.Post(client, req)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("status %d", rec.Code)
		}
		return nil
	})
	var selfAfter syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &selfAfter)
	goCPU := cpuTime(selfAfter) - cpuTime(selfBefore)
	pgCPU := backendCPU(b, db) - pgBefore
	// CPU spent per request by this process and by its PostgreSQL backends:
	// what the two cores would allow with nothing else running on them.
	n := float64(b.N)
	b.ReportMetric(goCPU.Seconds()*1000/n, "go-cpu-ms/req")
	if pgCPU > 0 {
		b.ReportMetric(pgCPU.Seconds()*1000/n, "pg-cpu-ms/req")
	}
}

// benchApp is a serve-mode Tend with the Telegram channel in webhook mode,
// on a PostgreSQL schema of its own, talking to fake, with its HTTP handler
// on a loopback server. Job workers do not run until the caller starts them.
func benchApp(b *testing.B, fake *telegramtest.Server) (*store.DB, *app.App, *httptest.Server) {
	db := storetest.OpenPostgres(b)
	cfg, err := config.LoadFrom(map[string]string{"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_ENDPOINT": fake.Endpoint(),
		"TELEGRAM_WEBHOOK_SECRET": webhookSecret, "TEND_PUBLIC_URL": "https://clinic.example.org"})
	require.NoError(b, err)
	a, err := app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true,
		Modules: []app.Module{&telegram.Module{Options: testOptions()}}})
	require.NoError(b, err)
	b.Cleanup(a.Close)
	srv := httptest.NewServer(a.HTTP.Handler())
	b.Cleanup(srv.Close)
	return db, a, srv
}

// webhookRequest is Telegram's POST of one text message from a patient's
// private chat to the webhook at base.
func webhookRequest(base string, updateID, chat int64, text string) *http.Request {
	body := telegramtest.Update(updateID, "message", map[string]any{
		"message_id": updateID, "date": time.Now().Unix(), "text": text,
		"from": map[string]any{"id": chat, "is_bot": false, "first_name": "Pat", "language_code": "en"},
		"chat": map[string]any{"id": chat, "first_name": "Pat", "type": "private"},
	})
	req, _ := http.NewRequest(http.MethodPost, base+telegram.WebhookPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
	return req
}

func cpuTime(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// backendCPU is the CPU time used so far by the PostgreSQL backends behind
// the store's pool (all of its connections are opened first), read from
// /proc; 0 where that is not possible.
func backendCPU(b *testing.B, db *store.DB) time.Duration {
	ctx := context.Background()
	pool := db.Pool()
	conns := make([]*pgxpool.Conn, 0, pool.Config().MaxConns)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	var total time.Duration
	for range pool.Config().MaxConns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			b.Logf("backend cpu: %v", err)
			return 0
		}
		conns = append(conns, c)
		var pid int
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return 0
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		// Fields after the command name (which may hold spaces): utime and
		// stime are the 12th and 13th, in clock ticks of 10 ms.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		st, _ := strconv.ParseInt(fields[12], 10, 64)
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}

var benchParallelism int
