package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// send posts a message with the session as a bearer token (and in the
// body, where earlier versions took it) and returns the status and, for a
// refusal, the error code.
func send(t *testing.T, base, session, id, text string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"session": session, "id": id, "text": text})
	req, _ := http.NewRequest("POST", base+"/api/v1/web/messages", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if session != "" {
		req.Header.Set("Authorization", "Bearer "+session)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	return resp.StatusCode, errorCode(t, resp)
}

func errorCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	if resp.StatusCode < 400 {
		_, _ = io.Copy(io.Discard, resp.Body)
		return ""
	}
	var j struct{ Error, Code string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&j))
	require.NotEmpty(t, j.Error)
	return j.Code
}

// history reads the conversation with a bearer token: status and error code.
func history(t *testing.T, base, session string) (int, string) {
	t.Helper()
	resp := get(t, base+"/api/v1/web/messages", session)
	defer resp.Body.Close()
	return resp.StatusCode, errorCode(t, resp)
}

func countRows(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

// TestForgedSessionIsRefused: a session the server did not issue (any 48
// hex digits used to pass) is refused everywhere with 401 and a code the
// page understands, and creates nothing.
func TestForgedSessionIsRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, srv := server(t, db, nil)
		forged := strings.Repeat("ab", 24)
		code, errCode := send(t, srv.URL, forged, "m1", "crushing chest pain")
		require.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, "session_expired", errCode)
		// The body's session field (accepted for messages) is checked the same way.
		resp, _ := post(t, srv.URL, map[string]string{"session": forged, "id": "m2", "text": "hi"})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		code, errCode = history(t, srv.URL, forged)
		require.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, "session_expired", errCode)
		ev := get(t, srv.URL+"/api/v1/web/events", forged)
		ev.Body.Close()
		require.Equal(t, http.StatusUnauthorized, ev.StatusCode)
		require.Contains(t, ev.Header.Get("WWW-Authenticate"), "invalid_token")
		require.Zero(t, countRows(t, db, "conversations"))
		require.Zero(t, countRows(t, db, "inbound_messages"))

		// An issued one works, and the database keeps only its hash.
		s := newSession(t, srv.URL)
		code, _ = send(t, srv.URL, s, "m1", "hello")
		require.Equal(t, http.StatusOK, code)
		// The message names its source address for grouping urgent staff
		// alerts, as a keyed hash: no address is stored.
		var meta string
		require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT meta FROM inbound_messages`).Scan(&meta))
		require.Contains(t, meta, `"`+handoff.MetaSourceAddr+`"`)
		require.NotContains(t, meta, "127.0.0.1")
		var n int
		require.NoError(t, db.Q().QueryRow(context.Background(),
			`SELECT count(*) FROM web_sessions WHERE token_hash = $1 OR chat_id = $1`, s).Scan(&n))
		require.Zero(t, n, "the token itself is not stored")
	})
}

// TestSessionExpiresWhenIdle: 24 hours without activity end an anonymous
// chat, 30 minutes a verified one (TEND_WEB_SESSION_IDLE); activity is a
// message or a history load, not an open event stream.
func TestSessionExpiresWhenIdle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(apptest.Epoch)
		_, srv := serverWithClock(t, db, nil, clk)

		// Anonymous: activity keeps it alive, 24 h of silence ends it.
		s := newSession(t, srv.URL)
		code, _ := send(t, srv.URL, s, "m1", "hello")
		require.Equal(t, http.StatusOK, code)
		clk.Advance(23 * time.Hour)
		code, _ = history(t, srv.URL, s)
		require.Equal(t, http.StatusOK, code, "a reload is activity")
		clk.Advance(23 * time.Hour)
		ev := get(t, srv.URL+"/api/v1/web/events", s)
		require.Equal(t, http.StatusOK, ev.StatusCode)
		ev.Body.Close()
		clk.Advance(time.Hour + time.Second)
		code, errCode := history(t, srv.URL, s)
		require.Equal(t, http.StatusUnauthorized, code, "an open event stream is not activity")
		require.Equal(t, "session_expired", errCode)
		code, _ = send(t, srv.URL, s, "m2", "hello again")
		require.Equal(t, http.StatusUnauthorized, code, "an expired session does not come back")

		// Verified (booking records the patient on the conversation when
		// the identity check succeeds): 30 minutes.
		v := newSession(t, srv.URL)
		code, _ = send(t, srv.URL, v, "m1", "hello")
		require.Equal(t, http.StatusOK, code)
		verify(t, db)
		clk.Advance(29 * time.Minute)
		code, _ = send(t, srv.URL, v, "m2", "when is my appointment?")
		require.Equal(t, http.StatusOK, code)
		clk.Advance(20 * time.Minute)
		code, _ = history(t, srv.URL, v)
		require.Equal(t, http.StatusOK, code, "a message is activity (recorded in its turn)")
		clk.Advance(30*time.Minute + time.Second)
		code, errCode = history(t, srv.URL, v)
		require.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, "session_expired", errCode)
	})
}

// verify marks every web conversation verified, as booking does on a
// successful identity check (dialogs/booking/verify.go: Conv.PatientID).
func verify(t *testing.T, db *store.DB) {
	t.Helper()
	_, err := db.Q().Exec(context.Background(), `UPDATE conversations SET patient_id = 1 WHERE channel = 'web'`)
	require.NoError(t, err)
}

func TestSessionIdleIsConfigurable(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	clk := clock.NewFake(apptest.Epoch)
	_, srv := serverWithClock(t, db, map[string]string{"TEND_WEB_SESSION_IDLE": "5m", "TEND_WEB_SESSION_IDLE_ANONYMOUS": "1h"}, clk)
	a, v := newSession(t, srv.URL), newSession(t, srv.URL)
	code, _ := send(t, srv.URL, v, "m1", "hello")
	require.Equal(t, http.StatusOK, code)
	verify(t, db)
	clk.Advance(6 * time.Minute)
	code, _ = history(t, srv.URL, v)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = history(t, srv.URL, a)
	require.Equal(t, http.StatusOK, code)
	clk.Advance(time.Hour + time.Second)
	code, _ = history(t, srv.URL, a)
	require.Equal(t, http.StatusUnauthorized, code)
}

// TestStartNewChatEndsTheSession: DELETE /api/v1/web/sessions ends the
// session on the server: the old token reads nothing more, and its open
// event stream closes.
func TestStartNewChatEndsTheSession(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, srv := server(t, db, nil)
		s := newSession(t, srv.URL)
		code, _ := send(t, srv.URL, s, "m1", "hello")
		require.Equal(t, http.StatusOK, code)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/web/events", nil)
		req.Header.Set("Authorization", "Bearer "+s)
		stream, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer stream.Body.Close()
		require.Equal(t, http.StatusOK, stream.StatusCode)

		del := func(token string) int {
			req, _ := http.NewRequest("DELETE", srv.URL+"/api/v1/web/sessions", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		require.Equal(t, http.StatusUnauthorized, del(""))
		require.Equal(t, http.StatusNoContent, del(s))
		require.Equal(t, http.StatusNoContent, del(s), "ending twice is harmless")
		_, err = io.Copy(io.Discard, stream.Body)
		require.NoError(t, err, "the stream ended with the session")
		code, errCode := history(t, srv.URL, s)
		require.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, "session_expired", errCode)
		code, _ = send(t, srv.URL, s, "m2", "hello")
		require.Equal(t, http.StatusUnauthorized, code)
		require.Zero(t, countRows(t, db, "web_sessions"))
	})
}

// TestSessionNeverInTheURL: the query form is refused (URLs end up in
// logs, histories and Referer headers), even with a live session.
func TestSessionNeverInTheURL(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	_, srv := server(t, db, nil)
	s := newSession(t, srv.URL)
	for _, path := range []string{"/api/v1/web/messages?session=" + s, "/api/v1/web/events?session=" + s + "&after=0"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, path)
		require.Contains(t, string(b), "Authorization")
	}
	code, _ := history(t, srv.URL, s)
	require.Equal(t, http.StatusOK, code)
}

// TestOneAddressCannotFlood: sessions are issued at most 20 at once per
// address, and one address's messages are capped across all its sessions
// (ten times the per-session rate by default, bursts of a fifth of that).
// Before, a client minting its own sessions pushed 6,000 messages in 10 s.
func TestOneAddressCannotFlood(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	// The clock stands still, so the buckets never refill during the test:
	// what gets through is the bursts, however slow the machine is.
	clk := clock.NewFake(time.Now())
	_, srv := serverWithClock(t, db, nil, clk)
	var sessions []string
	for range 30 {
		resp, err := http.Post(srv.URL+"/api/v1/web/sessions", "application/json", nil)
		require.NoError(t, err)
		var j struct{ Session string }
		_ = json.NewDecoder(resp.Body).Decode(&j)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			require.NotEmpty(t, resp.Header.Get("Retry-After"))
			break
		}
		sessions = append(sessions, j.Session)
	}
	require.Len(t, sessions, 20, "new sessions are rate limited per address: a burst of 20")

	start := time.Now()
	var mu sync.Mutex
	accepted, limited := 0, 0
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 15 {
				code, _ := send(t, srv.URL, s, fmt.Sprintf("s%dm%d", i, j), "hi")
				mu.Lock()
				switch code {
				case http.StatusOK:
					accepted++
				case http.StatusTooManyRequests:
					limited++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// The address's burst is 60 (a fifth of 300 a minute); the clock did
	// not move, so nothing refilled.
	t.Logf("%d sessions, %d messages accepted and %d refused in %v", len(sessions), accepted, limited, time.Since(start))
	require.Equal(t, 60, accepted)
	require.Equal(t, 20*15-60, limited)
}

// TestTrustedProxies: behind a reverse proxy every patient shares its
// address; with TEND_TRUSTED_PROXIES the client named in X-Forwarded-For
// is limited instead, and from anyone else the header is ignored.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	newFrom := func(base, client string) int {
		req, _ := http.NewRequest("POST", base+"/api/v1/web/sessions", nil)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	_, proxied := server(t, db, map[string]string{"TEND_TRUSTED_PROXIES": "127.0.0.1/32,::1"})
	for i := range 40 {
		require.Equal(t, http.StatusCreated, newFrom(proxied.URL, fmt.Sprintf("198.51.100.%d", i+1)), "patient %d", i)
	}
	refused := 0
	for range 25 {
		if newFrom(proxied.URL, "203.0.113.5") == http.StatusTooManyRequests {
			refused++
		}
	}
	require.Positive(t, refused, "one client behind the proxy is still limited")

	// Without trusted proxies the header is anyone's to forge, and ignored.
	_, direct := server(t, db, nil)
	refused = 0
	for i := range 40 {
		if newFrom(direct.URL, fmt.Sprintf("198.51.100.%d", i+1)) == http.StatusTooManyRequests {
			refused++
		}
	}
	require.Positive(t, refused, "forged X-Forwarded-For does not escape the limit")
}

// TestBadInputAtTheEdge: a NUL, broken UTF-8, bidi overrides or a huge
// locale never reach the database (a NUL used to make PostgreSQL refuse the
// message: 503 forever), and malformed paths are 400, not 500.
func TestBadInputAtTheEdge(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, srv := server(t, db, nil)
		s := newSession(t, srv.URL)
		postRaw := func(body string) int {
			body = `{"session":"` + s + `",` + body[1:]
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/web/messages", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+s)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		require.Equal(t, http.StatusOK, postRaw(`{"id":"n1","text":"hi","locale":"en\u0000US"}`))
		require.Equal(t, http.StatusOK, postRaw(`{"id":"n2","text":"pay \u202egnp.exe\u0000 now","locale":"es-MX"}`))
		require.Equal(t, http.StatusOK, postRaw(`{"id":"n3","text":"bad `+"\xff\xfe"+` utf8","locale":"`+strings.Repeat("a", 60000)+`"}`))
		require.Equal(t, http.StatusOK, postRaw(`{"id":"n4","text":"hello","payload":"menu:main\u0000","locale":"fr\u202e"}`))

		rows, err := db.Q().Query(context.Background(), `SELECT text, payload, locale FROM inbound_messages ORDER BY id`)
		require.NoError(t, err)
		defer rows.Close()
		var got [][3]string
		for rows.Next() {
			var r [3]string
			require.NoError(t, rows.Scan(&r[0], &r[1], &r[2]))
			got = append(got, r)
		}
		require.NoError(t, rows.Err())
		require.Len(t, got, 4)
		for _, r := range got {
			for _, f := range r {
				require.NotContains(t, f, "\x00")
				require.NotContains(t, f, "\u202e")
			}
			require.LessOrEqual(t, len(r[2]), 35, "locale capped")
		}
		require.Equal(t, "enUS", got[0][2])
		require.Equal(t, "pay gnp.exe now", got[1][0])
		require.Equal(t, "es-MX", got[1][2])
		require.True(t, utf8.ValidString(got[2][0]) && strings.HasPrefix(got[2][0], "bad ") && strings.HasSuffix(got[2][0], " utf8"), got[2][0])
		require.Equal(t, "", got[2][2], "not a language tag")
		require.Equal(t, "menu:main", got[3][1])

		for _, path := range []string{"/static/%FF", "/static/%00", "/chat%00", "/%C3%28", "/api/v1/web/messages%00", "/static/app.js%0A"} {
			resp, err := http.Get(srv.URL + path)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, path)
		}
	})
}

// TestEveryPageCarriesFrameAncestors: the chat page, its static files and
// the widget say who may frame them (by default only this server) and
// nosniff; the static folder is not listed.
func TestEveryPageCarriesFrameAncestors(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	_, srv := server(t, db, nil)
	for _, path := range []string{"/", "/chat?embed=1", "/static/app.js", "/static/app.css", "/widget.js",
		"/api/v1/web/messages", "/healthz"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || strings.HasPrefix(path, "/static/") {
			csp := resp.Header.Get("Content-Security-Policy")
			require.Contains(t, csp, "frame-ancestors 'self'", path)
			require.NotContains(t, csp, "*", path)
		}
	}
	for _, path := range []string{"/static/", "/static/index.html"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "no directory listing: %s", path)
	}

	_, anyone := server(t, db, map[string]string{"TEND_WEB_ALLOWED_ORIGINS": "*"})
	resp, err := http.Get(anyone.URL + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors *")
}

// TestEventStreamsAreCapped: per session (429), per replica (503), and each
// held a bounded time, after which it ends and the page reconnects.
func TestEventStreamsAreCapped(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	_, srv := server(t, db, map[string]string{"TEND_WEB_STREAMS_PER_SESSION": "2", "TEND_WEB_STREAMS_MAX": "3",
		"TEND_WEB_STREAM_MAX_AGE": "2s"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := func(s string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/web/events", nil)
		req.Header.Set("Authorization", "Bearer "+s)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		if resp.StatusCode == http.StatusOK {
			// The stream is registered once its first bytes arrive.
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "retry: 3000\n", line)
		}
		return resp
	}
	a, b, c := newSession(t, srv.URL), newSession(t, srv.URL), newSession(t, srv.URL)
	a1, a2 := open(a), open(a)
	defer a1.Body.Close()
	defer a2.Body.Close()
	require.Equal(t, http.StatusOK, a1.StatusCode)
	require.Equal(t, http.StatusOK, a2.StatusCode)
	a3 := open(a)
	a3.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, a3.StatusCode)
	require.NotEmpty(t, a3.Header.Get("Retry-After"))
	b1 := open(b)
	defer b1.Body.Close()
	require.Equal(t, http.StatusOK, b1.StatusCode)
	c1 := open(c)
	c1.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, c1.StatusCode)

	start := time.Now()
	for _, r := range []*http.Response{a1, a2, b1} {
		_, err := io.Copy(io.Discard, r.Body)
		require.NoError(t, err, "the server ends the stream")
	}
	require.Less(t, time.Since(start), 10*time.Second)
	require.Eventually(t, func() bool {
		r := open(c)
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "room again once they ended")
}

// TestMetricsToken: TEND_METRICS_TOKEN puts /metrics behind a bearer token.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	_, srv := server(t, db, map[string]string{"TEND_METRICS_TOKEN": "metrics-token-0123456789"})
	resp := get(t, srv.URL+"/metrics", "")
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp = get(t, srv.URL+"/metrics", "metrics-token-0123456789")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(b), "tend_messages_in_total")
}
