package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
)

func names(ms []app.Module) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name())
	}
	return out
}

func TestModulesWhatsApp(t *testing.T) {
	t.Parallel()
	wa := config.Config{WhatsApp: config.WhatsApp{PhoneNumberID: "1", AccessToken: "t", AppSecret: "s", VerifyToken: "v"}}
	require.Equal(t, []string{"web", "whatsapp"}, names(modules(wa, app.ModeServe)))
	require.Equal(t, []string{"web"}, names(modules(config.Config{}, app.ModeServe)), "not configured, not installed")
	require.Empty(t, names(modules(wa, app.ModeCLI)), "chat and ask do not start channels")
}
