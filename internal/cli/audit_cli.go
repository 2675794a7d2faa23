package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/store"
)

// The command line's audit trail. Commands that read or change patients'
// data, import anything or change the knowledge base or the keys are
// recorded with the person who ran them ("cli:<os user>") once they have
// run, with their outcome; `patients export` and `patients erase` record
// themselves (the export before it prints, the erase in its transaction).
// Whoever runs the command line holds the database's credentials, so these
// rows say what the tool did, not a control against its operator.

// cliAction is what a command line means to the audit trail; "" for one
// that is not recorded.
func cliAction(args []string) (action string, ref string) {
	if len(args) < 2 {
		return "", ""
	}
	dry := slices.ContainsFunc(args, func(a string) bool { return a == "--dry-run" || a == "-dry-run" })
	last := ""
	for _, a := range args[2:] {
		if !strings.HasPrefix(a, "-") {
			last = a
		}
	}
	switch args[0] + " " + args[1] {
	case "patients import":
		if !dry {
			return "patients.import", ""
		}
	case "patients unlock":
		return "patient.verification.unlock", last
	case "kb sync":
		return "kb.sync", ""
	case "kb unanswered":
		return "kb.unanswered.read", ""
	case "schedule import":
		if !dry {
			return "schedule.import", ""
		}
	case "visits import":
		return "visits.import", ""
	case "campaign due":
		return "campaign.due_import", ""
	case "campaign preview":
		return "campaign.preview", ""
	case "campaign run":
		return "campaign.run", ""
	case "keys rotate":
		return "keys.rotate", ""
	case "audit list":
		return "audit.list", ""
	case "audit verify":
		return "audit.verify", ""
	}
	return "", ""
}

// recordCLI writes the row of a command that ran (err is its result) and
// returns the command's result, or the failure to record a command that
// succeeded.
func recordCLI(ctx context.Context, env *Env, args []string, err error) error {
	action, ref := cliAction(args)
	if action == "" || errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return err
	}
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	rerr := writeCLIRow(ctx, env, action, ref, outcome)
	switch {
	case rerr == nil:
		return err
	case err != nil:
		fmt.Fprintf(env.Stderr, "tend: the audit trail could not be written either: %v\n", rerr)
		return err
	}
	return &exitError{code: 1, msg: "done, but the audit trail could not be written: " + rerr.Error()}
}

func writeCLIRow(ctx context.Context, env *Env, action, ref, outcome string) error {
	db, closeFn, err := openStore(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	var now time.Time
	if c := env.AppOptions.Clock; c != nil {
		now = c.Now()
	} else {
		now = clock.Real{}.Now()
	}
	subject := ""
	if ref != "" {
		subject = "patient:?"
		if p, err := privacy.FindPatient(ctx, db.Q(), ref); err == nil {
			subject = audit.Patient(p.ID)
		}
	}
	detail := map[string]any{"outcome": outcome}
	if action == "kb.sync" && outcome == "ok" {
		return db.InTx(ctx, func(tx *store.Tx) error {
			_, err := privacy.NoteKB(ctx, tx, action, true, now)
			return err
		})
	}
	return audit.Record(ctx, db, audit.For(ctx, now, action, subject, detail))
}
