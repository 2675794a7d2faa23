package triage

import (
	"context"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/handoff"
)

// Module installs the triage guard. Register it before every other module
// so that its guard runs first.
type Module struct {
	// File is a clinic's rules file (TEND_TRIAGE_FILE); empty means the
	// built-in rules. A file that does not validate stops the start.
	File string
}

// Name implements app.Module.
func (Module) Name() string { return Name }

// Install implements app.Module, in every mode: the terminal chat and
// `tend ask` are guarded like the channels.
func (m Module) Install(_ context.Context, a *app.App) error {
	f, source, err := m.rules()
	if err != nil {
		return err
	}
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	a.Engine.AddGuard(NewGuard(Compile(f), func() handoff.Notifier { return a.HandoffNotifier }, a.Log))
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
