package triage

import (
	"context"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
)

// Module installs the triage guard, which runs before every other guard
// whatever the order of installation (bot.GuardOrder).
type Module struct {
	// File is a clinic's rules file (TEND_TRIAGE_FILE); empty means the
	// built-in rules. A file that does not validate stops the start.
	File string
	// Staff is told of emergencies and urgent alerts; nil when no staff
	// channel is configured (the patient is still answered).
	Staff handoff.Notifier
}

// Name implements host.Module.
func (Module) Name() string { return Name }

// Install implements host.Module, in every mode: the terminal chat and
// `tend ask` are guarded like the channels.
func (m Module) Install(_ context.Context, a *host.Host) error {
	f, source, err := m.rules()
	if err != nil {
		return err
	}
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	a.Engine.AddGuard(NewGuard(Compile(f), m.Staff, a.Log))
	a.Log.Debug("triage rules loaded", "source", source, "categories", len(f.Categories))
	return nil
}

func (m Module) rules() (*File, string, error) {
	if m.File == "" {
		f, err := Builtin()
		return f, "built in", err
	}
	f, err := LoadFile(m.File)
	return f, m.File, err
}
