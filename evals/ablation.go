package evals

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tend-health/tend/knowledge"
)

// Ablation is one variant of the knowledge search, refitted without one
// signal, for the table in docs/knowledge.md.
type Ablation struct {
	Name string
	Opts FitOptions
}

// Ablations are the variants: everything, then each signal left out.
func Ablations() []Ablation {
	return []Ablation{
		{Name: "everything", Opts: FitOptions{}},
		{Name: "- sentence-vector features (SIF)", Opts: FitOptions{NoMeaning: true}},
		{Name: "- word vectors in the stored vectors", Opts: FitOptions{Embedder: knowledge.NewOffline(nil)}},
		{Name: "- Spanish glossary", Opts: FitOptions{NoGlossary: true}},
		{Name: "- spelling correction", Opts: FitOptions{NoCorrection: true}},
		{Name: "- entity features", Opts: FitOptions{Drop: []string{"ent_match", "ent_missing"}}},
		{Name: "- figure-type features", Opts: FitOptions{Drop: []string{"type_ok", "asks_figure"}}},
		{Name: "- heading fields", Opts: FitOptions{Drop: []string{"head_bm25", "head_cov", "sif_head"}}},
	}
}

// AblationRow is one variant's numbers.
type AblationRow struct {
	Name    string
	CV      SearchScores
	HeldOut SearchScores
	// External are the external sets' scores by name (top-1 and, where
	// the set has unanswerable questions, the AUROC of the confidence for
	// "answerable and the first passage is right").
	External map[string]SearchScores
}

// RunAblation fits a variant on the training split, cross-validates it,
// and scores it on the held-out split and the external sets (search
// only: the same numbers as the cross-validation columns).
func RunAblation(ctx context.Context, a Ablation, k int, external []*Dataset) (AblationRow, error) {
	row := AblationRow{Name: a.Name, External: map[string]SearchScores{}}
	all, err := OwnItems()
	if err != nil {
		return row, err
	}
	var train, held []Item
	for _, it := range questionsOnly(all) {
		if it.Split == SplitTrain {
			train = append(train, it)
		} else {
			held = append(held, it)
		}
	}
	if row.CV, err = CrossValidate(ctx, train, k, a.Opts); err != nil {
		return row, err
	}
	m, _, err := Fit(ctx, train, a.Opts)
	if err != nil {
		return row, err
	}
	if row.HeldOut, err = ScoreSearch(ctx, "held out", held, m, a.Opts); err != nil {
		return row, err
	}
	for _, ds := range external {
		var items []Item
		for _, it := range ds.Items {
			if it.Expect == ExpectAnswer || it.Expect == ExpectAbstain {
				it.KB = "dir:" + ds.KBDir
				items = append(items, it)
			}
		}
		if len(items) == 0 {
			continue
		}
		s, err := ScoreSearch(ctx, ds.Name, items, m, a.Opts)
		if err != nil {
			return row, err
		}
		row.External[ds.Name] = s
	}
	return row, nil
}

// PrintAblations writes the ablation table.
func PrintAblations(w io.Writer, rows []AblationRow, external []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\tCV top-1\tCV facts\tCV AUROC\theld-out top-1\theld-out facts\theld-out AUROC")
	for _, e := range external {
		fmt.Fprintf(tw, "\t%s P@1\t%s AUROC\t%s AUROC answerable", e, e, e)
	}
	fmt.Fprintln(tw, "\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%%\t%.3f\t%.1f%%\t%.1f%%\t%.3f", r.Name, 100*r.CV.Top1, 100*r.CV.Pass, r.CV.AUROC,
			100*r.HeldOut.Top1, 100*r.HeldOut.Pass, r.HeldOut.AUROC)
		for _, e := range external {
			s := r.External[e]
			fmt.Fprintf(tw, "\t%.3f\t%.3f\t%.3f", s.Top1, s.AUROC, s.AUROCAnswerable)
		}
		fmt.Fprintln(tw, "\t")
	}
	_ = tw.Flush()
}
