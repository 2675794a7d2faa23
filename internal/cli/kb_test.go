package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

type cliRun struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, db *store.DB, args ...string) cliRun {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir(), "TEND_LOG_LEVEL": "warn"})
	require.NoError(t, err)
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Config: cfg}
	env.AppOptions.Store = db
	code := Main(context.Background(), args, env)
	return cliRun{code, out.String(), errb.String()}
}

func TestKBCommands(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		files := map[string]string{
			"flu.md":      "---\ntitle: Flu Shots\nupdated: 2026-09-01\n---\n## How much is a flu shot?\n\nA flu shot costs $30 without insurance.\n\n## When can I walk in?\n\nWeekdays 9:00 to 11:00 a.m.",
			"refills.txt": "Q: How long does a refill take?\nA: Allow 3 business days.",
			"broken.pdf":  "%PDF-1.7 truncated",
		}
		for name, body := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
		}

		r := runCLI(t, db, "kb", "sync", dir)
		require.Equal(t, 1, r.code, "a failed file makes the exit status say so")
		require.Contains(t, r.stdout, "2 added, 0 changed, 0 removed, 0 unchanged, 1 failed")
		require.Contains(t, r.stderr, "FAILED broken.pdf: unreadable pdf file")
		require.Contains(t, r.stderr, "1 of 3 files could not be read")

		require.NoError(t, os.Remove(filepath.Join(dir, "broken.pdf")))
		r = runCLI(t, db, "kb", "sync", "--json", dir)
		require.Equal(t, 0, r.code, r.stderr)
		var rep struct {
			Unchanged []string `json:"unchanged"`
			Embedded  int      `json:"embedded"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
		require.Len(t, rep.Unchanged, 2)
		require.Zero(t, rep.Embedded)

		r = runCLI(t, db, "kb", "list")
		require.Equal(t, 0, r.code)
		require.Contains(t, r.stdout, "flu.md")
		require.Contains(t, r.stdout, "2026-09-01")
		require.Contains(t, r.stdout, "2 documents, 3 passages")

		r = runCLI(t, db, "kb", "search", "price of a flu shot")
		require.Equal(t, 0, r.code)
		require.Contains(t, r.stdout, "1. ")
		require.Contains(t, r.stdout, "flu.md › How much is a flu shot?")
		require.Contains(t, r.stdout, "cosine")
		require.NotContains(t, r.stdout, "decision (log-odds)")

		r = runCLI(t, db, "kb", "search", "--explain", "price of a flu shot")
		require.Equal(t, 0, r.code)
		require.Contains(t, r.stdout, "decision (log-odds): bias ")
		require.Contains(t, r.stdout, " cov=")

		r = runCLI(t, db, "ask", "--json", "how much is a flu shot?")
		require.Equal(t, 0, r.code, r.stderr)
		var ans Answer
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &ans))
		require.Equal(t, "answer", ans.Action)
		require.Contains(t, ans.Answer, "$30")
		require.Equal(t, "flu.md", ans.Sources[0].Document)
		require.Equal(t, "How much is a flu shot?", ans.Sources[0].Section)
		require.Greater(t, ans.Confidence, 0.3)

		r = runCLI(t, db, "ask", "--json", "how much is a vasectomy?")
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &ans))
		require.Equal(t, "abstain", ans.Action)

		r = runCLI(t, db, "kb", "unanswered", "--json")
		require.Equal(t, 0, r.code)
		var groups []knowledge.UnansweredGroup
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &groups))
		require.Len(t, groups, 1)
		require.Equal(t, "how much is a vasectomy?", groups[0].Example)
		require.Equal(t, []string{"en"}, groups[0].Langs)
		r = runCLI(t, db, "kb", "unanswered")
		require.Contains(t, r.stdout, "how much is a vasectomy?")

		require.Equal(t, 2, runCLI(t, db, "kb", "dismiss", fmt.Sprint(groups[0].ID)).code, "a reason is required")
		require.NotEqual(t, 0, runCLI(t, db, "kb", "dismiss", "99999", "no such group").code)
		r = runCLI(t, db, "kb", "dismiss", fmt.Sprint(groups[0].ID), "we", "do", "not", "offer", "it")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "Dismissed 1 question(s).")
		r = runCLI(t, db, "kb", "unanswered")
		require.NotContains(t, r.stdout, "vasectomy")

		require.Equal(t, 2, runCLI(t, db, "kb", "sync").code, "usage error")
		require.Equal(t, 2, runCLI(t, db, "kb", "frobnicate").code)
		require.NotEqual(t, 0, runCLI(t, db, "kb", "sync", filepath.Join(dir, "nope")).code)
	})
}
