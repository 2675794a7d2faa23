package survey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/survey"
	"github.com/tend-health/tend/guards/optout"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/sample"
)

const adminToken = "survey-admin-token-0123"

var chicago, _ = time.LoadLocation("America/Chicago")

// visitEnd: Tuesday 2026-03-10, 18:30 in Maple Grove. Two hours later is
// quiet (20:30), so the invitation waits for 08:00 on Wednesday.
var visitEnd = time.Date(2026, 3, 10, 18, 30, 0, 0, chicago)

// faq stands in for the knowledge base: it answers cost questions.
type faq struct{}

func (faq) Name() string { return "faq" }
func (faq) Match(t *bot.Turn) int {
	if strings.Contains(strings.ToLower(t.Text()), "cost") {
		return 50
	}
	return 0
}
func (faq) Handle(t *bot.Turn) (bool, error) {
	t.Reply(bot.Reply{Text: "A flu shot costs $30 without insurance.", Action: bot.ActionAnswer})
	return true, nil
}

type faqModule struct{}

func (faqModule) Name() string { return "faq" }
func (faqModule) Install(_ context.Context, a *host.Host) error {
	a.Engine.AddDialog(faq{})
	return nil
}

// staff records alerts as the Slack module's Machine would receive them.
type staff struct {
	mu     sync.Mutex
	alerts []alert
}

type alert struct {
	conv    int64
	summary string
	answers []handoff.Answer
}

func (s *staff) HandoffOpened(*bot.Turn, handoff.Handoff) error { return nil }
func (s *staff) Alert(_ context.Context, _ store.Work, conv int64, summary string, answers []handoff.Answer) (handoff.Handoff, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts = append(s.alerts, alert{conv, summary, answers})
	return handoff.Handoff{}, nil
}

func (s *staff) list() []alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]alert(nil), s.alerts...)
}

type env struct {
	t     *testing.T
	app   *app.App
	mod   *survey.Module
	clock *clock.Fake
	http  http.Handler
}

func allChannels(string) bool { return true }

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_ADMIN_TOKEN": adminToken})
	require.NoError(t, err)
	e := &env{t: t, clock: clock.NewFake(visitEnd)}
	sc := survey.DefaultConfig()
	e.mod = &survey.Module{Config: &sc, Channels: allChannels}
	e.app, err = app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Clock: e.clock, Store: db,
		SkipMigrate: true, Modules: []app.Module{&optout.Module{}, e.mod, faqModule{}}})
	require.NoError(t, err)
	t.Cleanup(e.app.Close)
	ps, err := patients.ParseCSV(strings.NewReader(string(sample.PatientsCSV())), visitEnd)
	require.NoError(t, err)
	require.NoError(t, patients.Import(context.Background(), db, ps, visitEnd))
	e.http = e.app.HTTP.Handler()
	return e
}

func (e *env) do(method, path, token string, body any) *httptest.ResponseRecorder {
	var r *http.Request
	if body != nil {
		b, _ := json.Marshal(body)
		r = httptest.NewRequest(method, path, bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.http.ServeHTTP(rec, r)
	return rec
}

// visit reports a visit by a sample patient through the API.
func (e *env) visit(id, patient string, end time.Time) survey.Scheduled {
	e.t.Helper()
	rec := e.do("POST", "/api/v1/visits", adminToken, map[string]any{"visit_id": id, "patient": patient,
		"provider": "chen", "location": "main", "visit_type": "follow-up", "ended_at": end})
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	var out struct{ Visits []survey.Scheduled }
	require.NoError(e.t, json.Unmarshal(rec.Body.Bytes(), &out))
	require.Len(e.t, out.Visits, 1)
	return out.Visits[0]
}

// run works a survey job inline at the fake clock's time; the job's
// snooze, if any, is returned.
func (e *env) run(id int64, what string) time.Duration {
	e.t.Helper()
	var snooze time.Duration
	require.NoError(e.t, e.app.DB.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		snooze, err = e.mod.Service.Run(context.Background(), tx, survey.JobArgs{ResponseID: id, What: what})
		return err
	}))
	return snooze
}

func (e *env) response(id int64) survey.Response {
	e.t.Helper()
	list, err := survey.List(context.Background(), e.app.DB.Q(), survey.Filter{})
	require.NoError(e.t, err)
	for _, r := range list {
		if r.ID == id {
			return r
		}
	}
	e.t.Fatalf("no response %d", id)
	return survey.Response{}
}

// chat is a patient's conversation on a channel.
type chat struct {
	e       *env
	channel string
	id      string
	n       int
	last    []bot.Sent
}

func (e *env) chat(channel, id string) *chat { return &chat{e: e, channel: channel, id: id} }

func (c *chat) send(text, payload string) []bot.Sent {
	c.e.t.Helper()
	c.n++
	out, err := c.e.app.Engine.Handle(context.Background(), bot.Inbound{Channel: c.channel, ChatID: c.id, SenderID: c.id,
		MessageID: fmt.Sprintf("%s-%d", c.id, c.n), Text: text, Payload: payload})
	require.NoError(c.e.t, err)
	c.last = out.Replies
	return out.Replies
}

func (c *chat) say(text string) string { return joined(c.send(text, "")) }

func (c *chat) press(label string) string {
	c.e.t.Helper()
	for _, r := range c.last {
		for _, b := range r.Buttons {
			if b.Label == label {
				return joined(c.send(label, b.Payload))
			}
		}
	}
	c.e.t.Fatalf("no button %q in %v", label, c.last)
	return ""
}

// history is everything sent to the chat so far (proactive messages too).
func (c *chat) history() []bot.Sent {
	c.e.t.Helper()
	conv, err := c.e.app.DB.Q().FindConversation(context.Background(), c.channel, c.id)
	require.NoError(c.e.t, err)
	out, err := c.e.app.Engine.History(context.Background(), conv.ID, 0, 500)
	require.NoError(c.e.t, err)
	return out
}

func joined(rs []bot.Sent) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.Text)
	}
	return strings.Join(parts, "\n")
}

func labels(r bot.Sent) []string {
	var out []string
	for _, b := range r.Buttons {
		out = append(out, b.Label)
	}
	return out
}

// scheduledAt is when River will run the response's job.
func (e *env) scheduledAt(id int64, what string) time.Time {
	e.t.Helper()
	args := "args->>'what' = $1 AND (args->>'response_id')::bigint = $2"
	if e.app.DB.Dialect() == store.SQLite {
		args = "json_extract(args, '$.what') = $1 AND json_extract(args, '$.response_id') = $2"
	}
	var at any
	require.NoError(e.t, e.app.DB.Q().QueryRow(context.Background(),
		`SELECT scheduled_at FROM river_job WHERE kind = 'survey' AND `+args, what, id).Scan(&at))
	tm, ok := at.(time.Time)
	require.True(e.t, ok, "scheduled_at is a time, got %T", at)
	return tm
}
