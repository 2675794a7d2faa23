package whatsapp_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/loadtest"
	tendschema "github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkWebhook measures webhook handling on PostgreSQL as Meta drives it:
// signed POSTs over loopback HTTP, each verified, recorded with its handling
// job (engine.Accept) and answered 200. Job workers do not run, so the
// numbers are the webhook's own. It reports requests per second and the
// 99th-percentile latency.
//
//	go test ./channels/whatsapp -run XXX -bench Webhook -benchtime 20000x
func BenchmarkWebhook(b *testing.B) {
	schema := storetest.NewSchemaName()
	ctx := context.Background()
	// The production pool size (store.Open's minimum) rather than the tests' 8.
	db, err := store.Open(ctx, store.Options{PostgresURL: storetest.PostgresURL(), Schema: schema, MaxConns: 16,
		Migrations: tendschema.All()})
	if err != nil {
		storetest.RequireInCI(b, "PostgreSQL: %v", err)
	}
	b.Cleanup(func() { _ = db.Close(); storetest.DropSchema(b, schema) })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	api := whatsapptest.New(b)
	cfg := config.Config{DataDir: b.TempDir(), Addr: ":0", ShutdownTimeout: time.Second,
		WhatsApp: config.WhatsApp{PhoneNumberID: api.PhoneNumberID, AccessToken: config.Secret(api.Token),
			AppSecret: appSecret, VerifyToken: verifyToken, APIBase: api.Base()}}
	a, err := app.New(ctx, cfg, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true,
		Modules: []app.Module{&whatsapp.Module{}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	srv := httptest.NewServer(a.HTTP.Handler())
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	url := srv.URL + "/webhooks/whatsapp"

	const patients = 1000
	var seq atomic.Int64
	body := func() []byte {
		n := seq.Add(1)
		from := fmt.Sprintf("1555%07d", n%patients)
		return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"messages","value":`+
			`{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},`+
			`"contacts":[{"profile":{"name":"Patient %d"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.bench%012d",`+
			`"timestamp":"%d","type":"text","text":{"body":"How much is a visit without insurance?"}}]}}]}]}`,
			whatsapptest.WABAID, api.PhoneNumberID, n, from, from, n, time.Now().Unix())
	}
	if os.Getenv("TEND_BENCH_NODB") != "" { // diagnostic: the HTTP and signature cost alone
		inner := body
		body = func() []byte {
			return bytes.Replace(inner(), []byte(`"whatsapp_business_account"`), []byte(`"page"`), 1)
		}
	}
	post := func(raw []byte) error {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hub-Signature-256", whatsapptest.Sign(appSecret, raw))
		return loadtest.Post(client, req)
	}
	// Warm up: connections, prepared plans, every patient's conversation.
	for range patients {
		if err := post(body()); err != nil {
			b.Fatal(err)
		}
	}

	loadtest.Run(b, loadtest.Options{Callers: benchParallelism * runtime.GOMAXPROCS(0), Unit: "req/s"},
		func(int64) error { return post(body()) })
}

// benchParallelism × GOMAXPROCS clients post at once, like Meta's
// concurrent deliveries to one endpoint.
var benchParallelism = envInt("TEND_BENCH_PARALLELISM", 8)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
