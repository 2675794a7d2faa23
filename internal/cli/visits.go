package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tend-health/tend/dialogs/survey"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/store"
)

func init() {
	register("visits", "visits import FILE (.csv or .json): fulfilled visits; each gets a survey invitation (docs/surveys.md)", runVisits)
}

const visitsUsage = "tend visits import [--dry-run] FILE.csv|FILE.json"

func runVisits(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return fmt.Errorf("%w: %s", errUsage, visitsUsage)
	}
	fs := newFlags("visits import", env)
	dry := fs.Bool("dry-run", false, "check the file; record nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: %s", errUsage, visitsUsage)
	}
	name := fs.Arg(0)
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	sm := &survey.Module{}
	a, err := withModule(ctx, env, sm)
	if err != nil {
		return err
	}
	defer a.Close()
	var visits []survey.Visit
	if strings.EqualFold(filepath.Ext(name), ".json") {
		visits, err = survey.DecodeVisits(data)
	} else {
		visits, err = survey.ParseVisitsCSV(bytes.NewReader(data), a.Clinic.Location())
	}
	if err != nil {
		return &exitError{code: 1, msg: name + ": " + err.Error()}
	}
	if *dry {
		fmt.Fprintf(env.Stdout, "%s is valid: %d visits (nothing recorded: --dry-run)\n", name, len(visits))
		return nil
	}
	counts := map[string]int{}
	err = a.DB.InTx(ctx, func(tx *store.Tx) error {
		clear(counts)
		for i, v := range visits {
			res, err := sm.Service.Fulfilled(ctx, tx, v)
			if err != nil {
				return fmt.Errorf("visit %d: %w", i+1, err)
			}
			counts[res.Status]++
		}
		return nil
	})
	if err != nil {
		return &exitError{code: 1, msg: name + ": " + err.Error() + " (nothing recorded)"}
	}
	fmt.Fprintf(env.Stdout, "%s: %d visits: %d surveys scheduled, %d already known, %d too old to survey\n", name,
		len(visits), counts[survey.StatusScheduled], counts["duplicate"], counts[survey.StatusSkipped])
	return nil
}

// withModule assembles the CLI app with the standard modules, keeping the
// given one in place of its kind, so the command can call it.
func withModule(ctx context.Context, env *Env, keep app.Module) (*app.App, error) {
	ms := modules(env.Config, app.ModeCLI)
	for i, m := range ms {
		if m.Name() == keep.Name() {
			ms[i] = keep
		}
	}
	return assemble(ctx, env, app.ModeCLI, true, ms)
}
