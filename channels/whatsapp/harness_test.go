package whatsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/store"
)

const (
	appSecret   = "test-app-secret-0123456789"
	verifyToken = "test-verify-token"
	adminToken  = "test-admin-token-0123456789"
)

// shiftClock is the real clock moved forward by the test (the 24-hour window).
type shiftClock struct{ off atomic.Int64 }

func (c *shiftClock) Now() time.Time          { return time.Now().UTC().Add(time.Duration(c.off.Load())) }
func (c *shiftClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// env is one running Tend with the WhatsApp channel against a fake Cloud API.
type env struct {
	t     *testing.T
	db    *store.DB
	api   *whatsapptest.Server
	app   *app.App
	srv   *httptest.Server
	clock *shiftClock
	stop  func()
}

type envOption func(*app.Options, *whatsapp.Module)

func withTemplates(t *whatsapp.Templates) envOption {
	return func(_ *app.Options, m *whatsapp.Module) { m.Templates = t }
}

// withLog sends the app's log (text, debug level, redacting as in
// production) to w.
func withLog(w io.Writer) envOption {
	return func(o *app.Options, _ *whatsapp.Module) { o.Logger = logging.New(w, "debug", "text") }
}

// withToken makes the app use another access token than the fake expects.
func withToken(token string) envOption {
	return func(o *app.Options, _ *whatsapp.Module) { o.Modules = append(o.Modules, tokenOverride(token)) }
}

type tokenOverride string

func (tokenOverride) Name() string                              { return "token-override" }
func (tokenOverride) Install(context.Context, *host.Host) error { return nil }

// withChatModel configures a chat model (never called): a turn may then
// wait on it, and webhooks only accept messages for their jobs.
func withChatModel() envOption {
	return func(o *app.Options, _ *whatsapp.Module) { o.Modules = append(o.Modules, chatModel{}) }
}

type chatModel struct{}

func (chatModel) Name() string                              { return "chat-model" }
func (chatModel) Install(context.Context, *host.Host) error { return nil }

func withDialog(d bot.Dialog) envOption { return withModules(dialogModule{d}) }

// withModules installs more modules after the web chat and WhatsApp
// (booking, surveys, the knowledge base).
func withModules(ms ...app.Module) envOption {
	return func(o *app.Options, _ *whatsapp.Module) { o.Modules = append(o.Modules, ms...) }
}

// dialogModule installs one extra dialog (tests of rendering many buttons).
type dialogModule struct{ d bot.Dialog }

func (m dialogModule) Name() string { return "test-dialog" }
func (m dialogModule) Install(_ context.Context, a *host.Host) error {
	a.Engine.AddDialog(m.d)
	return nil
}

func newEnv(t *testing.T, db *store.DB, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, db: db, api: whatsapptest.New(t), clock: &shiftClock{}}
	e.api.Clock = e.clock.Now
	e.start(opts...)
	return e
}

// start assembles and starts an app on the env's store and fake API (again
// after a restart).
func (e *env) start(opts ...envOption) {
	t := e.t
	cfg := config.Defaults() // module settings (booking, surveys, quiet hours) as `tend serve` has them
	cfg.DataDir, cfg.Addr, cfg.ShutdownTimeout, cfg.WebRatePerMinute = t.TempDir(), ":0", 5*time.Second, 600
	cfg.AdminToken = adminToken
	cfg.WhatsApp = config.WhatsApp{PhoneNumberID: e.api.PhoneNumberID, AccessToken: config.Secret(e.api.Token),
		AppSecret: appSecret, VerifyToken: verifyToken, APIBase: e.api.Base()}
	mod := &whatsapp.Module{}
	o := app.Options{Mode: app.ModeServe, Store: e.db, SkipMigrate: true, Clock: e.clock}
	if os.Getenv("TEND_TEST_LOG") != "" {
		o.Logger = logging.New(os.Stderr, "debug", "text")
	}
	for _, opt := range opts {
		opt(&o, mod)
	}
	for _, m := range o.Modules {
		if tok, ok := m.(tokenOverride); ok {
			cfg.WhatsApp.AccessToken = config.Secret(tok)
		}
		if _, ok := m.(chatModel); ok {
			cfg.OpenAI.ChatModel, cfg.OpenAI.BaseURL = "gpt-test", "http://127.0.0.1:9/v1"
		}
	}
	o.Modules = append([]app.Module{web.Module{}, mod}, o.Modules...)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, o)
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	e.app = a
	e.srv = httptest.NewServer(a.HTTP.Handler())
	srv := e.srv
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			srv.Close() // waits for requests in flight
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			_ = a.Stop(sctx)
			cancel()
			a.Close()
		})
	}
	t.Cleanup(e.stop)
}

func (e *env) webhookURL() string { return e.srv.URL + "/webhooks/whatsapp" }

// post sends a signed notification and returns the status code.
func (e *env) post(body []byte) int {
	return whatsapptest.PostWebhook(e.t, e.srv.Client(), e.webhookURL(), appSecret, body)
}

// say posts one text message from a patient and requires a 200.
func (e *env) say(from, id, text string) {
	e.t.Helper()
	require.Equal(e.t, http.StatusOK, e.post(e.api.Notification(whatsapptest.Inbound(from, "Maria Lopez", whatsapptest.Text(from, id, text)))))
}

// waitSent waits until n messages reached waID and returns them.
func (e *env) waitSent(waID string, n int) []whatsapptest.Message {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return len(e.api.SentTo(waID)) >= n }, 20*time.Second, 20*time.Millisecond,
		"waiting for %d message(s) to %s; have %d", n, waID, len(e.api.SentTo(waID)))
	require.Empty(e.t, e.api.Rejected(), "the fake refused malformed requests")
	return e.api.SentTo(waID)
}

func (e *env) conversation(waID string) store.Conversation {
	e.t.Helper()
	c, err := e.db.Q().FindConversation(context.Background(), whatsapp.Channel, waID)
	require.NoError(e.t, err)
	return c
}

// outbound lists a conversation's outgoing messages.
func (e *env) outbound(convID int64) []store.Outbound {
	e.t.Helper()
	rows, err := e.db.Q().OutboundAfter(context.Background(), convID, 0, 1000)
	require.NoError(e.t, err)
	return rows
}

// waitOutbound waits until every outgoing message of the conversation has
// left the queue.
func (e *env) waitOutbound(convID int64, n int) []store.Outbound {
	e.t.Helper()
	var rows []store.Outbound
	require.Eventually(e.t, func() bool {
		rows = e.outbound(convID)
		if len(rows) < n {
			return false
		}
		for _, r := range rows {
			if r.Status == store.OutboundQueued || r.Status == store.OutboundSending {
				return false
			}
		}
		return true
	}, 20*time.Second, 20*time.Millisecond)
	return rows
}

func (e *env) countInbound() int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.db.Q().QueryRow(context.Background(), `SELECT count(*) FROM inbound_messages`).Scan(&n))
	return n
}

// webSessions maps the session a test names to one the server issued (the
// web chat accepts no other).
var webSessions sync.Map // webSessionKey -> string

type webSessionKey struct {
	e     *env
	label string
}

func (e *env) webSession(label string) string {
	key := webSessionKey{e, label}
	if s, ok := webSessions.Load(key); ok {
		return s.(string)
	}
	resp, err := e.srv.Client().Post(e.srv.URL+"/api/v1/web/sessions", "application/json", nil)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	require.Equal(e.t, http.StatusCreated, resp.StatusCode)
	var j struct{ Session string }
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&j))
	webSessions.Store(key, j.Session)
	return j.Session
}

// webChat sends text (or a button payload) through the web chat API of the
// same app and returns its replies.
func (e *env) webChat(session, id, text, payload string) []bot.Sent {
	e.t.Helper()
	session = e.webSession(session)
	body, _ := json.Marshal(map[string]string{"session": session, "id": id, "text": text, "payload": payload})
	resp, err := e.srv.Client().Post(e.srv.URL+"/api/v1/web/messages", "application/json", bytes.NewReader(body))
	require.NoError(e.t, err)
	defer resp.Body.Close()
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	var out struct {
		Replies []bot.Sent `json:"replies"`
	}
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Replies
}

var patientSeq atomic.Int64

// newPatient returns a fresh WhatsApp id.
func newPatient() string { return fmt.Sprintf("1555%07d", 1000000+patientSeq.Add(1)) }

var msgSeq atomic.Int64

// wamid returns a fresh inbound message id.
func wamid() string {
	return fmt.Sprintf("wamid.HBgLMTU1NTAxMjM0NTY3FQIAEhgg%012d", msgSeq.Add(1))
}
