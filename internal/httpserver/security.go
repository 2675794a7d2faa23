package httpserver

import (
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tend-health/tend/internal/config"
)

// Security is the server-wide protection a deployment configures: which
// proxies to believe, who may read /metrics and where, and the admin token
// for the browser sign-in endpoints.
type Security struct {
	// TrustedProxies are believed for X-Forwarded-For and X-Forwarded-Proto.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// MetricsAddr, when set, serves /metrics on that address only (the
	// main address answers 404 there).
	MetricsAddr string
	// AdminToken enables the admin sign-in endpoints (/api/v1/admin/session).
	AdminToken string
	// PublicURL starting with https:// marks cookies Secure even when TLS
	// ends at a proxy that is not listed as trusted.
	PublicURL string
}

// SecurityFrom reads the settings from the configuration.
func SecurityFrom(c config.Config) Security {
	return Security{
		TrustedProxies: c.Security.TrustedProxyPrefixes(),
		MetricsToken:   c.Security.MetricsToken.Reveal(),
		MetricsAddr:    c.Security.MetricsAddr,
		AdminToken:     c.AdminToken.Reveal(),
		PublicURL:      c.PublicURL,
	}
}

// Secure applies the settings; call it once while assembling, before
// serving. (The web module does, since every serving assembly installs it.)
func (s *Server) Secure(sec Security) {
	s.secMu.Lock()
	defer s.secMu.Unlock()
	s.sec = sec
	s.trust = NewProxyTrust(sec.TrustedProxies)
	if sec.AdminToken != "" && !s.adminRouted {
		s.adminRouted = true
		s.adminRoutes(sec.AdminToken)
	}
}

func (s *Server) security() (Security, *ProxyTrust) {
	s.secMu.RLock()
	defer s.secMu.RUnlock()
	return s.sec, s.trust
}

// ClientIP is the request's client address, through trusted proxies only.
func (s *Server) ClientIP(r *http.Request) string {
	_, trust := s.security()
	return trust.ClientIP(r)
}

// overTLS reports whether the browser reached us over TLS: directly, through
// a trusted proxy that says so, or as the configured public https URL.
func (s *Server) overTLS(r *http.Request) bool {
	sec, trust := s.security()
	return r.TLS != nil || trust.ForwardedTLS(r) || strings.HasPrefix(sec.PublicURL, "https://")
}

// metrics serves /metrics on the main address: 404 when it has an address
// of its own, else behind the token when one is set.
func (s *Server) metricsHandler(main bool) http.Handler {
	prom := promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sec, _ := s.security()
		if main && sec.MetricsAddr != "" {
			http.NotFound(w, r)
			return
		}
		if sec.MetricsToken != "" {
			if got, ok := bearer(r); !ok || !equal(got, sec.MetricsToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tend-metrics"`)
				WriteError(w, http.StatusUnauthorized, "metrics token required")
				return
			}
		}
		prom.ServeHTTP(w, r)
	})
}

// protect is the front of every request: a path that is not valid UTF-8
// or holds control characters (NUL included) is refused with 400 before any
// handler sees it; every response says X-Content-Type-Options: nosniff; and
// every HTML (or SVG) page gets a Content-Security-Policy frame-ancestors
// ('none' unless the handler set its own), so no page of Tend can be framed
// by a site that was not allowed to.
func (s *Server) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !cleanPath(r.URL.Path) || !cleanPath(r.URL.RawPath) {
			WriteError(w, http.StatusBadRequest, "malformed path")
			return
		}
		next.ServeHTTP(&pageGuard{ResponseWriter: w}, r)
	})
}

func cleanPath(p string) bool {
	if !utf8.ValidString(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// pageGuard adds frame-ancestors to documents as their headers go out.
type pageGuard struct {
	http.ResponseWriter
	done bool
}

func (g *pageGuard) WriteHeader(code int) {
	g.guard(nil)
	g.ResponseWriter.WriteHeader(code)
}

func (g *pageGuard) Write(b []byte) (int, error) {
	g.guard(b)
	return g.ResponseWriter.Write(b)
}

// Flush lets server-sent events through.
func (g *pageGuard) Flush() {
	g.guard(nil)
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the original writer to http.ResponseController.
func (g *pageGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (g *pageGuard) guard(first []byte) {
	if g.done {
		return
	}
	g.done = true
	h := g.Header()
	ct := h.Get("Content-Type")
	if ct == "" && first != nil {
		// net/http would sniff the type after us; decide it here so that a
		// page without a declared type is still recognized as one.
		ct = http.DetectContentType(first)
		h.Set("Content-Type", ct)
	}
	if ct != "" && !isDocument(ct) {
		return // an undeclared type may still turn out to be a page: guarded too
	}
	csp := h.Get("Content-Security-Policy")
	switch {
	case strings.Contains(csp, "frame-ancestors"):
	case strings.TrimSpace(csp) == "":
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	default:
		h.Set("Content-Security-Policy", strings.TrimRight(strings.TrimSpace(csp), ";")+"; frame-ancestors 'none'")
	}
}

func isDocument(ct string) bool {
	ct = strings.ToLower(ct)
	for _, p := range []string{"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"} {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}
