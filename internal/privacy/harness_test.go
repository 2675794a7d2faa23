package privacy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/guards/optout"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

const staff = "staff-token-0123456789"

// start is a Monday morning in the sample clinic's zone.
var start = time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)

// env is Tend with booking, consent and this package's module, serving the
// admin API, on a test store with the sample registry.
type env struct {
	t     *testing.T
	db    *store.DB
	app   *app.App
	http  http.Handler
	clock *clock.Fake
	codes *bookingtest.CodeBox
	bm    *booking.Module
	pm    *privacy.Module
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_ADMIN_TOKEN": staff, "TEND_DATA_DIR": t.TempDir()})
	require.NoError(t, err)
	e := &env{t: t, db: db, clock: clock.NewFake(start), codes: &bookingtest.CodeBox{}}
	bc := booking.ConfigFrom(cfg)
	bc.LinkSecret = "test-secret"
	e.bm = &booking.Module{Config: &bc, Codes: e.codes}
	e.pm = &privacy.Module{Contacts: func(p patients.Patient) []string { return e.bm.Locks.Subjects(p) }}
	e.app, err = app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Clock: e.clock, Store: db,
		SkipMigrate: true, Logger: apptest.Logger(), Modules: []app.Module{web.Module{}, &optout.Module{}, e.bm, e.pm}})
	require.NoError(t, err)
	t.Cleanup(e.app.Close)
	bookingtest.LoadSamplePatients(t, db, start)
	e.http = e.app.HTTP.Handler()
	return e
}

func (e *env) patient(record string) patients.Patient {
	e.t.Helper()
	p, err := patients.GetByExternalID(context.Background(), e.db.Q(), record)
	require.NoError(e.t, err)
	return p
}

// do sends an admin request with the bearer token.
func (e *env) do(method, path, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+staff)
	rec := httptest.NewRecorder()
	e.http.ServeHTTP(rec, r)
	return rec
}

// chat is one conversation through the engine.
type chat struct {
	e       *env
	channel string
	id      string
	meta    map[string]string
	n       int
}

func (e *env) chat(channel, id string) *chat { return &chat{e: e, channel: channel, id: id} }

func (c *chat) Send(t *testing.T, text, payload string) []bot.Reply {
	t.Helper()
	c.n++
	c.e.clock.Advance(time.Second)
	out, err := c.e.app.Engine.Handle(context.Background(), bot.Inbound{Channel: c.channel, ChatID: c.id, SenderID: c.id,
		MessageID: fmt.Sprintf("%s-%d", c.id, c.n), Text: text, Payload: payload, Meta: c.meta})
	require.NoError(t, err)
	replies := make([]bot.Reply, len(out.Replies))
	for i, r := range out.Replies {
		replies[i] = r.Reply
	}
	return replies
}

func (c *chat) ShareContact(t *testing.T, phone string) []bot.Reply {
	t.Fatalf("no contact sharing on %s", c.channel)
	return nil
}

func (c *chat) say(text string) string {
	c.e.t.Helper()
	var parts []string
	for _, r := range c.Send(c.e.t, text, "") {
		parts = append(parts, r.Text)
	}
	return strings.Join(parts, "\n")
}

func (c *chat) conv() store.Conversation {
	c.e.t.Helper()
	conv, err := c.e.db.Q().FindConversation(context.Background(), c.channel, c.id)
	require.NoError(c.e.t, err)
	return conv
}

// cells reads every text-like column of every table in db as stored, keyed
// "table.column"; with keys, sealed values are opened too (a value is
// "held" whether or not it is sealed).
func cells(t *testing.T, db *store.DB, keys *sealed.Keyring) map[string][]string {
	t.Helper()
	stored := storetest.StoredText(t, db)
	if keys == nil {
		return stored
	}
	out := map[string][]string{}
	for where, values := range stored {
		for _, v := range values {
			out[where] = append(out[where], v)
			inner := v
			if u, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
				inner = u
			}
			if sealed.IsSealed(inner) {
				plain, err := keys.Open(where, inner)
				require.NoError(t, err, "%s holds a value its key does not open", where)
				out[where] = append(out[where], plain)
			}
		}
	}
	return out
}

// find lists where any of needles (case-insensitive) is held.
func find(all map[string][]string, needles ...string) []string {
	var hits []string
	for where, values := range all {
		for _, v := range values {
			lv := strings.ToLower(v)
			for _, n := range needles {
				if n != "" && strings.Contains(lv, strings.ToLower(n)) {
					hits = append(hits, fmt.Sprintf("%s holds %q", where, n))
				}
			}
		}
	}
	return hits
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	return v
}
