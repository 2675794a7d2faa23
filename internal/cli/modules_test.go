package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
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
	require.Equal(t, "slack", serve[len(serve)-1], "installed last: its guard runs after triage's")

	require.NotContains(t, names(modules(slack, app.ModeCLI)), "slack")
	require.NotContains(t, names(modules(config.Config{}, app.ModeServe)), "slack")
}
