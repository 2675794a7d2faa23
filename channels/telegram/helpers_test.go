package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/store"
)

// waitFor is how long a test waits for asynchronous work (a delivery job, a
// poll) before failing; polls are every 20 ms, so passing tests are fast.
const waitFor = 60 * time.Second

// testOptions make the channel quick to retry and unthrottled.
func testOptions() telegram.Options {
	return telegram.Options{PollTimeout: time.Second, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		SendPerSecond: 10000, DrainTimeout: 5 * time.Second}
}

// harness is a serve-mode Tend with the web chat and the Telegram channel,
// talking to a fake Bot API, on a real store.
type harness struct {
	t    *testing.T
	db   *store.DB
	fake *telegramtest.Server
	app  *app.App
	mod  *telegram.Module
	http http.Handler
	logs *apptest.SyncBuffer
}

// requireCleanLogs checks that no log line holds the token or what a patient wrote.
func (h *harness) requireCleanLogs(patientTexts ...string) {
	h.t.Helper()
	logs := h.logs.String()
	require.NotEmpty(h.t, logs)
	require.NotContains(h.t, logs, telegramtest.Token)
	require.NotContains(h.t, logs, strings.SplitN(telegramtest.Token, ":", 2)[1])
	for _, s := range patientTexts {
		require.NotContains(h.t, logs, s)
	}
}

type harnessOpts struct {
	webhook bool
	// clock replaces the real clock (reminders, surveys).
	clock clock.Clock
	// modules are installed after the web chat and Telegram (booking, knowledge).
	modules []app.Module
	// pollLimit caps the updates fetched at once (0: testOptions' default).
	pollLimit int
	// env is added to the configuration's environment.
	env map[string]string
}

func newHarness(t *testing.T, db *store.DB, o harnessOpts) *harness {
	t.Helper()
	fake := telegramtest.New(t)
	env := map[string]string{"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_ENDPOINT": fake.Endpoint()}
	if o.webhook {
		env["TELEGRAM_WEBHOOK_SECRET"] = webhookSecret
		env["TEND_PUBLIC_URL"] = "https://clinic.example.org/"
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.LoadFrom(env)
	require.NoError(t, err)
	mod := &telegram.Module{Options: testOptions()}
	if o.pollLimit > 0 {
		mod.Options.PollLimit = o.pollLimit
	}
	logs := &apptest.SyncBuffer{}
	a, err := app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true, Clock: o.clock,
		Logger: logging.New(logs, "debug", "text"), Modules: append([]app.Module{web.Module{}, mod}, o.modules...)})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return &harness{t: t, db: db, fake: fake, app: a, mod: mod, http: a.HTTP.Handler(), logs: logs}
}

// start runs job workers and the channel until the test ends.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(h.t, h.app.Start(ctx))
	h.t.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = h.app.Stop(sctx)
	})
}

// startJobs runs only the job workers (the test drives the channel itself).
func (h *harness) startJobs() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(h.t, h.app.Jobs.Start(ctx))
	h.t.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = h.app.Jobs.Stop(sctx)
	})
}

// waitSent waits until the chat has received n messages and returns them.
func (h *harness) waitSent(chatID int64, n int) []telegramtest.Message {
	h.t.Helper()
	var got []telegramtest.Message
	require.Eventually(h.t, func() bool {
		got = h.fake.SentTo(chatID)
		return len(got) >= n
	}, waitFor, 20*time.Millisecond, "waiting for %d messages to chat %d", n, chatID)
	return got
}

// webSessions maps the session a test names to one the server issued (the
// web chat accepts no other).
var webSessions sync.Map // webSessionKey -> string

type webSessionKey struct {
	h     *harness
	label string
}

func (h *harness) webSession(label string) string {
	key := webSessionKey{h, label}
	if s, ok := webSessions.Load(key); ok {
		return s.(string)
	}
	rec := httptest.NewRecorder()
	h.http.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/web/sessions", nil))
	require.Equal(h.t, http.StatusCreated, rec.Code, rec.Body.String())
	var j struct{ Session string }
	require.NoError(h.t, json.Unmarshal(rec.Body.Bytes(), &j))
	webSessions.Store(key, j.Session)
	return j.Session
}

// webReply sends a message through the web chat API and returns the replies.
func (h *harness) webReply(session, id, text, payload string) []bot.Sent {
	h.t.Helper()
	session = h.webSession(session)
	body, _ := json.Marshal(map[string]string{"session": session, "id": id, "text": text, "payload": payload})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/web/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.http.ServeHTTP(rec, req)
	require.Equal(h.t, http.StatusOK, rec.Code, rec.Body.String())
	var resp struct {
		Replies []bot.Sent `json:"replies"`
	}
	require.NoError(h.t, json.Unmarshal(rec.Body.Bytes(), &resp))
	return resp.Replies
}

func (h *harness) countInbound() int {
	h.t.Helper()
	var n int
	require.NoError(h.t, h.db.Q().QueryRow(context.Background(),
		`SELECT count(*) FROM inbound_messages WHERE channel = 'telegram'`).Scan(&n))
	return n
}

func (h *harness) countPending() int {
	h.t.Helper()
	var n int
	require.NoError(h.t, h.db.Q().QueryRow(context.Background(),
		`SELECT count(*) FROM inbound_messages WHERE status = 'pending'`).Scan(&n))
	return n
}

func (h *harness) conversation(chatID string) store.Conversation {
	h.t.Helper()
	c, err := h.db.Q().FindConversation(context.Background(), telegram.Channel, chatID)
	require.NoError(h.t, err)
	return c
}

// river is a River client on the test's store for inspecting and retrying
// jobs through River's public API.
type riverOps struct {
	get   func(ctx context.Context, id int64) (*rivertype.JobRow, error)
	retry func(ctx context.Context, id int64) error
}

func (h *harness) river() riverOps {
	h.t.Helper()
	cfg := &river.Config{Schema: h.db.Schema()}
	if h.db.Dialect() == store.Postgres {
		c, err := river.NewClient[pgx.Tx](riverpgxv5.New(h.db.Pool()), cfg)
		require.NoError(h.t, err)
		return riverOps{get: c.JobGet, retry: func(ctx context.Context, id int64) error { _, err := c.JobRetry(ctx, id); return err }}
	}
	c, err := river.NewClient(riversqlite.New(h.db.SQLDB()), cfg)
	require.NoError(h.t, err)
	return riverOps{get: c.JobGet, retry: func(ctx context.Context, id int64) error { _, err := c.JobRetry(ctx, id); return err }}
}

// deliverJobs lists delivery jobs in a state.
func (h *harness) deliverJobs(state string) []int64 {
	h.t.Helper()
	rows, err := h.db.Q().Query(context.Background(), `SELECT id FROM river_job WHERE kind = 'deliver' AND state = $1 ORDER BY id`, state)
	require.NoError(h.t, err)
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(h.t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(h.t, rows.Err())
	return ids
}

// retryNow makes waiting delivery jobs run at once instead of after River's
// backoff (seconds to minutes), so outage tests take no longer than needed.
func (h *harness) retryNow() int {
	h.t.Helper()
	r := h.river()
	// River makes a job due within seconds "available" with a future
	// scheduled_at; JobRetry brings those forward too and leaves due ones be.
	ids := append(h.deliverJobs("retryable"), h.deliverJobs("scheduled")...)
	ids = append(ids, h.deliverJobs("available")...)
	for _, id := range ids {
		require.NoError(h.t, r.retry(context.Background(), id))
	}
	return len(ids)
}

const webhookSecret = "s3cret_Token-for-tests"

// patient is a Telegram user who writes to the bot.
func patient(id int64) telegramtest.User {
	return telegramtest.User{ID: id, FirstName: "Pat", LanguageCode: "en"}
}
