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
	register("eval", "run the evals (own held-out sets, cross-validation, clinic fixture, external FAQ sets) and print the score tables", runEval)
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
			if f, ok := m.(*faq.Module); ok {
				mods[i] = &faq.Module{Options: kb, Prices: f.Prices} // the price lists answer cost questions first
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
	record := fs.String("record", "", "write this run's scores as the new floors to this baseline file")
	cv := fs.Int("cv", 5, "folds of the cross-validation on the own training split (0: skip it)")
	ablations := fs.Bool("ablations", false, "also print the ablation table (each signal left out, refitted; slow)")
	split := fs.String("split", evals.SplitHeldOut, "which part of the own data to run through the bot: heldout or train (train is for reading failures: the model was fitted on it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var floor evals.Baseline
	if *baseline != "" {
		var err error
		if floor, err = evals.LoadBaseline(*baseline); err != nil {
			return err
		}
	}
	sets, err := evals.OwnDatasets(*split)
	if err != nil {
		return err
	}
	shared := *sharedDir
	if shared == "" {
		wd, _ := os.Getwd()
		shared, _ = evals.FindShared(wd)
	}
	if shared != "" {
		more, err := evals.LoadAll(shared)
		if err != nil {
			return err
		}
		sets = append(sets, more...)
	} else {
		fmt.Fprintln(env.Stderr, "tend eval: the shared sets (clinic-dev, stanford, deepset) were not found; set TEND_SHARED_DIR to include them")
	}
	defer func() {
		for _, d := range sets {
			d.Close()
		}
		evals.CloseFitting()
	}()
	if *cv > 1 && !*asJSON && *only == "" {
		if err := printCrossValidation(ctx, env, *cv); err != nil {
			return err
		}
	}
	assemble := EvalAssembler(env.Stderr)
	var all []evals.Scores
	var regressions []string
	recorded := evals.Baseline{}
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
			recorded[ds.Name+"/"+c.Name] = evals.FloorOf(s)
			regressions = append(regressions, floor.Check(s)...)
			if *asJSON {
				continue
			}
			evals.PrintTable(env.Stdout, s)
			evals.PrintBreakdown(env.Stdout, outs)
			if *failures {
				evals.PrintFailures(env.Stdout, outs)
				fmt.Fprintln(env.Stdout)
			}
		}
	}
	if *ablations {
		if err := printAblations(ctx, env, sets, *cv); err != nil {
			return err
		}
	}
	if *asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(all); err != nil {
			return err
		}
	}
	if *record != "" {
		if err := recorded.Save(*record); err != nil {
			return err
		}
		fmt.Fprintln(env.Stderr, "recorded", len(recorded), "floors in", *record)
	}
	if len(regressions) > 0 {
		return &exitError{code: 1, msg: "scores below the baseline:\n  " + strings.Join(regressions, "\n  ")}
	}
	return nil
}

// printCrossValidation fits the knowledge model k times on the own
// training split and prints how each fit does on the part it never saw.
func printCrossValidation(ctx context.Context, env *Env, k int) error {
	items, err := evals.TrainItems()
	if err != nil {
		return err
	}
	var rows []evals.SearchScores
	for _, kb := range append(evals.OwnKBNames(), "") {
		var sub []evals.Item
		for _, it := range items {
			if kb == "" || it.KB == kb {
				sub = append(sub, it)
			}
		}
		s, err := evals.CrossValidate(ctx, sub, k, evals.FitOptions{})
		if err != nil {
			return err
		}
		s.Name = "own-" + kb + "/train, " + fmt.Sprint(k) + "-fold"
		if kb == "" {
			s.Name = "own/train, " + fmt.Sprint(k) + "-fold"
		}
		rows = append(rows, s)
	}
	fmt.Fprintln(env.Stdout, "Knowledge search, cross-validated on the own training split (fit on the other folds, scored on each):")
	evals.PrintSearchScores(env.Stdout, rows...)
	fmt.Fprintln(env.Stdout, "\nReliability of the confidence (out-of-fold, both knowledge bases): is the first passage right as often as it says?")
	evals.PrintReliability(env.Stdout, rows[len(rows)-1])
	fmt.Fprintln(env.Stdout)
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

// printAblations refits the knowledge model without each signal in turn
// and prints what each loses.
func printAblations(ctx context.Context, env *Env, sets []*evals.Dataset, k int) error {
	var external []*evals.Dataset
	var names []string
	for _, ds := range sets {
		if strings.HasPrefix(ds.Name, "stanford") || strings.HasPrefix(ds.Name, "deepset") {
			external = append(external, ds)
			names = append(names, ds.Name)
		}
	}
	var rows []evals.AblationRow
	for _, a := range evals.Ablations() {
		fmt.Fprintln(env.Stderr, "ablation:", a.Name)
		r, err := evals.RunAblation(ctx, a, max(k, 2), external)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	fmt.Fprintln(env.Stdout, "Ablations (knowledge search; each variant refitted on the training split):")
	evals.PrintAblations(env.Stdout, rows, names)
	fmt.Fprintln(env.Stdout)
	return nil
}
