package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/metrics"
)

func newServer(t *testing.T) *httpserver.Server {
	t.Helper()
	return httpserver.New(httpserver.Options{Logger: logging.Discard(), Metrics: metrics.New()})
}

func serve(s *httpserver.Server, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	return rec
}

// TestDecodeJSON: one helper decides what a JSON body is, for every
// handler: exactly application/json (415 otherwise, a missing type too),
// bounded (413), one value and nothing after it (400).
func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var v struct{ A int }
		if httpserver.DecodeJSON(w, r, &v, httpserver.JSONOptions{MaxBytes: 64, KnownFieldsOnly: true}) {
			httpserver.WriteJSON(w, http.StatusOK, v)
		}
	})
	s.HandleFunc("POST /raw", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := httpserver.ReadJSON(w, r, httpserver.JSONOptions{}); ok {
			_, _ = w.Write(b)
		}
	})
	for _, c := range []struct {
		path, ct, body string
		want           int
	}{
		{"/echo", "application/json", `{"A":1}`, http.StatusOK},
		{"/echo", "application/json; charset=utf-8", `{"A":1}`, http.StatusOK},
		{"/echo", "Application/JSON; charset=UTF-8", ` {"A":1} ` + "\n", http.StatusOK},
		{"/echo", "", `{"A":1}`, http.StatusUnsupportedMediaType},
		{"/echo", "application/jsonp", `{"A":1}`, http.StatusUnsupportedMediaType},
		{"/echo", "application/json-seq", `{"A":1}`, http.StatusUnsupportedMediaType},
		{"/echo", "text/plain", `{"A":1}`, http.StatusUnsupportedMediaType},
		{"/echo", "application/x-www-form-urlencoded", `A=1`, http.StatusUnsupportedMediaType},
		{"/echo", "application/json; charset=latin1", `{"A":1}`, http.StatusUnsupportedMediaType},
		{"/echo", "application/json; boundary=x", `{"A":1}`, http.StatusUnsupportedMediaType},
		{"/echo", "application/json", `{"A":1}{"A":2}`, http.StatusBadRequest},
		{"/echo", "application/json", `{"A":1} trailing`, http.StatusBadRequest},
		{"/echo", "application/json", `{"A":1}]`, http.StatusBadRequest},
		{"/echo", "application/json", ``, http.StatusBadRequest},
		{"/echo", "application/json", `{"A":"x"}`, http.StatusBadRequest},
		{"/echo", "application/json", `{"B":1}`, http.StatusBadRequest},
		{"/echo", "application/json", `{"A":1,"pad":"` + strings.Repeat("x", 80) + `"}`, http.StatusRequestEntityTooLarge},
		{"/raw", "application/json", `[1,2]`, http.StatusOK},
		{"/raw", "application/json", `[1,2] [3]`, http.StatusBadRequest},
		{"/raw", "application/json", `{"a":`, http.StatusBadRequest},
	} {
		r := httptest.NewRequest("POST", c.path, strings.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		rec := serve(s, r)
		require.Equal(t, c.want, rec.Code, "%s %q %q: %s", c.path, c.ct, c.body, rec.Body.String())
		if c.want != http.StatusOK {
			require.Contains(t, rec.Body.String(), `"error"`)
		}
	}
}

func TestProxyTrustClientIP(t *testing.T) {
	t.Parallel()
	trust := httpserver.NewProxyTrust([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")})
	for _, c := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy: the peer", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer: the header is ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer: the client it names", "10.0.0.2:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"forged entries left of the real client are ignored", "10.0.0.2:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies", "10.0.0.2:5000", []string{"198.51.100.1, 10.1.1.1, 10.2.2.2"}, "198.51.100.1"},
		{"several headers read as one list", "10.0.0.2:5000", []string{"1.2.3.4", "198.51.100.1, 10.1.1.1"}, "198.51.100.1"},
		{"a port on a hop", "10.0.0.2:5000", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6", "[fd00::1]:5000", []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
		{"garbage stops at the last good hop", "10.0.0.2:5000", []string{"198.51.100.1, nonsense, 10.1.1.1"}, "10.1.1.1"},
		{"only trusted hops: the leftmost", "10.0.0.2:5000", []string{"10.9.9.9"}, "10.9.9.9"},
		{"trusted peer without the header", "10.0.0.2:5000", nil, "10.0.0.2"},
		{"an IPv4-mapped peer", "[::ffff:10.0.0.2]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		require.Equal(t, c.want, trust.ClientIP(r), c.name)
	}
	var none *httpserver.ProxyTrust
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	require.Equal(t, "10.0.0.2", none.ClientIP(r), "no trust configured")
}

const adminToken = "admin-token-0123456789"

// TestAdminCookieNeedsCSRF: a page on another site can make a browser send
// the admin cookie but can neither read the CSRF token nor pass the origin
// check; the bearer header is not affected.
func TestAdminCookieNeedsCSRF(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.Secure(httpserver.Security{AdminToken: adminToken})
	changed := 0
	s.Handle("POST /api/v1/thing", httpserver.RequireAdmin(adminToken, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		changed++
		httpserver.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})))
	s.Handle("GET /api/v1/thing", httpserver.RequireAdmin(adminToken, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpserver.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})))

	// Sign in: the cookie is HttpOnly, SameSite=Strict, and holds a derived key.
	r := httptest.NewRequest("POST", "http://tend.example/api/v1/admin/session", nil)
	r.Header.Set("Authorization", "Bearer "+adminToken)
	rec := serve(s, r)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), httpserver.CSRFToken(adminToken))
	cookie := rec.Result().Cookies()[0]
	require.Equal(t, httpserver.AdminCookie, cookie.Name)
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
	require.False(t, cookie.Secure, "plain HTTP")
	require.NotEqual(t, adminToken, cookie.Value, "the token itself is not kept in the browser")
	r = httptest.NewRequest("POST", "https://tend.example/api/v1/admin/session", nil)
	r.Header.Set("Authorization", "Bearer "+adminToken)
	require.True(t, serve(s, r).Result().Cookies()[0].Secure, "Secure over TLS")
	r = httptest.NewRequest("POST", "http://tend.example/api/v1/admin/session", nil)
	r.AddCookie(cookie)
	require.Equal(t, http.StatusUnauthorized, serve(s, r).Code, "signing in needs the token itself")

	req := func(method string, hdr map[string]string, withCookie bool) int {
		r := httptest.NewRequest(method, "http://tend.example/api/v1/thing", strings.NewReader(`{}`))
		r.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		if withCookie {
			r.AddCookie(cookie)
		}
		return serve(s, r).Code
	}
	csrf := httpserver.CSRFToken(adminToken)
	for _, c := range []struct {
		name   string
		method string
		hdr    map[string]string
		cookie bool
		want   int
	}{
		{"a form on another site", "POST", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, true, http.StatusForbidden},
		{"another site that knows the CSRF token", "POST", map[string]string{"Origin": "https://evil.example", httpserver.CSRFHeader: csrf}, true, http.StatusForbidden},
		{"a sibling site", "POST", map[string]string{"Sec-Fetch-Site": "same-site", httpserver.CSRFHeader: csrf}, true, http.StatusForbidden},
		{"same origin without the token", "POST", map[string]string{"Origin": "http://tend.example"}, true, http.StatusForbidden},
		{"same origin with a wrong token", "POST", map[string]string{"Origin": "http://tend.example", httpserver.CSRFHeader: "x"}, true, http.StatusForbidden},
		{"no Origin and no Sec-Fetch-Site", "POST", map[string]string{httpserver.CSRFHeader: csrf}, true, http.StatusForbidden},
		{"the admin page itself", "POST", map[string]string{"Origin": "http://tend.example", "Sec-Fetch-Site": "same-origin", httpserver.CSRFHeader: csrf}, true, http.StatusOK},
		{"same origin (Sec-Fetch-Site only)", "POST", map[string]string{"Sec-Fetch-Site": "same-origin", httpserver.CSRFHeader: csrf}, true, http.StatusOK},
		{"reading with the cookie", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, http.StatusOK},
		{"a script with the bearer token", "POST", map[string]string{"Authorization": "Bearer " + adminToken}, false, http.StatusOK},
		{"a wrong bearer token", "POST", map[string]string{"Authorization": "Bearer nope"}, true, http.StatusUnauthorized},
		{"nothing", "POST", nil, false, http.StatusUnauthorized},
	} {
		require.Equal(t, c.want, req(c.method, c.hdr, c.cookie), c.name)
	}
	require.Equal(t, 3, changed)

	// The token set by hand as the cookie (the documented older way) works the same.
	r = httptest.NewRequest("POST", "http://tend.example/api/v1/thing", strings.NewReader(`{}`))
	r.AddCookie(&http.Cookie{Name: httpserver.AdminCookie, Value: adminToken})
	r.Header.Set("Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, serve(s, r).Code)

	// A signed-in page reads the CSRF token; signing out clears the cookie.
	r = httptest.NewRequest("GET", "http://tend.example/api/v1/admin/session", nil)
	r.AddCookie(cookie)
	require.Contains(t, serve(s, r).Body.String(), csrf)
	r = httptest.NewRequest("DELETE", "http://tend.example/api/v1/admin/session", nil)
	r.AddCookie(cookie)
	r.Header.Set("Origin", "http://tend.example")
	r.Header.Set(httpserver.CSRFHeader, csrf)
	rec = serve(s, r)
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Equal(t, -1, rec.Result().Cookies()[0].MaxAge)
}

// TestProtect: malformed paths are 400 before any handler; every response
// says nosniff; every page gets frame-ancestors.
func TestProtect(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.HandleFunc("GET /page", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		fmt.Fprint(w, "<p>admin</p>")
	})
	s.HandleFunc("GET /untyped", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<!doctype html><p>hi</p>") })
	s.HandleFunc("GET /own", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'self' https://clinic.example")
		fmt.Fprint(w, "<p>chat</p>")
	})
	s.HandleFunc("GET /data", func(w http.ResponseWriter, _ *http.Request) { httpserver.WriteJSON(w, 200, map[string]int{}) })
	s.Handle("GET /files/", http.StripPrefix("/files/", http.FileServerFS(fstestFS())))

	for path, want := range map[string]string{
		"/page":    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
		"/untyped": "frame-ancestors 'none'",
		"/own":     "frame-ancestors 'self' https://clinic.example",
		"/data":    "",
	} {
		rec := serve(s, httptest.NewRequest("GET", path, nil))
		require.Equal(t, http.StatusOK, rec.Code, path)
		require.Equal(t, want, rec.Header().Get("Content-Security-Policy"), path)
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), path)
	}
	for _, raw := range []string{"/files/%FF", "/files/%00", "/page%00", "/%C0%AF", "/files/a%0Ab", "/files/%7F"} {
		rec := serve(s, httptest.NewRequest("GET", raw, nil))
		require.Equal(t, http.StatusBadRequest, rec.Code, raw)
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), raw)
	}
}

// TestMetricsAccess: /metrics is open by default, behind a bearer token with
// TEND_METRICS_TOKEN, and only on its own address with TEND_METRICS_ADDR.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	get := func(s *httpserver.Server, auth string) int {
		r := httptest.NewRequest("GET", "/metrics", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return serve(s, r).Code
	}
	open := newServer(t)
	require.Equal(t, http.StatusOK, get(open, ""))

	locked := newServer(t)
	locked.Secure(httpserver.Security{MetricsToken: "metrics-token-0123456789"})
	require.Equal(t, http.StatusUnauthorized, get(locked, ""))
	require.Equal(t, http.StatusUnauthorized, get(locked, "Bearer wrong"))
	require.Equal(t, http.StatusOK, get(locked, "Bearer metrics-token-0123456789"))

	apart := newServer(t)
	apart.Secure(httpserver.Security{MetricsAddr: "127.0.0.1:0", MetricsToken: "metrics-token-0123456789"})
	require.Equal(t, http.StatusNotFound, get(apart, "Bearer metrics-token-0123456789"), "not on the main address")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- apart.ListenAndServe(ctx, "127.0.0.1:0", 5*time.Second, func(a net.Addr) { ready <- a })
	}()
	main := <-ready
	m := apart.MetricsListenAddr()
	require.NotNil(t, m)
	fetch := func(addr net.Addr, path, auth string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr.String()+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := fetch(m, "/metrics", "Bearer metrics-token-0123456789")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "go_goroutines")
	code, _ = fetch(m, "/metrics", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = fetch(m, "/healthz", "")
	require.Equal(t, http.StatusNotFound, code, "the metrics address serves nothing else")
	code, _ = fetch(main, "/metrics", "Bearer metrics-token-0123456789")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = fetch(main, "/healthz", "")
	require.Equal(t, http.StatusOK, code)
	cancel()
	require.NoError(t, <-done)
}

func fstestFS() fstest.MapFS {
	return fstest.MapFS{"a.txt": {Data: []byte("a")}}
}
