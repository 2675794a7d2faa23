package optout

import (
	"context"

	"github.com/tend-health/tend/internal/host"
)

// Module installs the consent guard. Install it right after triage, so
// that emergencies are answered first and every dialog comes after it.
type Module struct {
	// Hooks are told of every opt-out (set before Install).
	Hooks []Hook
	// Guard is set by Install.
	Guard *Guard
}

// Name implements host.Module.
func (*Module) Name() string { return Name }

// Install implements host.Module, in every mode: STOP works in `tend chat` too.
func (m *Module) Install(_ context.Context, a *host.Host) error {
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	m.Guard = &Guard{Listeners: []string{"survey", "campaign"}, Hooks: m.Hooks, Log: a.Log}
	a.Engine.AddGuard(m.Guard)
	a.Engine.AddDialog(m.Guard)
	if a.HTTP != nil {
		api{a: a}.routes(a.Config.AdminToken.Reveal())
	}
	return nil
}
