package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func run(t *testing.T, db *store.DB, stdin string, args ...string) (int, string, string) {
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir()})
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Config: cfg,
		AppOptions: app.Options{Store: db, SkipMigrate: true, Logger: logging.Discard()}}
	code := Main(context.Background(), args, env)
	return code, out.String(), errOut.String()
}

func TestChatReadsLinesAndPrintsReplies(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		code, out, errOut := run(t, db, "hello\n\n2\n", "chat")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "Maple Grove Family Clinic")
		require.Contains(t, out, "  1) Costs")
		require.Contains(t, out, "insurance", "typing 2 pressed the second button")
		require.NotContains(t, out, "you>", "no prompt when the input is not a terminal")
	})
}

func TestAskJSON(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		code, out, errOut := run(t, db, "", "ask", "--json", "hello")
		require.Equal(t, 0, code, errOut)
		var a Answer
		require.NoError(t, json.Unmarshal([]byte(out), &a))
		require.Equal(t, "answer", a.Action)
		require.Contains(t, a.Answer, "Maple Grove")
		require.NotNil(t, a.Sources)

		// No text: one question per line, one object per line.
		code, out, _ = run(t, db, "hello\ntalk to a person\n\n", "ask", "--json")
		require.Equal(t, 0, code)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 2)
		require.NoError(t, json.Unmarshal([]byte(lines[1]), &a))
		require.Equal(t, "handoff", a.Action)
	})
}

// A question about appointments is answered from the documents (or
// referred to staff), with its sources; a request for an appointment
// starts booking, which quotes no document.
func TestQuestionsAboutAppointmentsGoToTheFAQ(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	ask := func(q string) Answer {
		code, out, errOut := run(t, db, "", "ask", "--json", q)
		require.Equal(t, 0, code, errOut)
		var a Answer
		require.NoError(t, json.Unmarshal([]byte(out), &a))
		return a
	}
	for _, q := range []string{"what number do I call to book an appointment?", "How early should I arrive for my appointment?",
		"followup visit how long", "¿Con cuánto tiempo antes tengo que llegar a mi cita?"} {
		a := ask(q)
		require.Contains(t, []string{"answer", "abstain"}, a.Action, q)
		require.NotEmpty(t, a.Sources, q)
	}
	for _, q := range []string{"I need to book a follow-up", "can I book an appointment for next week?", "quiero sacar una cita"} {
		a := ask(q)
		require.Empty(t, a.Sources, "%q starts booking: %s", q, a.Answer)
	}
}

func TestAskPlain(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, storetest.OpenSQLite(t), "", "ask", "hola")
	require.Equal(t, 0, code)
	require.Contains(t, out, "asistente virtual", "Spanish greeting answered in Spanish")
}

func TestMigrateAndUsage(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	code, out, _ := run(t, db, "", "migrate")
	require.Equal(t, 0, code)
	require.Contains(t, out, "up to date")
	code, _, errOut := run(t, db, "", "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "unknown command")
	code, out, _ = run(t, db, "", "help")
	require.Equal(t, 0, code)
	for _, c := range []string{"serve", "chat", "ask", "migrate"} {
		require.Contains(t, out, c)
	}
	code, _, errOut = run(t, db, "", "ask", "--nope")
	require.Equal(t, 2, code, errOut)
}

func TestServeStartsAndStopsOnSIGTERM(t *testing.T) {
	// Not parallel: it sends SIGTERM to this process and sets ServeReady.
	db := storetest.OpenSQLite(t)
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_ADDR": "127.0.0.1:0"})
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Config: cfg,
		AppOptions: app.Options{Store: db, SkipMigrate: true, Logger: logging.Discard()}}
	addrc := make(chan net.Addr, 1)
	ServeReady = func(a net.Addr) { addrc <- a }
	defer func() { ServeReady = nil }()
	var wg sync.WaitGroup
	var code int
	wg.Add(1)
	go func() {
		defer wg.Done()
		code = Main(context.Background(), []string{"serve"}, env)
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	resp, err := http.Get("http://" + addr.String() + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	wg.Wait()
	require.Equal(t, 0, code, errOut.String())
	_, port, _ := net.SplitHostPort(addr.String())
	require.Contains(t, out.String(), "Tend is ready: http://localhost:"+port+"\n")
}

// A port already in use fails at once, before anything says "ready".
func TestServeOnABusyPortFails(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_ADDR": ln.Addr().String()})
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Config: cfg,
		AppOptions: app.Options{Store: storetest.OpenSQLite(t), SkipMigrate: true, Logger: logging.Discard()}}
	require.Equal(t, 1, Main(context.Background(), []string{"serve"}, env))
	require.Contains(t, errOut.String(), "address already in use")
	require.NotContains(t, out.String(), "ready")
}

func TestHelpListsEveryCommandAndSetting(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, storetest.OpenSQLite(t), "", "--help")
	require.Equal(t, 0, code)
	for _, c := range []string{"serve", "chat", "ask", "kb", "eval", "version"} {
		require.Contains(t, out, "\n  "+c+" ")
	}
	code, _, errOut := run(t, storetest.OpenSQLite(t), "", "serve", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "TEND_ADDR")
	require.Contains(t, errOut, "DATABASE_URL")
	code, _, errOut = run(t, storetest.OpenSQLite(t), "", "chat", "--help")
	require.Equal(t, 0, code)
	require.NotContains(t, errOut, "UTF-8", "the machine's LANG is not shown as a default")
}

func TestReadyURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{"[::]:8080": "http://localhost:8080", "0.0.0.0:80": "http://localhost:80",
		"127.0.0.1:9": "http://localhost:9", "10.1.2.3:8080": "http://10.1.2.3:8080"} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		require.NoError(t, err)
		require.Equal(t, want, readyURL(a), addr)
	}
}
