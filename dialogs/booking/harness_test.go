package booking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store"
)

// Monday 2026-11-30, 08:00 in Maple Grove (America/Chicago).
var start = time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)

// codeBox is a CodeSender that keeps the codes for the test to type.
type codeBox struct {
	mu    sync.Mutex
	codes map[int64]string
	all   map[string]bool
	sent  int
}

func (c *codeBox) SendCode(_ context.Context, to booking.Destination, code, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.codes == nil {
		c.codes = map[int64]string{}
	}
	if c.all == nil {
		c.all = map[string]bool{}
	}
	c.codes[to.PatientID] = code
	c.all[code] = true
	c.sent++
	return nil
}

// count is how many codes were sent.
func (c *codeBox) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent
}

// wrong is a code that was never sent.
func (c *codeBox) wrong() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := 0; ; n += 111111 {
		if code := fmt.Sprintf("%06d", n%1000000); !c.all[code] {
			return code
		}
	}
}

func (c *codeBox) last(id int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codes[id]
}

var info = booking.InfoFunc(func(_ context.Context, _ store.Q, visit, lang string) (string, string, bool) {
	if visit != "follow-up" {
		return "", "", false
	}
	if lang == "es" {
		return "Una consulta de seguimiento cuesta el copago de su plan.", "costos.md", true
	}
	return "A follow-up visit costs your plan's usual copay.", "costs.md", true
})

type env struct {
	t     *testing.T
	app   *app.App
	mod   *booking.Module
	clock *clock.Fake
	codes *codeBox
	http  http.Handler
}

// newEnv assembles Tend with booking on db, a fake clock and the sample
// patients, the way `tend serve` does.
func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	return newEnvWith(t, db, info)
}

// newEnvWith is newEnv with another knowledge source and further modules
// installed after booking (the knowledge base, as `tend serve` does).
func newEnvWith(t *testing.T, db *store.DB, src booking.InfoSource, more ...app.Module) *env {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_ADMIN_TOKEN": "staff-token-0123456789"})
	require.NoError(t, err)
	e := &env{t: t, clock: clock.NewFake(start), codes: &codeBox{}}
	bc := booking.DefaultConfig()
	bc.LinkSecret = "test-secret"
	e.mod = &booking.Module{Config: &bc, Info: src, Codes: e.codes}
	e.app, err = app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Clock: e.clock, Store: db,
		SkipMigrate: true, Modules: append([]app.Module{e.mod}, more...)})
	require.NoError(t, err)
	t.Cleanup(e.app.Close)
	bookingtest.LoadSamplePatients(t, db, start)
	e.http = e.app.HTTP.Handler()
	return e
}

// chat is one patient's conversation on a channel.
type chat struct {
	e       *env
	channel string
	id      string
	meta    map[string]string
	n       int
	last    []bot.Sent
}

func (e *env) chat(channel, id string) *chat { return &chat{e: e, channel: channel, id: id} }

func (c *chat) send(text, payload string) []bot.Sent {
	c.e.t.Helper()
	c.n++
	out, err := c.e.app.Engine.Handle(context.Background(), bot.Inbound{Channel: c.channel, ChatID: c.id, SenderID: c.id,
		MessageID: fmt.Sprintf("%s-%d", c.id, c.n), Text: text, Payload: payload, Meta: c.meta, Locale: ""})
	require.NoError(c.e.t, err)
	c.last = out.Replies
	return out.Replies
}

func (c *chat) say(text string) string { return joined(c.send(text, "")) }

// press taps the button whose label contains label in the last replies.
func (c *chat) press(label string) string {
	c.e.t.Helper()
	p := c.payload(label)
	return joined(c.send(label, p))
}

func (c *chat) payload(label string) string {
	c.e.t.Helper()
	for _, r := range c.last {
		for _, b := range r.Buttons {
			if strings.Contains(b.Label, label) {
				return b.Payload
			}
		}
	}
	c.e.t.Fatalf("no button %q in %s", label, dump(c.last))
	return ""
}

func (c *chat) buttons() []bot.Button {
	var out []bot.Button
	for _, r := range c.last {
		out = append(out, r.Buttons...)
	}
	return out
}

func joined(rs []bot.Sent) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.Text)
	}
	return strings.Join(parts, "\n")
}

func dump(rs []bot.Sent) string {
	b, _ := json.MarshalIndent(rs, "", " ")
	return string(b)
}

// reminderJobs lists the booking jobs enqueued, as River stored them.
func (e *env) reminderJobs() []booking.ReminderArgs {
	return apptest.JobArgs[booking.ReminderArgs](e.t, e.app.DB, "booking_reminder")
}

// work runs a reminder job inline, as River would.
func (e *env) work(args booking.ReminderArgs) error {
	return e.mod.Worker.Work(context.Background(), &river.Job[booking.ReminderArgs]{Args: args})
}

// get calls the HTTP API.
func (e *env) get(path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.http.ServeHTTP(rec, req)
	return rec
}

// outbound lists a conversation's messages sent after seq.
func (e *env) outbound(chatID, channel string, afterSeq int64) []bot.Sent {
	conv, err := e.app.DB.Q().FindConversation(context.Background(), channel, chatID)
	require.NoError(e.t, err)
	out, err := e.app.Engine.History(context.Background(), conv.ID, afterSeq, 100)
	require.NoError(e.t, err)
	return out
}
