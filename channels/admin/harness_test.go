package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/admin"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/dialogs/askperson"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/guards/triage"
	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store"
)

const password = "maple grove front desk"

// parking is a document the bot answers from.
const parking = "---\ntitle: Parking\n---\n# Parking\n\n## Where can I park?\n\n" +
	"Free parking is in the Elm Street garage, level 2. Bring your ticket to the front desk to have it stamped.\n"

// env is a serving Tend with the console, on a knowledge folder of its own.
type env struct {
	a   *app.App
	srv *httptest.Server
	db  *store.DB
	acc *accounts.Service
	dir string
}

func newEnv(t testing.TB, db *store.DB, vars map[string]string) *env {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "parking.md"), []byte(parking), 0o644))
	if vars == nil {
		vars = map[string]string{}
	}
	vars["TEND_DATA_DIR"] = t.TempDir()
	vars["TEND_KB_DIR"] = dir
	cfg, err := config.LoadFrom(vars)
	require.NoError(t, err)
	kb := &faq.Module{}
	a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Config: &cfg, Start: true, Modules: []app.Module{
		triage.Module{}, askperson.Module{}, web.Module{}, kb, &admin.Module{Base: kb.Base},
	}})
	srv := httptest.NewServer(a.HTTP.Handler())
	t.Cleanup(srv.Close)
	e := &env{a: a, srv: srv, db: db, acc: &accounts.Service{DB: db}, dir: dir}
	// The start-up sync runs in the background: wait for the document.
	require.Eventually(t, func() bool {
		docs, err := kb.Base().Documents(context.Background(), db.Q())
		return err == nil && len(docs) == 1
	}, 20*time.Second, 20*time.Millisecond)
	return e
}

// person adds an account and sets its password (and codes, for owners and
// staff); it returns the TOTP secret ("" for an editor).
func (e *env) person(t testing.TB, email string, role accounts.Role) string {
	t.Helper()
	ctx := context.Background()
	_, link, err := e.acc.Add(ctx, email, role)
	require.NoError(t, err)
	inv, err := e.acc.OpenLink(ctx, link)
	require.NoError(t, err)
	code := ""
	if role.NeedsTOTP() {
		code = accounts.Code(inv.TOTPSecret, time.Now())
	}
	_, err = e.acc.Redeem(ctx, link, password, code)
	require.NoError(t, err)
	if code == "" {
		return ""
	}
	return inv.TOTPSecret
}

// token issues a named API token.
func (e *env) token(t testing.TB, name string, role accounts.Role) string {
	t.Helper()
	_, secret, err := e.acc.AddToken(context.Background(), name, role, "test")
	require.NoError(t, err)
	return secret
}

// call sends an API request with a bearer token and decodes a JSON answer.
func (e *env) call(t testing.TB, method, path, token string, body []byte, hdr map[string]string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode < 300 && len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return resp.StatusCode
}

// ask puts a question through the API.
func (e *env) ask(t testing.TB, token, question string) admin.Answer {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"question": question})
	var a admin.Answer
	require.Equal(t, http.StatusOK, e.call(t, "POST", "/api/v1/kb/ask", token, b, map[string]string{"Content-Type": "application/json"}, &a))
	return a
}

// patientSays is a patient's message on the inline "cli" channel (its
// replies come back at once).
func (e *env) patientSays(t testing.TB, chat, text string) []bot.Sent {
	t.Helper()
	out, err := e.a.Engine.Handle(context.Background(), bot.Inbound{Channel: "cli", ChatID: chat, SenderID: chat,
		MessageID: chat + "-" + time.Now().Format(time.RFC3339Nano), Text: text})
	require.NoError(t, err)
	return out.Replies
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// callErr sends a JSON API request and returns the status and the error
// message of a refusal.
func (e *env) callErr(t testing.TB, method, path, token string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
