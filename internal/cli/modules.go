package cli

import (
	"os"

	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/dialogs/triage"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
)

// modules lists the capabilities to install for a mode. Triage comes first
// in every mode: its guard must see each message before any other.
func modules(cfg config.Config, mode app.Mode) []app.Module {
	// TEND_TRIAGE_FILE is read here until config.Config has a field for it.
	m := []app.Module{triage.Module{File: os.Getenv(triage.EnvFile)}}
	if mode == app.ModeServe {
		m = append(m, web.Module{})
	}
	return m
}
