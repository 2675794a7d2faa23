// Package httpserver is Tend's HTTP front: routing, request logging without
// bodies, panic recovery, body limits, health, readiness and metrics.
package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-health/tend/internal/metrics"
	"github.com/tend-health/tend/internal/store"
)

// Options configure the server.
type Options struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	DB      *store.DB
}

// Server routes Tend's HTTP endpoints.
type Server struct {
	mux      *http.ServeMux
	log      *slog.Logger
	metrics  *metrics.Metrics
	db       *store.DB
	draining atomic.Bool
	migrated atomic.Bool
	srv      *http.Server

	secMu       sync.RWMutex
	sec         Security
	trust       *ProxyTrust
	adminRouted bool
	metricsAt   atomic.Pointer[net.Addr]
	auditor     atomic.Pointer[Auditor]
	accounts    atomic.Pointer[Accounts]
	frame       atomic.Pointer[Frame]
}

// New returns a server with /healthz, /readyz and /metrics routed.
func New(o Options) *Server {
	s := &Server{mux: http.NewServeMux(), log: o.Logger, metrics: o.Metrics, db: o.DB}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metricsHandler(true))
	return s
}

// Handle routes a pattern ("POST /webhooks/whatsapp") to h.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleFunc routes a pattern to f.
func (s *Server) HandleFunc(pattern string, f http.HandlerFunc) { s.mux.HandleFunc(pattern, f) }

// Handler is the whole server with its middleware.
func (s *Server) Handler() http.Handler {
	return s.recoverer(s.logRequests(s.protect(s.withAuditor(s.mux))))
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether this replica should get traffic: not while draining,
// not without a database, not before migrations are applied.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("readiness: database unreachable", "error", err)
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	// Migrations never go backwards while running, so one success is enough.
	if !s.migrated.Load() {
		pending, err := s.db.MigrationsPending(ctx)
		if err != nil || pending {
			WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "migrations pending"})
			return
		}
		s.migrated.Store(true)
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// ListenAndServe serves on addr until ctx ends, then shuts down gracefully:
// readiness fails, new connections are refused, in-flight requests finish
// (up to grace). With Security.MetricsAddr it also serves /metrics there.
func (s *Server) ListenAndServe(ctx context.Context, addr string, grace time.Duration, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if sec, _ := s.security(); sec.MetricsAddr != "" {
		stop, err := s.serveMetrics(sec.MetricsAddr)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stop()
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveMetrics serves only /metrics on addr until stop is called.
func (s *Server) serveMetrics(addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address: %w", err)
	}
	a := ln.Addr()
	s.metricsAt.Store(&a)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler(false))
	srv := &http.Server{Handler: s.recoverer(mux), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

// MetricsListenAddr is where the separate metrics listener listens, once
// ListenAndServe has opened it (nil without TEND_METRICS_ADDR).
func (s *Server) MetricsListenAddr() net.Addr {
	if a := s.metricsAt.Load(); a != nil {
		return *a
	}
	return nil
}

// Draining reports whether shutdown began; long-lived streams watch it.
func (s *Server) Draining() bool { return s.draining.Load() }

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush lets server-sent events through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the original writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs method, path, status and duration; never bodies or query
// strings, which may carry session tokens or patient text.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			return
		}
		level := slog.LevelDebug
		if sw.status >= 400 {
			level = slog.LevelInfo
		}
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		s.log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("http handler panicked", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				s.metrics.Errors.WithLabelValues("http_panic").Inc()
				WriteError(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// RandomToken returns n random bytes, hex encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system's random source failed: nothing is safe to issue
	}
	return hex.EncodeToString(b)
}
