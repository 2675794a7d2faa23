package httpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/metrics"
	tendschema "github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func status(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return body["status"]
}

// /healthz says the process is up, whatever the database: a liveness probe
// must not restart a replica for an outage it cannot fix. Answers are JSON
// and never cached; routes answer only their own method.
func TestHealthz(t *testing.T) {
	t.Parallel()
	s := newServer(t) // no database at all
	rec := serve(s, httptest.NewRequest("GET", "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "ok", status(t, rec))
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))

	require.Equal(t, http.StatusMethodNotAllowed, serve(s, httptest.NewRequest("POST", "/healthz", nil)).Code)
	require.Equal(t, http.StatusNotFound, serve(s, httptest.NewRequest("GET", "/nosuch", nil)).Code)
}

// openUnmigrated opens a store of the same kind as db on an empty database.
func openUnmigrated(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	ctx := context.Background()
	o := store.Options{SQLitePath: filepath.Join(t.TempDir(), "empty.db"), Migrations: tendschema.All()}
	if db.Dialect() == store.Postgres {
		schema := storetest.NewSchemaName()
		o = store.Options{PostgresURL: storetest.PostgresURL(), Schema: schema, MaxConns: 4, Migrations: tendschema.All()}
		t.Cleanup(func() { storetest.DropSchema(t, schema) })
	}
	empty, err := store.Open(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = empty.Close() })
	return empty
}

// /readyz keeps traffic away from a replica that cannot serve it: before
// the migrations are applied, and while its database is unreachable; once
// both are fine it is ready.
func TestReadyz(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ready := func(s *httpserver.Server) (int, string) {
			rec := serve(s, httptest.NewRequest("GET", "/readyz", nil))
			return rec.Code, status(t, rec)
		}
		s := httpserver.New(httpserver.Options{Logger: logging.Discard(), Metrics: metrics.New(), DB: db})
		code, st := ready(s)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "ready", st)

		empty := openUnmigrated(t, db)
		s = httpserver.New(httpserver.Options{Logger: logging.Discard(), Metrics: metrics.New(), DB: empty})
		code, st = ready(s)
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.Equal(t, "migrations pending", st)
		_, err := empty.Migrate(context.Background())
		require.NoError(t, err)
		code, st = ready(s)
		require.Equal(t, http.StatusOK, code, "ready as soon as another replica (or this one) has migrated")
		require.Equal(t, "ready", st)

		require.NoError(t, empty.Close())
		code, st = ready(s)
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.Equal(t, "database unreachable", st)
	})
}

// A handler that panics costs its request a 500 in JSON, counted in
// tend_errors_total{where="http_panic"}, not the process; the server
// goes on serving. http.ErrAbortHandler is net/http's way to abort a
// response and is passed on untouched.
func TestPanicsAreRecovered(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	var logged bytes.Buffer
	s := httpserver.New(httpserver.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil)), Metrics: m})
	s.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	s.HandleFunc("GET /abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })

	rec := serve(s, httptest.NewRequest("GET", "/boom", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.JSONEq(t, `{"error":"internal error"}`, rec.Body.String())
	require.NotContains(t, rec.Body.String(), "boom", "the panic is not shown to the client")
	require.Equal(t, 1.0, testutil.ToFloat64(m.Errors.WithLabelValues("http_panic")))
	require.Contains(t, logged.String(), "http handler panicked")
	require.Contains(t, logged.String(), "path=/boom")

	require.Equal(t, http.StatusOK, serve(s, httptest.NewRequest("GET", "/healthz", nil)).Code)
	require.PanicsWithValue(t, http.ErrAbortHandler, func() { serve(s, httptest.NewRequest("GET", "/abort", nil)) })
	require.Equal(t, 1.0, testutil.ToFloat64(m.Errors.WithLabelValues("http_panic")), "an abort is not an error")
}

// Requests are logged with method, path, status and duration, never the
// query string (a session token, a patient's words); failures louder than
// successes; probes and scrapes not at all.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var logged bytes.Buffer
	s := httpserver.New(httpserver.Options{Logger: slog.New(slog.NewJSONHandler(&lockedWriter{mu: &mu, w: &logged}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: metrics.New()})
	s.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "fine") })
	s.HandleFunc("GET /bad", func(w http.ResponseWriter, _ *http.Request) { httpserver.WriteError(w, http.StatusBadRequest, "no") })
	s.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })

	for _, p := range []string{"/ok?session=s3cr3t-token", "/bad?text=my+ssn+is+123", "/fail", "/healthz", "/metrics"} {
		serve(s, httptest.NewRequest("GET", p, nil))
	}
	mu.Lock()
	defer mu.Unlock()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logged.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines = append(lines, m)
	}
	require.Len(t, lines, 3, logged.String())
	for i, want := range []struct {
		level, path string
		status      float64
	}{
		{"DEBUG", "/ok", 200}, {"INFO", "/bad", 400}, {"WARN", "/fail", 502},
	} {
		require.Equal(t, "http request", lines[i]["msg"])
		require.Equal(t, want.level, lines[i]["level"], want.path)
		require.Equal(t, want.path, lines[i]["path"])
		require.Equal(t, "GET", lines[i]["method"])
		require.Equal(t, want.status, lines[i]["status"])
		require.Contains(t, lines[i], "duration_ms")
	}
	require.NotContains(t, logged.String(), "s3cr3t")
	require.NotContains(t, logged.String(), "ssn")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// The admin cookie is Secure whenever the browser reached Tend over TLS:
// directly, through a trusted proxy that says so (X-Forwarded-Proto), or
// when the public URL is https; an untrusted client's X-Forwarded-Proto
// proves nothing. The server's ClientIP believes the same proxies.
func TestSecureCookieAndClientIPBehindProxies(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name, publicURL, remote, proto string
		proxies                        []netip.Prefix
		wantSecure                     bool
		wantIP                         string
	}{
		{"plain HTTP", "", "203.0.113.9:1", "", proxies, false, "203.0.113.9"},
		{"TLS ends at a trusted proxy", "", "10.0.0.2:1", "https", proxies, true, "198.51.100.7"},
		{"the proxy's first hop counts", "", "10.0.0.2:1", "https, http", proxies, true, "198.51.100.7"},
		{"a trusted proxy over HTTP", "", "10.0.0.2:1", "http", proxies, false, "198.51.100.7"},
		{"an untrusted client says https", "", "203.0.113.9:1", "https", proxies, false, "203.0.113.9"},
		{"no proxies trusted", "", "10.0.0.2:1", "https", nil, false, "10.0.0.2"},
		{"public https URL", "https://tend.example", "203.0.113.9:1", "", proxies, true, "203.0.113.9"},
		{"public http URL", "http://tend.example", "203.0.113.9:1", "", proxies, false, "203.0.113.9"},
	} {
		s := newServer(t)
		s.Secure(httpserver.Security{AdminToken: adminToken, TrustedProxies: tc.proxies, PublicURL: tc.publicURL})
		s.HandleFunc("GET /ip", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, s.ClientIP(r)) })
		req := func(method, path string) *http.Request {
			r := httptest.NewRequest(method, "http://tend.example"+path, nil)
			r.RemoteAddr = tc.remote
			r.Header.Set("X-Forwarded-For", "198.51.100.7")
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			return r
		}
		r := req("POST", "/api/v1/admin/session")
		r.Header.Set("Authorization", "Bearer "+adminToken)
		rec := serve(s, r)
		require.Equal(t, http.StatusOK, rec.Code, tc.name)
		cookies := rec.Result().Cookies()
		require.Len(t, cookies, 1, tc.name)
		require.Equal(t, tc.wantSecure, cookies[0].Secure, tc.name)
		require.Equal(t, tc.wantIP, serve(s, req("GET", "/ip")).Body.String(), tc.name)
	}
}

// Shutting down: readiness fails at once (draining), handlers can see it
// (long-lived streams end themselves), requests in flight finish, and
// ListenAndServe returns when they have; one that outlasts the grace
// period makes it return the deadline error instead of hanging.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	started, release := make(chan struct{}), make(chan struct{})
	s.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc, done := make(chan net.Addr, 1), make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0", 10*time.Second, func(a net.Addr) { addrc <- a }) }()
	addr := <-addrc
	require.False(t, s.Draining())

	type result struct {
		code int
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{code: resp.StatusCode, body: string(b), err: err}
	}()
	<-started
	cancel()
	require.Eventually(t, s.Draining, 5*time.Second, 5*time.Millisecond)
	rec := serve(s, httptest.NewRequest("GET", "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "draining", status(t, rec))
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	}, 5*time.Second, 10*time.Millisecond, "new connections are refused")
	select {
	case err := <-done:
		t.Fatalf("ListenAndServe returned with a request in flight: %v", err)
	default:
	}

	close(release)
	r := <-slow
	require.NoError(t, r.err)
	require.Equal(t, http.StatusOK, r.code)
	require.Equal(t, "finished", r.body)
	require.NoError(t, <-done)

	// A request that does not finish within the grace period.
	s = newServer(t)
	stuck, unstick := make(chan struct{}), make(chan struct{})
	defer close(unstick)
	s.HandleFunc("GET /stuck", func(http.ResponseWriter, *http.Request) {
		close(stuck)
		<-unstick
	})
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() {
		done <- s.ListenAndServe(ctx, "127.0.0.1:0", 100*time.Millisecond, func(a net.Addr) { addrc <- a })
	}()
	addr = <-addrc
	go func() {
		if resp, err := http.Get("http://" + addr.String() + "/stuck"); err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-stuck
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not give up after the grace period")
	}
}

// A listener that cannot open is an error at once, not a hang.
func TestListenError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = newServer(t).ListenAndServe(context.Background(), ln.Addr().String(), time.Second, func(net.Addr) {
		t.Error("ready called for a listener that did not open")
	})
	require.Error(t, err)
	var opErr *net.OpError
	require.True(t, errors.As(err, &opErr), "%T: %v", err, err)
}

// Server-sent events (the web chat's stream) go out as they are written:
// a flush passes through every middleware to the client.
func TestFlushReachesTheClient(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	release := make(chan struct{})
	s.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "headers did not arrive while the handler was still running")
	defer resp.Body.Close()
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err, "the first event did not arrive while the handler was still running")
	require.Equal(t, "data: first\n", line)
}

// RandomToken makes the session and chat ids handed to browsers: n random
// bytes as 2n hex digits, never the same twice.
func TestRandomToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, n := range []int{1, 8, 16, 32} {
		for range 100 {
			tok := httpserver.RandomToken(n)
			require.Len(t, tok, 2*n)
			require.Regexp(t, `^[0-9a-f]+$`, tok)
			if n >= 8 {
				require.False(t, seen[tok], "repeated token %s", tok)
				seen[tok] = true
			}
		}
	}
}
