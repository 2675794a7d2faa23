package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/guards/triage"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store/storetest"
)

func names(ms []app.Module) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name()
	}
	return out
}

func TestSlackModuleInServeModeOnly(t *testing.T) {
	t.Parallel()
	slack := config.Config{Slack: config.Slack{BotToken: "xoxb-1", HandoffChannel: "C1", SigningSecret: "s"}}

	serve := names(modules(slack, app.ModeServe))
	require.Contains(t, serve, "slack")

	require.NotContains(t, names(modules(slack, app.ModeCLI)), "slack")
	require.NotContains(t, names(modules(config.Config{}, app.ModeServe)), "slack")
}

// TestTriageFirst: the triage module is installed first in every mode, so
// its guard runs before any other.
func TestTriageFirst(t *testing.T) {
	t.Parallel()
	for _, mode := range []app.Mode{app.ModeCLI, app.ModeServe} {
		m := modules(config.Config{}, mode)
		require.NotEmpty(t, m)
		require.IsType(t, triage.Module{}, m[0], "mode %d", mode)
	}
}

// TestGuardOrder pins the guards of the assembled product in every mode:
// triage, then consent (STOP / START / HELP), then, with Slack, staff
// ownership of a handoff. bot.GuardOrder decides it, not module order.
func TestGuardOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode app.Mode
		env  map[string]string
		want []string
	}{
		{app.ModeCLI, nil, []string{"triage", "consent"}},
		// Serving without Slack, the console's handoff machine keeps the bot
		// quiet while staff own a conversation (channels/admin).
		{app.ModeServe, nil, []string{"triage", "consent", "handoff"}},
		{app.ModeServe, map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_HANDOFF_CHANNEL": "C1",
			"SLACK_SIGNING_SECRET": "s3cret"}, []string{"triage", "consent", "handoff"}},
	} {
		vars := map[string]string{"TEND_DATA_DIR": t.TempDir()}
		for k, v := range tc.env {
			vars[k] = v
		}
		cfg, err := config.LoadFrom(vars)
		require.NoError(t, err)
		env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Config: cfg,
			AppOptions: app.Options{Store: storetest.OpenSQLite(t), SkipMigrate: true}}
		a, err := newApp(context.Background(), env, tc.mode, true)
		require.NoError(t, err)
		require.Equal(t, tc.want, a.Engine.Guards(), "mode %d, %v", tc.mode, tc.env)
		a.Close()
	}
}

// TestAskTriage drives `tend ask --json` end to end on a fresh store.
func TestAskTriage(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir()})
	require.NoError(t, err)
	questions := []string{
		"I can't breathe and my lips are going blue, also what are your hours",
		"how much is a chest x-ray?",
		"can I double my blood pressure pill",
		"quiero morirme",
	}
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(strings.Join(questions, "\n")), Stdout: &stdout, Stderr: &stderr, Config: cfg,
		AppOptions: app.Options{Store: storetest.OpenSQLite(t), SkipMigrate: true}}
	require.Equal(t, 0, Main(context.Background(), []string{"ask", "--json"}, env), stderr.String())

	var answers []Answer
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var a Answer
		require.NoError(t, json.Unmarshal(sc.Bytes(), &a))
		answers = append(answers, a)
	}
	require.Len(t, answers, len(questions))

	require.Equal(t, bot.ActionEmergency, answers[0].Action)
	require.Contains(t, answers[0].Answer, "911")
	require.NotContains(t, answers[0].Answer, "8:00", "no clinic hours in an emergency reply")

	require.NotEqual(t, bot.ActionEmergency, answers[1].Action)
	require.NotContains(t, answers[1].Answer, "911")

	require.Equal(t, bot.ActionAbstain, answers[2].Action)
	require.Equal(t, []string{"Talk to a person"}, answers[2].Buttons)

	require.Equal(t, bot.ActionEmergency, answers[3].Action)
	require.Contains(t, answers[3].Answer, "988")
}

func TestTriageCommand(t *testing.T) {
	t.Parallel()
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append([]string{"triage"}, args...),
			&Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
		return code, out.String(), errOut.String()
	}
	code, out, _ := run("", "check", "--file", "")
	require.Equal(t, 0, code)
	require.Contains(t, out, "built-in rules: valid")
	require.Contains(t, out, "chest_pain")

	code, out, _ = run("", "test", "--file", "", "my chest hurts")
	require.Equal(t, 0, code)
	require.Contains(t, out, "emergency\tchest_pain")

	code, out, _ = run("how much is a chest x-ray\nquiero morirme\n", "test", "--file", "")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], "-"))
	require.Contains(t, lines[1], "suicide_self_harm")

	code, out, _ = run("", "print")
	require.Equal(t, 0, code)
	require.Equal(t, string(triage.BuiltinYAML()), out)

	path := t.TempDir() + "/bad.yaml"
	require.NoError(t, os.WriteFile(path, []byte("version: 7\n"), 0o600))
	code, _, errOut := run("", "check", "--file", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "version: must be 1")

	code, _, _ = run("", "nope")
	require.Equal(t, 2, code)
}

func TestModulesTelegram(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{})
	require.NoError(t, err)
	require.NotContains(t, names(modules(cfg, app.ModeServe)), "telegram")

	cfg, err = config.LoadFrom(map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc"})
	require.NoError(t, err)
	require.Contains(t, names(modules(cfg, app.ModeServe)), "telegram")
	require.NotContains(t, names(modules(cfg, app.ModeCLI)), "telegram", "chat and ask never poll")
}

func TestModulesWhatsApp(t *testing.T) {
	t.Parallel()
	wa := config.Config{WhatsApp: config.WhatsApp{PhoneNumberID: "1", AccessToken: "t", AppSecret: "s", VerifyToken: "v"}}
	require.Contains(t, names(modules(wa, app.ModeServe)), "whatsapp")
	require.NotContains(t, names(modules(config.Config{}, app.ModeServe)), "whatsapp", "not configured, not installed")
	require.NotContains(t, names(modules(wa, app.ModeCLI)), "whatsapp", "chat and ask do not start channels")
}

// TestConsentRightAfterTriage: STOP / START / HELP are checked after
// emergencies and before every dialog, in every mode; surveys and
// campaigns are installed in both modes.
func TestConsentRightAfterTriage(t *testing.T) {
	t.Parallel()
	for _, mode := range []app.Mode{app.ModeCLI, app.ModeServe} {
		got := names(modules(config.Config{}, mode))
		require.Equal(t, "consent", got[1], "mode %d", mode)
		require.Contains(t, got, "survey")
		require.Contains(t, got, "campaign")
	}
}
