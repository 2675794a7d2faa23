package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/tend-health/tend/dialogs/askperson"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/store"
)

const (
	testSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
	testChannel = "CHANDOFF"
	clinicName  = "Maple Grove Family Clinic" // the bundled sample clinic
	clinicPhone = "(555) 014-2000"
)

// wedMorning is Wednesday 10:00 in the sample clinic's zone (America/Chicago),
// inside business hours, and years after the real clock: River leaves jobs
// scheduled from the fake clock (timeouts) alone, so tests run them by hand.
var wedMorning = time.Date(2030, 1, 9, 16, 0, 0, 0, time.UTC)

// harness is one replica of Tend with the Slack module, on db, talking to a
// fake Slack, with its jobs running.
type harness struct {
	t     *testing.T
	db    *store.DB
	app   *app.App
	mod   *Module
	slack *fakeSlack
	clock *clock.Fake
	n     atomic.Int64
	close func()
}

type harnessOpt func(*Options, *config.Config)

// withOptions edits the module's options.
func withOptions(fn func(*Options)) harnessOpt {
	return func(o *Options, _ *config.Config) { fn(o) }
}

// socketMode configures Socket Mode (an app token) and no webhooks.
func socketMode(o *Options, c *config.Config) {
	c.Slack.AppToken = "xapp-1-A1-test"
	c.Slack.SigningSecret = ""
}

func newHarness(t *testing.T, db *store.DB, fs *fakeSlack, clk *clock.Fake, opts ...harnessOpt) *harness {
	t.Helper()
	if fs == nil {
		fs = newFakeSlack(t)
	}
	if clk == nil {
		clk = clock.NewFake(wedMorning)
	}
	o := Options{UrgentMention: "S0NURSES", WaitTimeout: 15 * time.Minute, StaffLang: "en", NoticeEvery: 10 * time.Minute}
	cfg := config.Defaults()
	cfg.DataDir, cfg.Addr, cfg.WebRatePerMinute, cfg.ShutdownTimeout = t.TempDir(), ":0", 600, 5*time.Second
	cfg.Slack.BotToken, cfg.Slack.SigningSecret, cfg.Slack.HandoffChannel = "xoxb-test", testSecret, testChannel
	cfg.Slack.APIURL = fs.GetAPIURL()
	for _, fn := range opts {
		fn(&o, &cfg)
	}
	require.NoError(t, cfg.Validate())
	mod := NewModuleWith(o)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{Mode: app.ModeServe, Clock: clk, Store: db, Logger: logging.Discard(),
		Modules: []app.Module{web.Module{}, fakeTriage{mod.Staff()}, askperson.Module{Staff: mod.Staff()}, mod}})
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	h := &harness{t: t, db: db, app: a, mod: mod, slack: fs, clock: clk}
	h.close = sync.OnceFunc(func() {
		// As on SIGTERM: let running jobs finish, then stop and release.
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = a.Stop(sctx)
		cancel()
		a.Close()
	})
	t.Cleanup(h.close)
	return h
}

// --- the patient side ---

// patient sends a web chat message and returns the bot's replies to it.
func (h *harness) patient(chat, text string) []bot.Sent {
	h.t.Helper()
	return h.send(bot.Inbound{Channel: web.Channel, ChatID: chat, SenderID: chat, Text: text})
}

func (h *harness) send(in bot.Inbound) []bot.Sent {
	h.t.Helper()
	if in.MessageID == "" {
		in.MessageID = in.ChatID + ":" + strconv.FormatInt(h.n.Add(1), 10)
	}
	out, err := h.app.Engine.Handle(context.Background(), in)
	require.NoError(h.t, err)
	return out.Replies
}

func (h *harness) conv(chat string) store.Conversation {
	h.t.Helper()
	c, err := h.db.Q().FindConversation(context.Background(), web.Channel, chat)
	require.NoError(h.t, err)
	return c
}

// history is everything sent to the patient, in order.
func (h *harness) history(chat string) []bot.Sent {
	h.t.Helper()
	sent, err := h.app.Engine.History(context.Background(), h.conv(chat).ID, 0, 500)
	require.NoError(h.t, err)
	return sent
}

func texts(sent []bot.Sent) []string {
	out := make([]string, len(sent))
	for i, s := range sent {
		out[i] = s.Text
	}
	return out
}

// handoff is the conversation's latest handoff.
func (h *harness) handoff(chat string) handoff.Handoff {
	h.t.Helper()
	var id int64
	require.NoError(h.t, h.db.Q().QueryRow(context.Background(),
		`SELECT max(id) FROM handoffs WHERE conversation_id = $1`, h.conv(chat).ID).Scan(&id))
	ho, err := handoff.Get(context.Background(), h.db.Q(), id)
	require.NoError(h.t, err)
	return ho
}

// requestPerson asks for a person and waits for the handoff message in Slack.
func (h *harness) requestPerson(chat string, text ...string) (handoff.Handoff, string) {
	h.t.Helper()
	before := len(h.slack.roots())
	ask := "Can I talk to a person please?"
	if len(text) > 0 {
		ask = text[0] // the engine answers in the language the patient writes
	}
	h.patient(chat, ask)
	h.eventually("handoff message posted", func() bool { return len(h.slack.roots()) > before })
	ho := h.handoff(chat)
	return ho, h.rootTS(ho.ID)
}

func (h *harness) rootTS(handoffID int64) string {
	h.t.Helper()
	var ts string
	h.eventually("root ts stored", func() bool {
		err := h.db.Q().QueryRow(context.Background(), `SELECT ts FROM slack_threads WHERE handoff_id = $1`, handoffID).Scan(&ts)
		return err == nil && ts != ""
	})
	return ts
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	require.Eventually(h.t, cond, 15*time.Second, 10*time.Millisecond, what)
}

// --- the Slack side, signed the way Slack signs ---

func sign(header http.Header, body []byte, at time.Time) {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(testSecret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	header.Set("X-Slack-Request-Timestamp", ts)
	header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}

func (h *harness) do(path, contentType string, body []byte, edit func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	r.Header.Set("Content-Type", contentType)
	sign(r.Header, body, time.Now())
	if edit != nil {
		edit(r)
	}
	w := httptest.NewRecorder()
	h.app.HTTP.Handler().ServeHTTP(w, r)
	return w
}

func (h *harness) postEvent(body []byte, edit func(*http.Request)) *httptest.ResponseRecorder {
	return h.do("/webhooks/slack/events", "application/json", body, edit)
}

func (h *harness) postInteraction(payload []byte, edit func(*http.Request)) *httptest.ResponseRecorder {
	return h.do("/webhooks/slack/interactions", "application/x-www-form-urlencoded",
		[]byte("payload="+url.QueryEscape(string(payload))), edit)
}

// messageEvent is an event_callback for a message, as Slack sends it.
func messageEventBody(eventID, user, text, ts, threadTS string, extra map[string]any) []byte {
	ev := map[string]any{"type": "message", "channel": testChannel, "user": user, "text": text, "ts": ts,
		"event_ts": ts, "channel_type": "channel", "client_msg_id": "c-" + eventID}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	for k, v := range extra {
		ev[k] = v
	}
	b, _ := json.Marshal(map[string]any{"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
		"event_id": eventID, "event_time": time.Now().Unix(), "event": ev,
		"authorizations": []map[string]any{{"team_id": "T1", "user_id": "UBOT", "is_bot": true}}})
	return b
}

// staffReply posts a thread reply from user, as a message event.
func (h *harness) staffReply(user, text, rootTS string) *httptest.ResponseRecorder {
	h.t.Helper()
	n := h.n.Add(1)
	ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), 900000+n)
	w := h.postEvent(messageEventBody("Ev"+strconv.FormatInt(n, 10)+user, user, text, ts, rootTS, nil), nil)
	require.Equal(h.t, http.StatusOK, w.Code, w.Body.String())
	return w
}

// pressPayload is a block_actions payload for a button of the handoff message.
func (h *harness) pressPayload(user, name, action string, handoffID int64, rootTS string) []byte {
	n := h.n.Add(1)
	b, _ := json.Marshal(map[string]any{
		"type": "block_actions", "api_app_id": "A1", "token": "legacy",
		"user":       map[string]any{"id": user, "username": strings.ToLower(name), "name": strings.ToLower(name), "team_id": "T1"},
		"team":       map[string]any{"id": "T1", "domain": "clinic"},
		"container":  map[string]any{"type": "message", "message_ts": rootTS, "channel_id": testChannel, "is_ephemeral": false},
		"channel":    map[string]any{"id": testChannel, "name": "handoffs"},
		"message":    map[string]any{"type": "message", "ts": rootTS, "text": "handoff"},
		"trigger_id": fmt.Sprintf("%d.1.%s", n, user), "response_url": h.slack.GetAPIURL() + "response/" + user,
		"actions": []map[string]any{{"action_id": action, "block_id": "handoff", "value": strconv.FormatInt(handoffID, 10),
			"type": "button", "action_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), n)}},
	})
	return b
}

func (h *harness) press(user, name, action string, handoffID int64, rootTS string) {
	h.t.Helper()
	w := h.postInteraction(h.pressPayload(user, name, action, handoffID, rootTS), nil)
	require.Equal(h.t, http.StatusOK, w.Code, w.Body.String())
}

// ephemeralTo waits for a private answer to user containing want.
func (h *harness) ephemeralTo(user, want string) {
	h.t.Helper()
	h.eventually("ephemeral to "+user+": "+want, func() bool {
		for _, e := range h.slack.allEphemerals() {
			if e.User == user && strings.Contains(e.Text, want) {
				return true
			}
		}
		return false
	})
}

// patientGot waits until the patient's conversation has a message containing want.
func (h *harness) patientGot(chat, want string) bot.Sent {
	h.t.Helper()
	var got bot.Sent
	h.eventually("patient got "+want, func() bool {
		for _, s := range h.history(chat) {
			if strings.Contains(s.Text, want) {
				got = s
				return true
			}
		}
		return false
	})
	return got
}

// threadHas waits until the thread under ts has a post containing want.
func (h *harness) threadHas(ts, want string) {
	h.t.Helper()
	h.eventually("thread has "+want, func() bool {
		for _, p := range h.slack.thread(ts) {
			if strings.Contains(p.Text, want) {
				return true
			}
		}
		return false
	})
}

// inboxSettled waits until every stored Slack input has been handled.
func (h *harness) inboxSettled() {
	h.t.Helper()
	h.eventually("slack inbox handled", func() bool {
		var n int
		err := h.db.Q().QueryRow(context.Background(), `SELECT count(*) FROM slack_inbox WHERE status = 'pending'`).Scan(&n)
		return err == nil && n == 0
	})
}

// outboxSettled waits until every queued Slack post has gone out.
func (h *harness) outboxSettled() {
	h.t.Helper()
	h.eventually("slack outbox sent", func() bool {
		var n int
		err := h.db.Q().QueryRow(context.Background(), `SELECT count(*) FROM slack_outbox WHERE status IN ('queued', 'sending')`).Scan(&n)
		return err == nil && n == 0
	})
}
