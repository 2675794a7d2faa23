package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// reopenable opens the same database again, as a restarted replica does.
type reopenable struct {
	name string
	open func(t *testing.T) *store.DB
}

func eachReopenable(t *testing.T, fn func(t *testing.T, r reopenable)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "tend.db")
		fn(t, reopenable{"sqlite", func(t *testing.T) *store.DB { return storetest.OpenSQLiteAt(t, path) }})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		schema := storetest.NewSchemaName()
		t.Cleanup(func() { storetest.DropSchema(t, schema) })
		fn(t, reopenable{"postgres", func(t *testing.T) *store.DB { return storetest.OpenPostgresSchema(t, schema) }})
	})
}

// A replica stops in the middle of a handoff (store closed, jobs stopped)
// and a new one starts on the same database: ownership, the thread and the
// relays carry on.
func TestReplicaRestart(t *testing.T) {
	t.Parallel()
	eachReopenable(t, func(t *testing.T, r reopenable) {
		fs := newFakeSlack(t)
		fs.addUser("UANNA", "Anna")
		fs.addUser("UBEN", "Ben")
		clk := clock.NewFake(wedMorning)

		db1 := r.open(t)
		h1 := newHarness(t, db1, fs, clk)
		ho, ts := h1.requestPerson("p1")
		h1.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h1.patientGot("p1", "has joined")
		h1.outboxSettled()
		h1.close()
		require.NoError(t, db1.Close())

		db2 := r.open(t)
		h2 := newHarness(t, db2, fs, clk)
		require.Equal(t, store.ModeStaff, h2.conv("p1").Mode)
		got := h2.handoff("p1")
		require.Equal(t, "UANNA", got.Owner)
		require.Equal(t, ts, h2.rootTS(ho.ID))

		h2.press("UBEN", "Ben", actionTake, ho.ID, ts)
		h2.ephemeralTo("UBEN", "Already taken by Anna.")
		h2.staffReply("UANNA", "Still here after the restart.", ts)
		h2.patientGot("p1", "Still here after the restart.")
		require.Empty(t, h2.patient("p1", "great"))
		h2.threadHas(ts, "> great")
		require.Len(t, fs.roots(), 1, "the same thread, no second handoff message")
	})
}

// Slack answers 503 for a while: mirrored messages wait in the outbox and go
// out in order, each once, when it is back.
func TestSlackDownThenBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		ho, ts := h.requestPerson("p1")
		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.threadHas(ts, "Anna took over")
		h.outboxSettled()

		h.slack.setDown(true)
		before := h.slack.calls("chat.postMessage")
		for i := 1; i <= 5; i++ {
			require.Empty(t, h.patient("p1", fmt.Sprintf("message %d", i)))
		}
		h.eventually("a post was tried and failed", func() bool { return h.slack.calls("chat.postMessage") > before })
		// Staff replies still reach the patient: that side does not need Slack.
		h.staffReply("UANNA", "We're looking into it.", ts)
		h.patientGot("p1", "We're looking into it.")

		h.slack.setDown(false)
		h.outboxSettled()
		var got []string
		for _, p := range h.slack.thread(ts) {
			if p.Text != "" && p.Text[0] == '*' {
				got = append(got, p.Text)
			}
		}
		require.Equal(t, []string{"*Patient:*\n> message 1", "*Patient:*\n> message 2", "*Patient:*\n> message 3",
			"*Patient:*\n> message 4", "*Patient:*\n> message 5"}, got)

		var failed int
		require.NoError(t, db.Q().QueryRow(context.Background(),
			`SELECT count(*) FROM slack_outbox WHERE status = 'failed'`).Scan(&failed))
		require.Zero(t, failed)
	})
}

// Slack rate-limits a post (429 with Retry-After): the job waits and the
// thread keeps its order.
func TestSlackRateLimited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		_, ts := h.requestPerson("p1")
		h.outboxSettled()
		h.slack.failNext("chat.postMessage", fakeFailure{Status: http.StatusTooManyRequests, RetryAfter: 1})
		calls := h.slack.calls("chat.postMessage")
		h.patient("p1", "one")
		h.patient("p1", "two")
		h.outboxSettled()
		require.Equal(t, calls+3, h.slack.calls("chat.postMessage"), "one refused, then both sent once")
		var got []string
		for _, p := range h.slack.thread(ts) {
			got = append(got, p.Text)
		}
		require.Equal(t, []string{"*Patient:*\n> one", "*Patient:*\n> two"}, got)

		// A post Slack can never accept is skipped, not retried forever.
		h.slack.failNext("chat.postMessage", fakeFailure{SlackErr: "msg_too_long"})
		h.patient("p1", "three")
		h.patient("p1", "four")
		h.eventually("four posted", func() bool {
			th := h.slack.thread(ts)
			return len(th) == 3 && th[2].Text == "*Patient:*\n> four"
		})
		var failed int
		require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT count(*) FROM slack_outbox WHERE status = 'failed'`).Scan(&failed))
		require.Equal(t, 1, failed)
	})
}

type fakeSummarizer struct{ err error }

func (f fakeSummarizer) Summarize(_ context.Context, lines []handoff.Line) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	return fmt.Sprintf("Patient wants a person after %d messages.\nNo answer given yet.", len(lines)), nil
}

func TestSummary(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil, withOptions(func(o *Options) { o.Summarizer = fakeSummarizer{} }))
		_, ts := h.requestPerson("p1")
		r := h.slack.lastRender(ts)
		require.Contains(t, r, "*Summary*\nPatient wants a person after 1 messages.\nNo answer given yet.")
		require.Contains(t, r, "Can I talk to a person please?", "the transcript stays")

		broken := newHarness(t, storetest.OpenSQLite(t), nil, nil, withOptions(func(o *Options) { o.Summarizer = fakeSummarizer{err: errors.New("llm down")} }))
		_, ts = broken.requestPerson("p2")
		r = broken.slack.lastRender(ts)
		require.NotContains(t, r, "Summary")
		require.Contains(t, r, "Can I talk to a person please?")
	})
}
