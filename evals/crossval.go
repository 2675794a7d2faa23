package evals

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/knowledge/learn"
)

// SearchScores are the knowledge base's results on questions, read from
// the search itself (the first passage and the confidence against the
// model's threshold), without the rest of the bot: the fast loop for
// fitting, cross-validation and ablations. `tend eval` measures the whole
// bot on the same questions.
type SearchScores struct {
	Name       string  `json:"name"`
	Answerable int     `json:"answerable"`
	NearMisses int     `json:"near_misses"`
	Top1       float64 `json:"top1"`       // first passage from a right document
	Pass       float64 `json:"pass"`       // ... and it holds every must_contain string
	Answered   float64 `json:"answered"`   // answerable questions answered with a passing passage
	FalseAbst  float64 `json:"false_abst"` // answerable questions abstained on although the first passage answers
	Wrong      float64 `json:"wrong"`      // answerable questions answered from a passage that does not answer
	AbstainNM  float64 `json:"abstain_nm"` // near misses abstained on
	AUROC      float64 `json:"auroc"`      // confidence vs "the first passage answers", over all questions
	// AUROCAnswerable is the confidence's AUROC for "the question is
	// answerable at all" (answerable vs near misses), whatever was ranked.
	AUROCAnswerable float64 `json:"auroc_answerable"`
	ECE             float64 `json:"ece"` // expected calibration error of the confidence
	Bins            []learn.Bin
}

// scoreSearched computes SearchScores from searches under a model.
func scoreSearched(name string, ss []searched, threshold float64) SearchScores {
	s := SearchScores{Name: name}
	var top1, pass, answered, falseAbst, wrong, abstNM int
	var probs []float64
	var labels, answerable []bool
	for _, x := range ss {
		answerable = append(answerable, x.item.Expect == ExpectAnswer)
		ok := len(x.resp.Results) > 0 && x.resp.Confidence >= threshold
		right := len(x.resp.Results) > 0 && x.item.Expect == ExpectAnswer && answers(x.item, x.resp.Results[0])
		probs, labels = append(probs, x.resp.Confidence), append(labels, right)
		switch x.item.Expect {
		case ExpectAnswer:
			s.Answerable++
			if len(x.resp.Results) > 0 && contains(x.item.Docs, original(x.resp.Results[0])) {
				top1++
			}
			if right {
				pass++
			}
			switch {
			case !ok && right:
				falseAbst++
			case !ok:
			case right:
				answered++
			default:
				wrong++
			}
		case ExpectAbstain:
			s.NearMisses++
			if !ok {
				abstNM++
			}
		}
	}
	d := float64(max(s.Answerable, 1))
	s.Top1, s.Pass, s.Answered, s.FalseAbst, s.Wrong = float64(top1)/d, float64(pass)/d, float64(answered)/d,
		float64(falseAbst)/d, float64(wrong)/d
	s.AbstainNM = float64(abstNM) / float64(max(s.NearMisses, 1))
	s.AUROC = learn.AUROC(probs, labels)
	s.AUROCAnswerable = learn.AUROC(probs, answerable)
	s.Bins, s.ECE = learn.Reliability(probs, labels, 10)
	return s
}

// ScoreSearch searches items under a model and scores the results.
func ScoreSearch(ctx context.Context, name string, items []Item, m *knowledge.Model, o FitOptions) (SearchScores, error) {
	ss, err := searchAll(ctx, questionsOnly(items), m, o)
	if err != nil {
		return SearchScores{}, err
	}
	return scoreSearched(name, ss, m.Threshold), nil
}

// CrossValidate fits on k-1 folds of items and scores the remaining fold,
// k times, and scores all the out-of-fold results together: the estimate
// of how a model fitted on all of items does on questions it never saw.
func CrossValidate(ctx context.Context, items []Item, k int, o FitOptions) (SearchScores, error) {
	items = questionsOnly(items)
	var all []searched
	var raw []float64
	var thresholds []float64
	for f := 0; f < k; f++ {
		var train, test []Item
		for _, it := range items {
			if Fold(it.ID, k) == f {
				test = append(test, it)
			} else {
				train = append(train, it)
			}
		}
		m, _, err := Fit(ctx, train, o)
		if err != nil {
			return SearchScores{}, fmt.Errorf("fold %d: %w", f, err)
		}
		ss, err := searchAll(ctx, test, m, o)
		if err != nil {
			return SearchScores{}, err
		}
		// Each fold's answers were decided by its own threshold: judge
		// them so, by shifting confidences onto a common 0.5 scale (the
		// raw ones are kept for the calibration table).
		for i := range ss {
			raw = append(raw, ss[i].resp.Confidence)
			ss[i].resp.Confidence = shiftToHalf(ss[i].resp.Confidence, m.Threshold)
		}
		all = append(all, ss...)
		thresholds = append(thresholds, m.Threshold)
	}
	s := scoreSearched(fmt.Sprintf("%d-fold cross-validation", k), all, 0.5)
	var labels []bool
	for _, x := range all {
		labels = append(labels, x.item.Expect == ExpectAnswer && len(x.resp.Results) > 0 && answers(x.item, x.resp.Results[0]))
	}
	s.Bins, s.ECE = learn.Reliability(raw, labels, 10)
	if o.Dump != nil {
		dump(o.Dump, all)
	}
	_ = thresholds
	return s, nil
}

// dump writes one JSON line per question: what was asked and what the
// search found (for reading failures of the training split).
func dump(w io.Writer, ss []searched) {
	enc := json.NewEncoder(w)
	for _, x := range ss {
		row := map[string]any{"id": x.item.ID, "kb": x.item.KB, "lang": x.item.Lang, "expect": x.item.Expect,
			"q": x.item.Question, "docs": x.item.Docs, "must": x.item.MustContain, "conf": x.resp.Confidence}
		if len(x.resp.Results) > 0 {
			r := x.resp.Results[0]
			row["top"], row["head"], row["pass"] = r.Document, r.Heading, x.item.Expect == ExpectAnswer && answers(x.item, r)
			row["ungrounded"] = r.Signals.Ungrounded
			row["x"] = x.resp.Decision
		}
		_ = enc.Encode(row)
	}
}

// shiftToHalf maps a confidence so that the threshold lands on 0.5 and
// the order is kept (for pooling folds with different thresholds).
func shiftToHalf(c, t float64) float64 {
	if c >= t {
		return 0.5 + 0.5*(c-t)/max(1-t, 1e-9)
	}
	return 0.5 * c / max(t, 1e-9)
}

func questionsOnly(items []Item) []Item {
	var out []Item
	for _, it := range items {
		if it.Expect == ExpectAnswer || it.Expect == ExpectAbstain {
			out = append(out, it)
		}
	}
	return out
}

// PrintSearchScores writes one row per score set.
func PrintSearchScores(w io.Writer, rows ...SearchScores) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tquestions\tnear misses\tright doc first\tfacts present\tanswered right\tfalse abstention\twrong answer\tabstain on near misses\tAUROC\tAUROC answerable\tECE\t")
	for _, s := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.3f\t%.3f\t%.3f\t\n", s.Name, s.Answerable, s.NearMisses,
			100*s.Top1, 100*s.Pass, 100*s.Answered, 100*s.FalseAbst, 100*s.Wrong, 100*s.AbstainNM, s.AUROC, s.AUROCAnswerable, s.ECE)
	}
	_ = tw.Flush()
}

// PrintReliability writes the reliability table of a run's confidences:
// per band of predicted probability, how often the first passage was in
// fact right. A calibrated model has the two columns close.
func PrintReliability(w io.Writer, s SearchScores) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "confidence\tquestions\tmean confidence\tright\t")
	for _, b := range s.Bins {
		if b.N == 0 {
			continue
		}
		fmt.Fprintf(tw, "%.1f-%.1f\t%d\t%.2f\t%.2f\t\n", b.Lo, b.Hi, b.N, b.MeanProb, b.Observed)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "expected calibration error %.3f\n", s.ECE)
}

// LeaveOneKBOut fits on the training questions of every knowledge base but
// kb and scores the questions of kb: how the model does on a collection it
// has never seen, written by another author (the closest the training data
// comes to the question sets kept outside the project).
func LeaveOneKBOut(ctx context.Context, items []Item, kb string, o FitOptions) (SearchScores, error) {
	var train, test []Item
	for _, it := range questionsOnly(items) {
		if it.KB == kb {
			test = append(test, it)
		} else {
			train = append(train, it)
		}
	}
	if len(test) == 0 || len(train) == 0 {
		return SearchScores{}, fmt.Errorf("leave %q out: %d training and %d test questions", kb, len(train), len(test))
	}
	m, _, err := Fit(ctx, train, o)
	if err != nil {
		return SearchScores{}, err
	}
	ss, err := searchAll(ctx, test, m, o)
	if err != nil {
		return SearchScores{}, err
	}
	var raw []float64
	var labels []bool
	for _, x := range ss {
		raw = append(raw, x.resp.Confidence)
		labels = append(labels, x.item.Expect == ExpectAnswer && len(x.resp.Results) > 0 && answers(x.item, x.resp.Results[0]))
	}
	s := scoreSearched("without "+kb, ss, m.Threshold)
	s.Bins, s.ECE = learn.Reliability(raw, labels, 10)
	return s, nil
}
