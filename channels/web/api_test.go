package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"

	"github.com/tend-health/tend/channels/web"
)

// server runs the real app in serve mode (jobs working) behind httptest.
func server(t testing.TB, db *store.DB, env map[string]string) (*app.App, *httptest.Server) {
	return serverWithClock(t, db, env, nil)
}

// serverWithClock is server on a given clock (nil: the real one).
func serverWithClock(t testing.TB, db *store.DB, env map[string]string, clk clock.Clock) (*app.App, *httptest.Server) {
	if env == nil {
		env = map[string]string{}
	}
	env["TEND_DATA_DIR"] = t.TempDir()
	cfg, err := config.LoadFrom(env)
	require.NoError(t, err)
	a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Config: &cfg, Clock: clk, Modules: []app.Module{web.Module{}}, Start: true})
	srv := httptest.NewServer(a.HTTP.Handler())
	t.Cleanup(srv.Close)
	return a, srv
}

// get sends a GET with the session as a bearer token.
func get(t *testing.T, url, session string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if session != "" {
		req.Header.Set("Authorization", "Bearer "+session)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

func newSession(t *testing.T, base string) string {
	resp, err := http.Post(base+"/api/v1/web/sessions", "application/json", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var j struct{ Session string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&j))
	require.Len(t, j.Session, 48)
	return j.Session
}

type reply struct {
	Duplicate bool       `json:"duplicate"`
	Replies   []bot.Sent `json:"replies"`
}

func post(t *testing.T, base string, body any) (*http.Response, reply) {
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"/api/v1/web/messages", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var r reply
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	}
	return resp, r
}

func TestMessageRoundTripAndHistory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a, srv := server(t, db, nil)
		s := newSession(t, srv.URL)
		resp, r := post(t, srv.URL, map[string]string{"session": s, "id": "m1", "text": "hello"})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Len(t, r.Replies, 1)
		require.Contains(t, r.Replies[0].Text, "Maple Grove")
		require.NotEmpty(t, r.Replies[0].Buttons)

		// Same id again (a browser retry): handled once, same reply.
		_, again := post(t, srv.URL, map[string]string{"session": s, "id": "m1", "text": "hello"})
		require.True(t, again.Duplicate)
		require.Equal(t, r.Replies[0].ID, again.Replies[0].ID)

		// A button press.
		_, r2 := post(t, srv.URL, map[string]string{"session": s, "id": "m2", "text": "Insurance", "payload": "menu:topic:insurance"})
		require.Contains(t, r2.Replies[0].Text, "insurance")

		hr := get(t, srv.URL+"/api/v1/web/messages", s)
		defer hr.Body.Close()
		var h struct {
			Messages []struct{ Role, Text string }
		}
		require.NoError(t, json.NewDecoder(hr.Body).Decode(&h))
		require.Len(t, h.Messages, 4)
		require.Equal(t, []string{"patient", "bot", "patient", "bot"},
			[]string{h.Messages[0].Role, h.Messages[1].Role, h.Messages[2].Role, h.Messages[3].Role})
		require.Equal(t, "Insurance", h.Messages[2].Text)

		conv, err := db.Q().FindConversation(context.Background(), "web", "")
		_ = conv
		require.ErrorIs(t, err, store.ErrNotFound, "chat ids are hashes, never the raw token")
		// The replies were recorded as sent by their turns (no delivery
		// job), under the ids the responses gave.
		var n int
		require.NoError(t, db.Q().QueryRow(context.Background(),
			`SELECT count(*) FROM outbound_messages WHERE status = 'sent' AND id IN ($1, $2)`,
			r.Replies[0].ID, r2.Replies[0].ID).Scan(&n))
		require.Equal(t, 2, n)
		_ = a
	})
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, srv := server(t, db, nil)
		s := newSession(t, srv.URL)
		raw := func(ct, body string) int {
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/web/messages", strings.NewReader(body))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		require.Equal(t, http.StatusBadRequest, raw("application/json", "{not json"))
		require.Equal(t, http.StatusUnsupportedMediaType, raw("text/plain", "hi"))
		require.Equal(t, http.StatusRequestEntityTooLarge, raw("application/json",
			fmt.Sprintf(`{"session":%q,"id":"x","text":%q}`, s, strings.Repeat("a", 70000))))
		require.Equal(t, http.StatusUnauthorized, raw("application/json", `{"session":"nope","id":"x","text":"hi"}`))
		require.Equal(t, http.StatusBadRequest, raw("application/json", fmt.Sprintf(`{"session":%q,"id":"bad id!","text":"hi"}`, s)))

		// Empty and binary text are polite replies, not errors.
		resp, r := post(t, srv.URL, map[string]string{"session": s, "id": "e1", "text": "  "})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, r.Replies[0].Text, "didn't get any text")
		_, r = post(t, srv.URL, map[string]string{"session": s, "id": "e2", "payload": "gone:button"})
		require.Contains(t, r.Replies[0].Text, "no longer available")

		for _, path := range []string{"/api/v1/web/messages", "/api/v1/web/events"} {
			for _, token := range []string{"", "short"} {
				resp := get(t, srv.URL+path, token)
				resp.Body.Close()
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
			}
		}
	})
}

func TestFloodFromOneSessionIsRateLimited(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	_, srv := server(t, db, map[string]string{"TEND_WEB_RATE_PER_MINUTE": "6"})
	s := newSession(t, srv.URL)
	other := newSession(t, srv.URL)
	var limited *http.Response
	for i := range 30 {
		resp, _ := post(t, srv.URL, map[string]string{"session": s, "id": fmt.Sprint(i), "text": "hi"})
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = resp
			break
		}
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	require.NotNil(t, limited, "a flood is refused")
	require.NotEmpty(t, limited.Header.Get("Retry-After"))
	resp, _ := post(t, srv.URL, map[string]string{"session": other, "id": "1", "text": "hi"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "other sessions are not affected")
}

func TestEventsStreamDeliversLaterMessages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a, srv := server(t, db, nil)
		s := newSession(t, srv.URL)
		_, r := post(t, srv.URL, map[string]string{"session": s, "id": "m1", "text": "hello"})
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/web/events?after=1", nil)
		req.Header.Set("Authorization", "Bearer "+s)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

		// A staff message arrives later, outside any request of the patient.
		convID := conversationOf(t, db, r.Replies[0].ID)
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			_, err := a.Engine.Send(ctx, tx, convID, bot.Reply{Text: "Hi, this is Anna.", From: "Anna", Kind: bot.KindStaff})
			return err
		}))
		ev := readEvent(t, resp.Body)
		var m bot.Sent
		require.NoError(t, json.Unmarshal([]byte(ev), &m))
		require.Equal(t, "Hi, this is Anna.", m.Text)
		require.Equal(t, int64(2), m.Seq)
	})
}

func conversationOf(t *testing.T, db *store.DB, outboundID int64) int64 {
	o, err := db.Q().GetOutbound(context.Background(), outboundID)
	require.NoError(t, err)
	return o.ConversationID
}

// readEvent returns the data of the next "message" event.
func readEvent(t *testing.T, r io.Reader) string {
	sc := bufio.NewScanner(r)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "message":
			return strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatalf("stream ended: %v", sc.Err())
	return ""
}

func TestPagesAndWidget(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	_, srv := server(t, db, map[string]string{"TEND_WEB_ALLOWED_ORIGINS": "https://clinic.example"})
	for path, want := range map[string]string{
		"/":               "Chat with Maple Grove Family Clinic",
		"/chat?embed=1":   `class="embed"`,
		"/widget.js":      "/chat?embed=1",
		"/static/app.js":  "tend.session",
		"/static/app.css": "--brand",
		"/healthz":        "ok",
		"/readyz":         "ready",
		"/metrics":        "tend_messages_in_total",
	} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, string(b), want, path)
		if path == "/" {
			require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'self' https://clinic.example")
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("Accept-Language", "es-MX,es;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(b), "Chatee con Maple Grove")
}
