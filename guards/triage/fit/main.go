// Command fit fits the triage's learned detector (guards/triage/learned.go)
// on the training part of the project's own triage data and writes it
// where the binary embeds it:
//
//	go run ./guards/triage/fit              # writes guards/triage/learned.json
//	go run ./guards/triage/fit -n           # cross-validated report only
//	go run ./guards/triage/fit -n -drop knn,bow
//
// It reads evals/data/triage-emergency*.jsonl and
// triage-nonemergency*.jsonl, keeps the training part (evals.SplitOf) and
// never reads the held-out part. The numbers it prints are k-fold
// cross-validated on the training part (docs/triage.md, "The learned
// detector"). Re-run it after adding data or changing concepts.yaml, the
// rules file or a feature, then `go test ./guards/triage` for the
// held-out aggregates.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tend-health/tend/guards/triage"
)

func main() {
	out := flag.String("out", "guards/triage/learned.json", "where to write the model")
	dry := flag.Bool("n", false, "report only; write nothing")
	data := flag.String("data", "evals/data", "folder with triage-*.jsonl")
	drop := flag.String("drop", "", "comma-separated feature groups or features to leave out")
	var o triage.FitOptions
	flag.IntVar(&o.Folds, "k", 5, "cross-validation folds")
	flag.Float64Var(&o.L2, "l2", 0, "ridge penalty (0: default)")
	flag.IntVar(&o.Dims, "dims", 0, "main directions of the sentence vectors the bank keeps (0: default; -1: all)")
	flag.IntVar(&o.Support, "support", 0, "mask phrases found in at most this many training messages (0: 1; -1: none)")
	flag.Float64Var(&o.Recall, "recall", 0, "cross-validated recall the low threshold must reach (0: default)")
	flag.Float64Var(&o.FalseAlarms, "fa", 0, "false alarms on the hard non-emergencies the band may add at most (0: default)")
	flag.Float64Var(&o.OrdinaryFalseAlarms, "qfa", 0, "false alarms on the ordinary questions the band may add at most (0: default)")
	flag.Float64Var(&o.HighFalseAlarms, "highfa", 0, "false alarms of the learned detector alone at the high threshold (0: default)")
	noQuestions := flag.Bool("noquestions", false, "leave the ordinary questions (questions-*.jsonl) out")
	flag.Float64Var(&o.RulesWeight, "rulesweight", 0, "weight of a message the rules call an emergency (0: 1; negative: 0)")
	flag.Float64Var(&o.OrdinaryWeight, "qweight", 0, "weight of an ordinary question (0: default)")
	synonyms := flag.String("synonyms", "", "print word-vector synonym candidates for these slots of concepts.yaml (comma-separated, or \"all\") and stop")
	baseline := flag.String("baseline", "2=c1cfd73,3=0c4a771,4=e74f810,5=ce308a0,6=086ce82", "source=commit,...: the word lists at that commit were written before that source's messages arrived (never masked for them); empty for none")
	verbose := flag.Bool("v", false, "print every category and language, and the training misses and false alarms")
	dump := flag.String("dump", "", "write every training message's out-of-fold probability to this file (TSV)")
	flag.Parse()
	if *drop != "" {
		o.Drop = strings.Split(*drop, ",")
	}
	if *synonyms != "" {
		var slots []string
		if *synonyms != "all" {
			slots = strings.Split(*synonyms, ",")
		}
		if err := proposeSynonyms(os.Stdout, "guards/triage/concepts.yaml", slots, 40); err != nil {
			fmt.Fprintln(os.Stderr, "fit:", err)
			os.Exit(1)
		}
		return
	}
	if *baseline != "" {
		o.Baseline = map[string]map[string]bool{}
		for _, kv := range strings.Split(*baseline, ",") {
			source, commit, ok := strings.Cut(kv, "=")
			if !ok {
				fmt.Fprintln(os.Stderr, "fit: -baseline wants source=commit")
				os.Exit(2)
			}
			phrases, err := baselineAt(commit)
			if err != nil {
				// A clone without that history: every rare phrase is masked
				// (more pessimistic, still honest).
				fmt.Fprintf(os.Stderr, "fit: baseline %s: %v (ignored)\n", kv, err)
				continue
			}
			o.Baseline[source] = phrases
		}
	}
	if err := run(*out, *data, *dump, *dry, *verbose, *noQuestions, o); err != nil {
		fmt.Fprintln(os.Stderr, "fit:", err)
		os.Exit(1)
	}
}

// baselineAt reads the rules and concepts files at a commit (git show).
func baselineAt(commit string) (map[string]bool, error) {
	var files [][]byte
	for _, f := range []string{"rules.yaml", "concepts.yaml"} {
		// The package was dialogs/triage before the layout of f64ca9f.
		var out []byte
		var err error
		for _, dir := range []string{"guards/triage/", "dialogs/triage/"} {
			if out, err = exec.Command("git", "show", commit+":"+dir+f).Output(); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("git show %s:{guards,dialogs}/triage/%s: %w", commit, f, err)
		}
		files = append(files, out)
	}
	return triage.BaselinePhrases(files[0], files[1])
}

func run(out, data, dump string, dry, verbose, noQuestions bool, o triage.FitOptions) error {
	var paths []string
	for _, pat := range []string{"triage-emergency*.jsonl", "triage-nonemergency*.jsonl"} {
		m, err := filepath.Glob(filepath.Join(data, pat))
		if err != nil {
			return err
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		return fmt.Errorf("no triage data in %s", data)
	}
	sort.Strings(paths)
	ex, err := triage.ReadExamples(triage.SplitTrain, paths...)
	if err != nil {
		return err
	}
	qpaths, err := filepath.Glob(filepath.Join(data, "questions-*.jsonl"))
	if err != nil {
		return err
	}
	sort.Strings(qpaths)
	if !noQuestions {
		q, err := triage.ReadQuestions(triage.SplitTrain, qpaths...)
		if err != nil {
			return err
		}
		ex = append(ex, q...)
		paths = append(paths, qpaths...)
	}
	m, rep, err := triage.Fit(ex, o)
	if err != nil {
		return err
	}
	fmt.Printf("files: %s\n", strings.Join(paths, ", "))
	triage.PrintFitReport(os.Stdout, rep, verbose)
	if dump != "" {
		var b strings.Builder
		b.WriteString("id\tcategory\tlang\temergency\tordinary\trules\tprob\tevidence\trule\n")
		for _, p := range rep.Predictions {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%v\t%v\t%v\t%.4f\t%v\t%s\n", p.ID, p.Category, p.Lang, p.Emergency, p.Ordinary, p.Rules, p.Prob, p.Evidence, p.Rule)
		}
		if err := os.WriteFile(dump, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	if dry {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", out)
	return nil
}
