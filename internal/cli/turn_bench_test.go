package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/loadtest"
	"github.com/tend-health/tend/internal/logging"
	tendschema "github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkTurn measures the answer turn a patient gets from `tend serve`
// as it runs by default: the sample clinic's knowledge base synced, every
// module of serve mode installed (triage and consent guards first, the FAQ
// dialog answering), on each store, through each channel:
//
//   - web: POST /api/v1/web/messages over loopback HTTP, the reply in the
//     response (the turn runs inside the request);
//   - telegram, whatsapp: the webhook POST over loopback HTTP, then the
//     process_inbound job, the turn, the deliver job and the send to a fake
//     Bot API / Graph API: each operation lasts until the fake has the reply
//     (webhook to send, what the patient waits for).
//
// Each operation asks one of a few price and visit questions in one of 256
// ongoing conversations and checks that the reply is the knowledge base's
// answer. 16 senders in a closed loop by default; TEND_BENCH_RATE=r runs an
// open loop at r messages/s (internal/loadtest).
//
//	go test ./internal/cli -run '^$' -bench 'Turn/web/sqlite' -benchtime 5000x
//
// The engine-only floor is bot.BenchmarkEngine; the webhook's accept step
// alone is in the channels' own benchmarks.
func BenchmarkTurn(b *testing.B) {
	for _, st := range []string{"sqlite", "postgres"} {
		b.Run("web/"+st, func(b *testing.B) { benchWebTurn(b, newTurnRig(b, st)) })
		b.Run("telegram/"+st, func(b *testing.B) { benchTelegramTurn(b, newTurnRig(b, st)) })
		b.Run("whatsapp/"+st, func(b *testing.B) { benchWhatsAppTurn(b, newTurnRig(b, st)) })
	}
	// Through PgBouncer in transaction mode (scripts/pgbouncer.sh prints the
	// two URLs): the queries pooled, the locks and River's LISTEN on the
	// session URL.
	b.Run("web/pgbouncer", func(b *testing.B) { benchWebTurn(b, newTurnRig(b, "pgbouncer")) })
	b.Run("telegram/pgbouncer", func(b *testing.B) { benchTelegramTurn(b, newTurnRig(b, "pgbouncer")) })
}

// turnQuestions are answered by the sample clinic's documents; want is a
// piece of each answer, so a reply that is not the answer fails the run.
var turnQuestions = []struct{ text, want string }{
	{"how much is a flu shot?", "$30"},
	{"Do you take Medicare?", "Medicare"},
	{"where do I park?", "park"},
	{"How long does a prescription refill take?", "refill"},
}

const (
	turnChats     = 256 // ongoing conversations, one operation at a time in each
	turnAppSecret = "bench-app-secret-0123456789"
	turnTGSecret  = "bench_webhook_secret"
)

// turnRig is one `tend serve` assembly on a fresh store, serving over
// loopback HTTP, with fake Telegram and WhatsApp APIs.
type turnRig struct {
	db  *store.DB
	app *app.App
	srv *httptest.Server
	tg  *telegramtest.Server
	wa  *whatsapptest.Server
	// chats hands out the conversations free for an operation.
	chats chan int
	seq   atomic.Int64
	// trips counts round trips to PostgreSQL (nil on SQLite and PgBouncer).
	trips *turnTrips
}

func newTurnRig(b *testing.B, dialect string) *turnRig {
	ctx := context.Background()
	r := &turnRig{tg: telegramtest.New(b), wa: whatsapptest.New(b), chats: make(chan int, turnChats)}
	r.db, r.trips = openTurnStore(b, dialect)
	env := map[string]string{
		"TEND_DATA_DIR": b.TempDir(), "TEND_PUBLIC_URL": "https://clinic.example.org",
		// The load comes from one address through a trusted proxy, each
		// conversation from an address of its own; rates as a busy clinic's.
		"TEND_TRUSTED_PROXIES": "127.0.0.1", "TEND_WEB_RATE_PER_MINUTE": "100000",
		"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_ENDPOINT": r.tg.Endpoint(),
		"TELEGRAM_WEBHOOK_SECRET":  turnTGSecret,
		"WHATSAPP_PHONE_NUMBER_ID": r.wa.PhoneNumberID, "WHATSAPP_ACCESS_TOKEN": r.wa.Token,
		"WHATSAPP_APP_SECRET": turnAppSecret, "WHATSAPP_VERIFY_TOKEN": "bench-verify", "WHATSAPP_API_BASE": r.wa.Base(),
	}
	cfg, err := config.LoadFrom(env)
	require.NoError(b, err)
	ms := modules(cfg, app.ModeServe)
	var kb *faq.Module
	for i, m := range ms {
		switch m := m.(type) {
		case *faq.Module:
			kb = m
		case *telegram.Module:
			// Telegram lets one bot send about 30 messages a second, and the
			// channel keeps under it (25/s); TEND_BENCH_TELEGRAM_SEND lifts the
			// cap to time the pipeline at a higher rate.
			if v := os.Getenv("TEND_BENCH_TELEGRAM_SEND"); v != "" {
				var perSec float64
				_, err := fmt.Sscan(v, &perSec)
				require.NoError(b, err)
				ms[i] = &telegram.Module{Options: telegram.Options{SendPerSecond: perSec}}
			}
		}
	}
	require.NotNil(b, kb, "serve mode installs the knowledge base")
	log := logging.Discard()
	if os.Getenv("TEND_TEST_LOG") != "" {
		log = logging.New(os.Stderr, "debug", "text")
	}
	a, err := assemble(ctx, &Env{Config: cfg, Stderr: io.Discard, AppOptions: app.Options{Store: r.db, SkipMigrate: true, Logger: log}},
		app.ModeServe, true, ms)
	require.NoError(b, err)
	r.app = a
	b.Cleanup(a.Close)
	runCtx, cancel := context.WithCancel(ctx)
	require.NoError(b, a.Start(runCtx))
	b.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = a.Stop(sctx)
	})
	// The sample clinic is synced in the background at start, as in serve.
	deadline := time.Now().Add(2 * time.Minute)
	for kb.LastSync() == nil {
		require.True(b, time.Now().Before(deadline), "the sample clinic was not synced within 2 minutes")
		time.Sleep(20 * time.Millisecond)
	}
	r.srv = httptest.NewServer(a.HTTP.Handler())
	b.Cleanup(r.srv.Close)
	for i := range turnChats {
		r.chats <- i
	}
	return r
}

// openTurnStore is a migrated store of its own; PostgreSQL with the pool
// size `tend serve` opens (store.Open's minimum of 16), not the tests' 8,
// and its round trips counted.
func openTurnStore(b *testing.B, dialect string) (*store.DB, *turnTrips) {
	if dialect == "sqlite" {
		return storetest.OpenSQLite(b), nil
	}
	ctx := context.Background()
	if dialect == "pgbouncer" {
		return openBouncedStore(b), nil
	}
	schema := storetest.NewSchemaName()
	trips := &turnTrips{detail: os.Getenv("TEND_BENCH_TRIPS") != "", by: map[string]int{}}
	db, err := store.Open(ctx, store.Options{PostgresURL: storetest.PostgresURL(), Schema: schema, Migrations: tendschema.All(),
		Tracer: trips})
	if err != nil {
		storetest.RequireInCI(b, "PostgreSQL: %v", err)
	}
	b.Cleanup(func() { _ = db.Close(); storetest.DropSchema(b, schema) })
	_, err = db.Migrate(ctx)
	require.NoError(b, err)
	return db, trips
}

// run drives op over the rig's conversations: each operation gets a
// conversation no other operation is using and the question to ask.
func (r *turnRig) run(b *testing.B, op func(chat int, q int) error) {
	cpu := loadtest.NewCPU(r.db.Pool())
	start := cpu.Start
	if r.trips != nil {
		start = func() { r.trips.reset(); cpu.Start() }
	}
	loadtest.Run(b, loadtest.Options{Callers: 16, Unit: "msgs/s", AfterWarmUp: start}, func(n int64) error {
		chat := <-r.chats
		defer func() { r.chats <- chat }()
		return op(chat, int(r.seq.Add(1))%len(turnQuestions))
	})
	if r.trips != nil {
		// Read before cpu.Report, whose readings of the backends are round
		// trips too.
		b.ReportMetric(float64(r.trips.n.Load())/float64(b.N), "pg-trips/msg")
		if r.trips.detail {
			r.trips.print(os.Stderr, b.N)
		}
	}
	cpu.Report(b, b.N, "msg")
}

func benchWebTurn(b *testing.B, r *turnRig) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	sessions := make([]string, turnChats)
	for i := range sessions {
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/api/v1/web/sessions", nil)
		req.Header.Set("X-Forwarded-For", clientAddr(i))
		resp, err := client.Do(req)
		require.NoError(b, err)
		var out struct{ Session string }
		require.NoError(b, json.NewDecoder(resp.Body).Decode(&out))
		resp.Body.Close()
		require.Equal(b, http.StatusCreated, resp.StatusCode)
		sessions[i] = out.Session
	}
	r.run(b, func(chat, q int) error {
		body := fmt.Appendf(nil, `{"id":"b%d","text":%q}`, r.seq.Add(1), turnQuestions[q].text)
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/api/v1/web/messages", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+sessions[chat])
		req.Header.Set("X-Forwarded-For", clientAddr(chat))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %s", resp.StatusCode, raw)
		}
		return wantAnswer(string(raw), q)
	})
}

// clientAddr is conversation i's client address (behind the proxy).
func clientAddr(i int) string { return fmt.Sprintf("10.1.%d.%d", i/250, i%250+1) }

// wantAnswer checks a reply is the knowledge base's answer to question q.
func wantAnswer(reply string, q int) error {
	if !strings.Contains(reply, turnQuestions[q].want) || !strings.Contains(reply, "Source") {
		return fmt.Errorf("%q was not answered from the knowledge base: %.300s", turnQuestions[q].text, reply)
	}
	return nil
}

// replies routes what a fake API sends to the operation waiting on that
// chat; a send nobody waits for is an error (a turn sent more than one
// reply, or a stale one).
type replies struct {
	mu      sync.Mutex
	waiting map[string]chan string
	stray   atomic.Int64
}

func newReplies() *replies { return &replies{waiting: map[string]chan string{}} }

func (p *replies) expect(chat string) chan string {
	ch := make(chan string, 1)
	p.mu.Lock()
	p.waiting[chat] = ch
	p.mu.Unlock()
	return ch
}

func (p *replies) sent(chat, text string) {
	p.mu.Lock()
	ch, ok := p.waiting[chat]
	delete(p.waiting, chat)
	p.mu.Unlock()
	if !ok {
		p.stray.Add(1)
		return
	}
	ch <- text
}

func (p *replies) wait(ch chan string, chat string, q int) error {
	select {
	case text := <-ch:
		return wantAnswer(text, q)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no reply to chat %s within 30 s", chat)
	}
}

func (p *replies) check(b *testing.B) {
	if n := p.stray.Load(); n > 0 {
		b.Errorf("%d sends answered no waiting message", n)
	}
}

func benchTelegramTurn(b *testing.B, r *turnRig) {
	p := newReplies()
	r.tg.OnSend = func(m telegramtest.Message) { p.sent(fmt.Sprint(m.ChatID), m.Text) }
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	r.run(b, func(chat, q int) error {
		id := r.seq.Add(1)
		chatID := int64(700000 + chat)
		body := telegramtest.Update(3000000+id, "message", map[string]any{
			"message_id": id, "date": time.Now().Unix(), "text": turnQuestions[q].text,
			"from": map[string]any{"id": chatID, "is_bot": false, "first_name": "Pat", "language_code": "en"},
			"chat": map[string]any{"id": chatID, "first_name": "Pat", "type": "private"},
		})
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+telegram.WebhookPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", turnTGSecret)
		ch := p.expect(fmt.Sprint(chatID))
		if err := loadtest.Post(client, req); err != nil {
			return err
		}
		return p.wait(ch, fmt.Sprint(chatID), q)
	})
	p.check(b)
}

func benchWhatsAppTurn(b *testing.B, r *turnRig) {
	p := newReplies()
	r.wa.OnSend(func(m whatsapptest.Message) { p.sent(m.To, m.Text) })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	r.run(b, func(chat, q int) error {
		id := r.seq.Add(1)
		from := fmt.Sprintf("1555%07d", chat)
		raw := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"messages","value":`+
			`{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},`+
			`"contacts":[{"profile":{"name":"Patient %d"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.turn%012d",`+
			`"timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`,
			whatsapptest.WABAID, r.wa.PhoneNumberID, chat, from, from, id, time.Now().Unix(), turnQuestions[q].text)
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/webhooks/whatsapp", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hub-Signature-256", whatsapptest.Sign(turnAppSecret, raw))
		ch := p.expect(from)
		if err := loadtest.Post(client, req); err != nil {
			return err
		}
		return p.wait(ch, from, q)
	})
	p.check(b)
}

// openBouncedStore opens the store through PgBouncer in transaction mode at
// TEND_BENCH_PGBOUNCER_URL, with TEND_BENCH_PGBOUNCER_SESSION_URL (the same
// database, directly) for the session's work. PgBouncer passes no
// search_path, so the database has one (schema tend, set by
// scripts/pgbouncer.sh), emptied here.
func openBouncedStore(b *testing.B) *store.DB {
	pooled, session := os.Getenv("TEND_BENCH_PGBOUNCER_URL"), os.Getenv("TEND_BENCH_PGBOUNCER_SESSION_URL")
	if pooled == "" || session == "" {
		b.Skip("TEND_BENCH_PGBOUNCER_URL and TEND_BENCH_PGBOUNCER_SESSION_URL unset (scripts/pgbouncer.sh)")
	}
	ctx := context.Background()
	direct, err := pgx.Connect(ctx, session)
	require.NoError(b, err)
	_, err = direct.Exec(ctx, "DROP SCHEMA IF EXISTS tend CASCADE; CREATE SCHEMA tend")
	require.NoError(b, err)
	_ = direct.Close(ctx)
	db, err := store.Open(ctx, store.Options{PostgresURL: pooled, SessionURL: session, Migrations: tendschema.All()})
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(b, err)
	return db
}
