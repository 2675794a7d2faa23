package cli

import (
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
)

// modules lists the capabilities to install for a mode.
func modules(cfg config.Config, mode app.Mode) []app.Module {
	var m []app.Module
	if mode == app.ModeServe {
		m = append(m, web.Module{})
	}
	// The knowledge base and FAQ answers, in every mode: serve syncs
	// TEND_KB_DIR (or the sample clinic) in the background, ask and chat
	// before the first question.
	m = append(m, &faq.Module{})
	return m
}
