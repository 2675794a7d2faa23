package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	tendschema "github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// cutProxy forwards TCP to PostgreSQL and can cut every connection, as a
// database restart or a network blip does.
type cutProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	down     bool
	conns    map[net.Conn]bool
}

func newCutProxy(t *testing.T, upstream string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustNil(t, err)
	p := &cutProxy{ln: ln, upstream: upstream, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[u] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(u, c); u.Close() }()
		go func() { _, _ = io.Copy(c, u); c.Close() }()
	}
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// The database goes away for a few seconds: the server answers 503 (and
// readiness fails) instead of hanging or crashing, recovers by itself, and
// every message the patient's browser retried is handled once.
func TestDatabaseOutageLosesNothing(t *testing.T) {
	t.Parallel()
	schema := storetest.NewSchemaName()
	direct := storetest.OpenPostgresSchema(t, schema)
	t.Cleanup(func() { storetest.DropSchema(t, schema) })
	u, _ := url.Parse(storetest.PostgresURL())
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{PostgresURL: u.String(), Schema: schema, Migrations: tendschema.All()})
	mustNil(t, err)
	t.Cleanup(func() { db.Close() })
	a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Modules: []app.Module{web.Module{}}, Start: true})
	srv := httptest.NewServer(a.HTTP.Handler())
	t.Cleanup(srv.Close)

	pt, err := newPatient(ctxTimeout(t, 10*time.Second), func() string { return srv.URL })
	mustNil(t, err)
	post := func(i int) int {
		body, _ := json.Marshal(map[string]string{"session": pt.session, "id": fmt.Sprintf("m%03d", i), "text": "hello"})
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Post(srv.URL+"/api/v1/web/messages", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ready := func() int {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 3 {
		if code := post(i); code != http.StatusOK {
			t.Fatalf("before the outage: %d", code)
		}
	}
	proxy.cut()
	for i := 3; i < 6; i++ {
		if code := post(i); code != http.StatusServiceUnavailable {
			t.Fatalf("during the outage message %d: status %d, want 503", i, code)
		}
	}
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz during the outage: %d", code)
	}
	time.Sleep(2 * time.Second) // the outage lasts a while; nothing here waits on async work
	proxy.restore()
	// The browser retries what failed, with the same ids, and sends more.
	deadline := time.Now().Add(30 * time.Second)
	for i := 3; i < 8; i++ {
		for post(i) != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("message %d not accepted after the database came back", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if code := ready(); code != http.StatusOK {
		t.Fatalf("readyz after recovery: %d", code)
	}
	var stored, replies int
	mustNil(t, direct.Q().QueryRow(ctx, `SELECT count(*) FROM inbound_messages`).Scan(&stored))
	mustNil(t, direct.Q().QueryRow(ctx, `SELECT count(*) FROM outbound_messages`).Scan(&replies))
	if stored != 8 || replies != 8 {
		t.Fatalf("stored %d messages and %d replies, want 8 and 8", stored, replies)
	}
}
