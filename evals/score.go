package evals

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Scores are one data set's results under one configuration. Rates are
// 0..1; a rate whose denominator is zero is -1 (not applicable).
type Scores struct {
	Dataset string `json:"dataset"`
	Config  string `json:"config"`

	Items      int `json:"items"`
	Answerable int `json:"answerable"`
	Abstain    int `json:"abstain"`
	Emergency  int `json:"emergency"`
	Ask        int `json:"ask"` // price questions several items match

	AnswerPass  float64 `json:"answer_pass"`  // right document first and every must_contain
	Top1        float64 `json:"top1"`         // first source is a right document
	Top3        float64 `json:"top3"`         // a right document among the first three sources
	MRR         float64 `json:"mrr"`          // over the (up to three) sources
	MustContain float64 `json:"must_contain"` // every must_contain string in the reply

	AbstainPrecision    float64 `json:"abstain_precision"`     // abstentions on answer/abstain items that were right
	AbstainRecall       float64 `json:"abstain_recall"`        // abstain items passed (abstained, invented nothing)
	AbstainOnAnswerable float64 `json:"abstain_on_answerable"` // answerable items the bot abstained on
	// FalseAbstention: answerable items the bot abstained on although the
	// first passage it found was from a right document (the issue's "false
	// abstention": the right passage ranked first, then "I'm not sure").
	FalseAbstention float64 `json:"false_abstention"`

	AskPass float64 `json:"ask_pass"` // ambiguous price questions asked back with buttons, no figure

	EmergencyRecall float64 `json:"emergency_recall"`
	FalseAlarms     float64 `json:"false_alarms"` // non-emergency items sent to the emergency flow

	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	Setup time.Duration `json:"setup_ns"` // assembly and knowledge base sync

	Baseline string `json:"-"`
}

func score(ds *Dataset, config string, outs []Outcome) Scores {
	s := Scores{Dataset: ds.Name, Config: config, Items: len(outs), Baseline: ds.Baseline}
	var pass, top1, top3, content, withMust, abstainPass, abstained, abstainedRight, abstainOnAns, falseAbst, emerg, falseAlarm, askPass int
	var rr float64
	var lat []time.Duration
	for _, o := range outs {
		lat = append(lat, o.Latency)
		didAbstain := o.Action == "abstain" || o.Action == "handoff"
		if didAbstain && o.Item.Expect != ExpectEmergency {
			abstained++ // emergencies are the triage guard's; they do not count either way
		}
		if o.Item.Expect != ExpectEmergency && o.Action == "emergency" {
			falseAlarm++
		}
		switch o.Item.Expect {
		case ExpectAnswer:
			s.Answerable++
			if o.Pass {
				pass++
			}
			if o.Retrieved1 {
				top1++
			}
			for i, d := range o.Docs {
				if i < 3 && contains(o.Item.Docs, d) {
					top3++
					rr += 1 / float64(i+1)
					break
				}
			}
			if len(o.Item.MustContain) > 0 {
				withMust++
				if o.Content && o.Action == "answer" {
					content++
				}
			}
			if didAbstain {
				abstainOnAns++
				if o.Retrieved1 {
					falseAbst++
				}
			}
		case ExpectAbstain:
			s.Abstain++
			if o.Pass {
				abstainPass++
			}
			if didAbstain {
				abstainedRight++
			}
		case ExpectEmergency:
			s.Emergency++
			if o.Pass {
				emerg++
			}
		case ExpectAsk:
			s.Ask++
			if o.Pass {
				askPass++
			}
		}
	}
	s.AnswerPass = rate(pass, s.Answerable)
	s.Top1, s.Top3, s.MRR = rate(top1, s.Answerable), rate(top3, s.Answerable), -1
	if s.Answerable > 0 {
		s.MRR = rr / float64(s.Answerable)
	}
	s.MustContain = rate(content, withMust)
	s.AbstainRecall = rate(abstainPass, s.Abstain)
	s.AbstainPrecision = rate(abstainedRight, abstained)
	s.AbstainOnAnswerable = rate(abstainOnAns, s.Answerable)
	s.FalseAbstention = rate(falseAbst, s.Answerable)
	s.EmergencyRecall = rate(emerg, s.Emergency)
	s.AskPass = rate(askPass, s.Ask)
	s.FalseAlarms = rate(falseAlarm, s.Items-s.Emergency)
	s.P50, s.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return s
}

func rate(n, d int) float64 {
	if d == 0 {
		return -1
	}
	return float64(n) / float64(d)
}

// PrintTable writes one data set's scores under one configuration.
func PrintTable(w io.Writer, s Scores) {
	asked := ""
	if s.Ask > 0 {
		asked = fmt.Sprintf(", %d to ask back", s.Ask)
	}
	fmt.Fprintf(w, "%s · %s  (%d questions: %d answerable, %d abstain, %d emergency%s; setup %s)\n",
		s.Dataset, s.Config, s.Items, s.Answerable, s.Abstain, s.Emergency, asked, s.Setup.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name string, v float64, note string) {
		if v < 0 {
			return
		}
		fmt.Fprintf(tw, "  %s\t%5.1f%%\t%s\n", name, 100*v, note)
	}
	row("answer pass (doc first + content)", s.AnswerPass, "")
	row("top-1 correct document", s.Top1, "")
	row("top-3 correct document", s.Top3, "")
	if s.MRR >= 0 {
		fmt.Fprintf(tw, "  MRR (first 3 sources)\t%6.3f\t\n", s.MRR)
	}
	row("must_contain satisfied", s.MustContain, "")
	row("abstain recall", s.AbstainRecall, "abstained and invented nothing")
	row("abstain precision", s.AbstainPrecision, "")
	row("abstained on answerable", s.AbstainOnAnswerable, "lower is better")
	row("false abstention", s.FalseAbstention, "right document first, then abstained")
	row("asked back", s.AskPass, "ambiguous price questions: buttons, no figure")
	row("emergency recall", s.EmergencyRecall, "the triage guard's job")
	row("false emergency alarms", s.FalseAlarms, "lower is better")
	fmt.Fprintf(tw, "  latency p50 / p99\t%s / %s\t\n", s.P50.Round(10*time.Microsecond), s.P99.Round(10*time.Microsecond))
	_ = tw.Flush()
	if s.Baseline != "" {
		fmt.Fprintf(w, "  published baseline: %s\n", s.Baseline)
	}
	fmt.Fprintln(w)
}

// PrintFailures lists the items that did not pass.
func PrintFailures(w io.Writer, outs []Outcome) {
	for _, o := range outs {
		if !o.Pass {
			fmt.Fprintf(w, "  FAIL %s [%s] %q: %s (confidence %.3f)\n", o.Item.ID, o.Item.Expect, o.Item.Question, o.Why, o.Confidence)
		}
	}
}

// Floor is the lowest acceptable level of each score (and the highest of
// the "lower is better" ones) for one data set and configuration.
type Floor struct {
	Top1                   *float64 `json:"top1,omitempty"`
	Top3                   *float64 `json:"top3,omitempty"`
	MRR                    *float64 `json:"mrr,omitempty"`
	MustContain            *float64 `json:"must_contain,omitempty"`
	AnswerPass             *float64 `json:"answer_pass,omitempty"`
	AbstainRecall          *float64 `json:"abstain_recall,omitempty"`
	AbstainPrecision       *float64 `json:"abstain_precision,omitempty"`
	MaxAbstainOnAnswerable *float64 `json:"max_abstain_on_answerable,omitempty"`
	EmergencyRecall        *float64 `json:"emergency_recall,omitempty"`
	AskPass                *float64 `json:"ask_pass,omitempty"`
	MaxFalseAlarms         *float64 `json:"max_false_alarms,omitempty"`
}

// Baseline maps "dataset/config" to its floor.
type Baseline map[string]Floor

// LoadBaseline reads a baseline file (evals/baseline.json).
func LoadBaseline(path string) (Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// Check lists the scores that fell below their floor (a small tolerance
// absorbs rounding only: one more failed item is a regression).
func (b Baseline) Check(s Scores) []string {
	f, ok := b[s.Dataset+"/"+s.Config]
	if !ok {
		return nil
	}
	var out []string
	const eps = 1e-9
	atLeast := func(name string, got float64, floor *float64) {
		if floor != nil && got+eps < *floor {
			out = append(out, fmt.Sprintf("%s/%s %s %.3f is below the recorded %.3f", s.Dataset, s.Config, name, got, *floor))
		}
	}
	atMost := func(name string, got float64, ceil *float64) {
		if ceil != nil && got-eps > *ceil {
			out = append(out, fmt.Sprintf("%s/%s %s %.3f is above the recorded %.3f", s.Dataset, s.Config, name, got, *ceil))
		}
	}
	atLeast("top1", s.Top1, f.Top1)
	atLeast("top3", s.Top3, f.Top3)
	atLeast("mrr", s.MRR, f.MRR)
	atLeast("must_contain", s.MustContain, f.MustContain)
	atLeast("answer_pass", s.AnswerPass, f.AnswerPass)
	atLeast("abstain_recall", s.AbstainRecall, f.AbstainRecall)
	atLeast("abstain_precision", s.AbstainPrecision, f.AbstainPrecision)
	atMost("abstain_on_answerable", s.AbstainOnAnswerable, f.MaxAbstainOnAnswerable)
	atLeast("emergency_recall", s.EmergencyRecall, f.EmergencyRecall)
	atLeast("ask_pass", s.AskPass, f.AskPass)
	atMost("false_alarms", s.FalseAlarms, f.MaxFalseAlarms)
	return out
}

// Describe is a one-line summary for logs.
func (s Scores) Describe() string {
	parts := []string{fmt.Sprintf("top1 %.3f", s.Top1), fmt.Sprintf("mrr %.3f", s.MRR)}
	if s.MustContain >= 0 {
		parts = append(parts, fmt.Sprintf("must_contain %.3f", s.MustContain))
	}
	if s.AbstainRecall >= 0 {
		parts = append(parts, fmt.Sprintf("abstain recall %.3f", s.AbstainRecall))
	}
	return s.Dataset + "/" + s.Config + ": " + strings.Join(parts, ", ")
}

// FloorOf records a run's scores as the floor a later run must reach
// (`tend eval --record`): rates at their level, and the "lower is better"
// ones as ceilings. Rates that do not apply are left out.
func FloorOf(s Scores) Floor {
	var f Floor
	at := func(v float64) *float64 {
		if v < 0 {
			return nil
		}
		r := float64(int(v*1000)) / 1000 // truncated: the same run passes
		return &r
	}
	ceil := func(v float64) *float64 {
		if v < 0 {
			return nil
		}
		r := float64(int(v*1000+0.999)) / 1000
		return &r
	}
	f.Top1, f.Top3, f.MRR, f.MustContain, f.AnswerPass = at(s.Top1), at(s.Top3), at(s.MRR), at(s.MustContain), at(s.AnswerPass)
	f.AbstainRecall, f.AbstainPrecision = at(s.AbstainRecall), at(s.AbstainPrecision)
	f.MaxAbstainOnAnswerable = ceil(s.AbstainOnAnswerable)
	f.EmergencyRecall = at(s.EmergencyRecall)
	f.AskPass = at(s.AskPass)
	f.MaxFalseAlarms = ceil(s.FalseAlarms)
	if s.Emergency == 0 {
		f.EmergencyRecall = nil
	}
	return f
}

// Save writes the baseline as indented JSON.
func (b Baseline) Save(path string) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
