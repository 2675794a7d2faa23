package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

func testEnv(t *testing.T, db *store.DB) (*Env, *bytes.Buffer, *bytes.Buffer) {
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir()})
	require.NoError(t, err)
	var out, errb bytes.Buffer
	return &Env{Stdin: bytes.NewReader(nil), Stdout: &out, Stderr: &errb, Config: cfg,
		AppOptions: app.Options{Store: db, SkipMigrate: true}}, &out, &errb
}

func write(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestScheduleImport(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	env, out, errb := testEnv(t, db)
	good := write(t, "clinic.yaml", string(sample.ScheduleYAML()))
	require.Equal(t, 0, Main(context.Background(), []string{"schedule", "import", "--dry-run", good}, env), errb.String())
	require.Contains(t, out.String(), "is valid: 3 providers")

	bad := write(t, "bad.csv", "record,id,name,minutes\nvisit_type,follow-up,Follow-up,25\nwidget,,,\n")
	require.Equal(t, 1, Main(context.Background(), []string{"schedule", "import", bad}, env))
	require.Contains(t, errb.String(), "line 3: record: \"widget\"")
	require.Contains(t, errb.String(), "nothing imported")

	before, err := scheduling.Load(context.Background(), db.Q())
	require.NoError(t, err, "the app loaded the sample schedule on first use")
	require.Equal(t, 0, Main(context.Background(), []string{"schedule", "import", good}, env), errb.String())
	after, err := scheduling.Load(context.Background(), db.Q())
	require.NoError(t, err)
	require.Greater(t, after.Version, before.Version)
	require.Equal(t, 2, Main(context.Background(), []string{"schedule"}, env))
}

func TestPatientsImport(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	env, out, errb := testEnv(t, db)
	bad := write(t, "p.csv", "external_id,first_name,last_name,date_of_birth,phone\nA-1,Ann,Lee,1990-02-30,5550140000\nA-2,Bo,Li,1980-01-01,5550140001\n")
	require.Equal(t, 1, Main(context.Background(), []string{"patients", "import", bad}, env))
	require.Contains(t, errb.String(), "line 2: date_of_birth")
	n, err := patients.Count(context.Background(), db.Q())
	require.NoError(t, err)
	require.Zero(t, n, "nothing imported on error")

	require.Equal(t, 0, Main(context.Background(), []string{"patients", "import", "--sample"}, env), errb.String())
	require.Contains(t, out.String(), "imported 5 patients")
}

// `tend chat` books too: the module is installed in CLI mode, where codes
// go to the log for the developer at the terminal.
func TestChatModeBooks(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	env, _, _ := testEnv(t, db)
	logs := &apptest.SyncBuffer{}
	env.AppOptions.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a, err := newApp(context.Background(), env, app.ModeCLI, true)
	require.NoError(t, err)
	defer a.Close()
	ps, err := patients.ParseCSV(bytes.NewReader(sample.PatientsCSV()), a.Clock.Now())
	require.NoError(t, err)
	require.NoError(t, patients.Import(context.Background(), db, ps, a.Clock.Now()))
	n := 0
	say := func(text string) string {
		n++
		out, err := a.Engine.Handle(context.Background(), bot.Inbound{Channel: "console", ChatID: "dev", SenderID: "dev",
			MessageID: fmt.Sprint("m", n), Text: text})
		require.NoError(t, err)
		var parts []string
		for _, r := range out.Replies {
			parts = append(parts, r.Text)
		}
		return strings.Join(parts, "\n")
	}
	require.Contains(t, say("I need a follow-up"), "phone number or email")
	say("luis.mendoza@example.com")
	require.Contains(t, say("01/30/1961"), "6-digit code")
	m := regexp.MustCompile(`otp=(\d{6})`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, "the development code sender logged the code")
	require.Contains(t, say(m[1]), "Thank you, Luis")
}
