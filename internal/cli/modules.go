package cli

import (
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
)

// modules lists the capabilities to install for a mode.
func modules(cfg config.Config, mode app.Mode) []app.Module {
	var m []app.Module
	if mode == app.ModeServe {
		m = append(m, web.Module{})
		if cfg.WhatsAppEnabled() {
			m = append(m, &whatsapp.Module{})
		}
	}
	return m
}
