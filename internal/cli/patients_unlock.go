package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

func init() { patientCommands["unlock"] = runPatientsUnlock }

const unlockUsage = "tend patients unlock ID (the record number, such as MG-1001, or the patient id)"

// runPatientsUnlock lifts a patient's identity verification lock (too many
// wrong birth dates or codes, docs/booking.md) after staff have confirmed
// who the patient is, and prints what was cleared.
func runPatientsUnlock(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("patients unlock", env)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return fmt.Errorf("%w: %s", errUsage, unlockUsage)
	}
	ms := modules(env.Config, app.ModeCLI)
	var bm *booking.Module
	for _, m := range ms {
		if b, ok := m.(*booking.Module); ok {
			bm = b
		}
	}
	if bm == nil {
		return errors.New("patients unlock: the booking module is not installed")
	}
	a, err := assemble(ctx, env, app.ModeCLI, true, ms)
	if err != nil {
		return err
	}
	defer a.Close()
	id := fs.Arg(0)
	p, err := patients.GetByExternalID(ctx, a.DB.Q(), id)
	if errors.Is(err, store.ErrNotFound) {
		if n, perr := strconv.ParseInt(id, 10, 64); perr == nil {
			p, err = patients.Get(ctx, a.DB.Q(), n)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return &exitError{code: 1, msg: "patients unlock: no patient with record number or id " + strconv.Quote(id)}
	}
	if err != nil {
		return err
	}
	before, err := bm.Locks.Status(ctx, a.DB.Q(), p)
	if err != nil {
		return err
	}
	if _, err := bm.Locks.Unlock(ctx, p); err != nil {
		return err
	}
	state := "was not locked"
	if before.Locked {
		loc := time.UTC
		if l := a.Clinic.Location(); l != nil {
			loc = l
		}
		state = "was locked until " + before.LockedUntil.In(loc).Format("2006-01-02 15:04 MST")
	}
	fmt.Fprintf(env.Stdout, "%s (patient %d) %s; identity verification is open again on every channel (%d codes sent in the last hour)\n",
		p.ExternalID, p.ID, state, before.CodesSentLastHour)
	return nil
}
