// Command fit fits Tend's knowledge model (the passage ranker and the
// answer/abstain decision, knowledge/model.go) on the own training split
// of evals/data and writes it where the binary embeds it:
//
//	go run ./evals/fit                 # writes knowledge/model/answer.json
//	go run ./evals/fit -out /tmp/m.json -drop sif_head,sif_body
//
// The held-out split and the shared sets are never read. Re-run it after
// adding training data or changing a feature, then `tend eval` to see the
// cross-validated and held-out numbers (README, "Evals").
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tend-health/tend/evals"
	"github.com/tend-health/tend/knowledge"
)

func main() {
	out := flag.String("out", "knowledge/model/answer.json", "where to write the model")
	drop := flag.String("drop", "", "comma-separated features to leave out")
	noMeaning := flag.Bool("no-meaning", false, "fit without the sentence-vector features")
	cv := flag.Int("cv", 0, "report k-fold cross-validation on the training split instead of writing a model")
	loko := flag.Bool("loko", false, "report leave-one-knowledge-base-out scores: fit on the others' training questions, score the one left out")
	heldout := flag.Bool("heldout", false, "report the bundled model's search scores on the held-out split (for reports only: never tune on it)")
	fresh := flag.String("fresh", "", "report the bundled model's search scores on every question whose id starts with this prefix, both splits: a new author's data as the model reads it before any refit")
	flag.Parse()
	if *heldout || *fresh != "" {
		if err := reportHeldOut(*fresh); err != nil {
			fmt.Fprintln(os.Stderr, "fit:", err)
			os.Exit(1)
		}
		return
	}
	if *loko {
		if err := leaveOneOut(*drop, *noMeaning); err != nil {
			fmt.Fprintln(os.Stderr, "fit:", err)
			os.Exit(1)
		}
		return
	}
	if *cv > 1 {
		if err := crossValidate(*cv, *drop, *noMeaning); err != nil {
			fmt.Fprintln(os.Stderr, "fit:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*out, *drop, *noMeaning); err != nil {
		fmt.Fprintln(os.Stderr, "fit:", err)
		os.Exit(1)
	}
}

func run(out, drop string, noMeaning bool) error {
	ctx := context.Background()
	items, err := evals.TrainItems()
	if err != nil {
		return err
	}
	o := evals.FitOptions{Name: "fit-" + time.Now().UTC().Format("2006-01-02")}
	o.NoMeaning = noMeaning
	if drop != "" {
		o.Drop = strings.Split(drop, ",")
	}
	experiment(&o)
	defer evals.CloseFitting()
	m, rep, err := evals.Fit(ctx, items, o)
	if err != nil {
		return err
	}
	m.Fit, _ = json.Marshal(rep)
	data, err := m.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println(rep)
	fmt.Println("wrote", out)
	return nil
}

// crossValidate prints k-fold cross-validated search scores per knowledge
// base and overall: the numbers to compare features and settings by.
func crossValidate(k int, drop string, noMeaning bool) error {
	ctx := context.Background()
	items, err := evals.TrainItems()
	if err != nil {
		return err
	}
	o := evals.FitOptions{}
	if path := os.Getenv("TEND_FIT_DUMP"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		o.Dump = f
	}
	o.NoMeaning = noMeaning
	if drop != "" {
		o.Drop = strings.Split(drop, ",")
	}
	experiment(&o)
	defer evals.CloseFitting()
	var rows []evals.SearchScores
	kbs := append(evals.OwnKBNames(), "")
	if o.Dump != nil {
		kbs = []string{""}
	}
	for _, kb := range kbs {
		var sub []evals.Item
		for _, it := range items {
			if kb == "" || it.KB == kb {
				sub = append(sub, it)
			}
		}
		s, err := evals.CrossValidate(ctx, sub, k, o)
		if err != nil {
			return err
		}
		s.Name = kb
		if kb == "" {
			s.Name = "all"
		}
		rows = append(rows, s)
	}
	evals.PrintSearchScores(os.Stdout, rows...)
	return nil
}

// leaveOneOut prints, for each own knowledge base, the scores of a model
// fitted on the other knowledge bases' training questions.
func leaveOneOut(drop string, noMeaning bool) error {
	ctx := context.Background()
	items, err := evals.TrainItems()
	if err != nil {
		return err
	}
	o := evals.FitOptions{NoMeaning: noMeaning}
	if drop != "" {
		o.Drop = strings.Split(drop, ",")
	}
	experiment(&o)
	defer evals.CloseFitting()
	var rows []evals.SearchScores
	for _, kb := range evals.OwnKBNames() {
		s, err := evals.LeaveOneKBOut(ctx, items, kb, o)
		if err != nil {
			return err
		}
		s.Name = kb
		rows = append(rows, s)
	}
	evals.PrintSearchScores(os.Stdout, rows...)
	return nil
}

// experiment applies TEND_FIT_EMBEDDER=hashed (the hashed offline
// embedder alone) and TEND_FIT_CORRECT=0 (no spelling corrections).
func experiment(o *evals.FitOptions) {
	if os.Getenv("TEND_FIT_EMBEDDER") == "hashed" {
		o.Embedder = knowledge.NewOffline(nil)
	}
	o.NoCorrection = os.Getenv("TEND_FIT_CORRECT") == "0"
}

// reportHeldOut prints the bundled model's search scores on the held-out
// split, per knowledge base; with a prefix, on every question whose id
// starts with it, either split (a new author's file read by the model
// fitted before it, the nearest thing here to the hidden sets), and
// without the external sets.
func reportHeldOut(prefix string) error {
	ctx := context.Background()
	defer evals.CloseFitting()
	all, err := evals.OwnItems()
	if err != nil {
		return err
	}
	var rows []evals.SearchScores
	for _, kb := range evals.OwnKBNames() {
		var items []evals.Item
		for _, it := range all {
			picked := it.Split == evals.SplitHeldOut
			if prefix != "" {
				picked = strings.HasPrefix(it.ID, prefix)
			}
			if picked && it.KB == kb && (it.Expect == evals.ExpectAnswer || it.Expect == evals.ExpectAbstain) {
				items = append(items, it)
			}
		}
		name := kb + " held out"
		if prefix != "" {
			name = kb + " " + prefix + "*"
		}
		s, err := evals.ScoreSearch(ctx, name, items, knowledge.DefaultModel(), evals.FitOptions{})
		if err != nil {
			return err
		}
		rows = append(rows, s)
	}
	// The external sets, when the shared folder is found (reported, never fitted on).
	if shared, err := evals.FindShared("."); err == nil && prefix == "" {
		sets, err := evals.LoadAll(shared)
		if err != nil {
			return err
		}
		for _, ds := range sets[1:] { // [0] is clinic-dev, a smoke test
			var items []evals.Item
			for _, it := range ds.Items {
				it.KB = "dir:" + ds.KBDir
				items = append(items, it)
			}
			s, err := evals.ScoreSearch(ctx, ds.Name, items, knowledge.DefaultModel(), evals.FitOptions{})
			ds.Close()
			if err != nil {
				return err
			}
			rows = append(rows, s)
		}
	}
	evals.PrintSearchScores(os.Stdout, rows...)
	return nil
}
