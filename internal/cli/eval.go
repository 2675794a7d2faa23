package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/evals"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/logging"
)

func init() {
	register("eval", "run the evals (clinic fixture and external FAQ sets) and print the score tables", runEval)
}

// EvalAssembler builds Tend for the evals exactly as `tend ask` does: the
// same module list for the CLI mode (so guards such as triage are included
// as soon as they are installed there), with the knowledge module's options
// set by the configuration being measured. Errors are logged to logw; the
// triage guard's warnings are expected here (the evals send emergencies).
func EvalAssembler(logw io.Writer, extra ...app.Module) evals.Assembler {
	return func(ctx context.Context, cfg config.Config, kb faq.Options) (*app.App, error) {
		mods := modules(cfg, app.ModeCLI)
		for i, m := range mods {
			if _, ok := m.(*faq.Module); ok {
				mods[i] = &faq.Module{Options: kb}
			}
		}
		return app.New(ctx, cfg, app.Options{Mode: app.ModeCLI, Logger: logging.New(logw, "error", cfg.LogFormat),
			Modules: append(mods, extra...)})
	}
}

func runEval(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("eval", env)
	sharedDir := fs.String("shared", "", "the shared folder (default: TEND_SHARED_DIR, or found above the working directory)")
	only := fs.String("dataset", "", "comma-separated data sets to run (default all)")
	configs := fs.String("config", "", "comma-separated configurations to run (default all)")
	failures := fs.Bool("failures", false, "list the items that failed")
	asJSON := fs.Bool("json", false, "print the scores as JSON")
	baseline := fs.String("baseline", "", "fail when a score drops below this baseline file (e.g. evals/baseline.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	shared := *sharedDir
	if shared == "" {
		wd, _ := os.Getwd()
		var err error
		if shared, err = evals.FindShared(wd); err != nil {
			return err
		}
	}
	var floor evals.Baseline
	if *baseline != "" {
		var err error
		if floor, err = evals.LoadBaseline(*baseline); err != nil {
			return err
		}
	}
	sets, err := evals.LoadAll(shared)
	if err != nil {
		return err
	}
	defer func() {
		for _, d := range sets {
			d.Close()
		}
	}()
	assemble := EvalAssembler(env.Stderr)
	var all []evals.Scores
	var regressions []string
	for _, ds := range sets {
		if !selected(*only, ds.Name) {
			continue
		}
		for _, c := range evals.Configs(env.Config) {
			if !selected(*configs, c.Name) {
				continue
			}
			s, outs, err := evals.Run(ctx, ds, c, env.Config, assemble)
			if err != nil {
				return err
			}
			all = append(all, s)
			regressions = append(regressions, floor.Check(s)...)
			if *asJSON {
				continue
			}
			evals.PrintTable(env.Stdout, s)
			if *failures {
				evals.PrintFailures(env.Stdout, outs)
				fmt.Fprintln(env.Stdout)
			}
		}
	}
	if *asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(all); err != nil {
			return err
		}
	}
	if len(regressions) > 0 {
		return &exitError{code: 1, msg: "scores below the baseline:\n  " + strings.Join(regressions, "\n  ")}
	}
	return nil
}

func selected(list, name string) bool {
	if list == "" {
		return true
	}
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}
