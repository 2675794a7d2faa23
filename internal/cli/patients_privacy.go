package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/privacy"
)

func init() {
	patientCommands["export"] = runPatientsExport
	patientCommands["erase"] = runPatientsErase
}

const (
	exportUsage = "tend patients export ID (the record number, such as MG-1001, or the patient id)"
	eraseUsage  = "tend patients erase [--yes] [--json] ID (the record number, such as MG-1001, or the patient id)"
)

// privacyApp assembles Tend for export and erase and finds the patient.
func privacyApp(ctx context.Context, env *Env, ref string) (*app.App, patients.Patient, privacy.Subjects, error) {
	ms := modules(env.Config, app.ModeCLI)
	var contacts privacy.Subjects
	for _, m := range ms {
		if b, ok := m.(*booking.Module); ok {
			contacts = func(p patients.Patient) []string {
				if b.Locks == nil {
					return nil
				}
				return b.Locks.Subjects(p)
			}
		}
	}
	a, err := assemble(ctx, env, app.ModeCLI, true, ms)
	if err != nil {
		return nil, patients.Patient{}, nil, err
	}
	p, err := privacy.FindPatient(ctx, a.DB.Q(), ref)
	if errors.Is(err, privacy.ErrNoPatient) {
		a.Close()
		return nil, p, nil, &exitError{code: 1, msg: "no patient with record number or id " + strconv.Quote(ref)}
	}
	if err != nil {
		a.Close()
		return nil, p, nil, err
	}
	return a, p, contacts, nil
}

// runPatientsExport prints everything Tend holds about one patient as JSON,
// decrypted (docs/security.md, "Audit, retention, export and erase"). The
// export is recorded in the audit trail before anything is printed.
func runPatientsExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("patients export", env)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return fmt.Errorf("%w: %s", errUsage, exportUsage)
	}
	a, p, contacts, err := privacyApp(ctx, env, fs.Arg(0))
	if err != nil {
		return err
	}
	defer a.Close()
	now := a.Clock.Now()
	x, err := privacy.Collect(ctx, a.DB.Q(), p, contacts, now)
	if err != nil {
		return err
	}
	if err := audit.Record(ctx, a.DB, audit.For(ctx, now, "patient.export", audit.Patient(p.ID), nil)); err != nil {
		return fmt.Errorf("the export could not be recorded in the audit trail, so it is not printed: %w", err)
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(x)
}

// runPatientsErase removes or anonymizes one patient's personal data
// everywhere Tend holds it (privacy.Erase). Without --yes it only says what
// would be erased.
func runPatientsErase(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("patients erase", env)
	yes := fs.Bool("yes", false, "erase (without it: say what would be erased, and erase nothing)")
	asJSON := fs.Bool("json", false, "print what was erased as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return fmt.Errorf("%w: %s", errUsage, eraseUsage)
	}
	a, p, contacts, err := privacyApp(ctx, env, fs.Arg(0))
	if err != nil {
		return err
	}
	defer a.Close()
	now := a.Clock.Now()
	if !*yes {
		x, err := privacy.Collect(ctx, a.DB.Q(), p, contacts, now)
		if err != nil {
			return err
		}
		msgs := 0
		for _, c := range x.Conversations {
			msgs += len(c.Messages)
		}
		fmt.Fprintf(env.Stdout, "%s (patient %d): %d conversations with %d messages, %d appointments, %d survey responses, %d consent events would be erased\n",
			p.ExternalID, p.ID, len(x.Conversations), msgs, len(x.Appointments), len(x.SurveyResponses), len(x.Consent.Events))
		return &exitError{code: 1, msg: "nothing erased: run again with --yes to erase (this cannot be undone)"}
	}
	res, err := privacy.Erase(ctx, a.DB, p, contacts, now)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	fmt.Fprintf(env.Stdout, "%s (patient %d) erased: %d conversations emptied (%d messages), %d appointments and %d survey responses anonymized; the audit trail keeps the fact\n",
		p.ExternalID, p.ID, res.Conversations, res.Messages, res.Appointments, res.SurveyResponses)
	return nil
}
