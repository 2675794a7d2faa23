package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
)

func moduleNames(ms []app.Module) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name())
	}
	return out
}

func TestModulesTelegram(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{})
	require.NoError(t, err)
	require.NotContains(t, moduleNames(modules(cfg, app.ModeServe)), "telegram")

	cfg, err = config.LoadFrom(map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc"})
	require.NoError(t, err)
	require.Contains(t, moduleNames(modules(cfg, app.ModeServe)), "telegram")
	require.NotContains(t, moduleNames(modules(cfg, app.ModeCLI)), "telegram", "chat and ask never poll")
}
