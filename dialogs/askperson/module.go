package askperson

import (
	"context"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
)

// Module installs "talk to a person" with the staff side it reaches. An
// assembly without it still has the dialog (internal/app adds it without
// a staff channel: the patient is told staff will follow up).
type Module struct {
	// Staff is the staff side of handoffs; nil when none is configured.
	Staff handoff.Notifier
}

// Name implements host.Module.
func (Module) Name() string { return handoff.Name }

// Install implements host.Module.
func (m Module) Install(_ context.Context, h *host.Host) error {
	h.Engine.AddDialog(Dialog{Notifier: m.Staff})
	return nil
}
