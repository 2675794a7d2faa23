package triage

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The project's own triage data (evals/data/triage-*.jsonl): emergencies and
// hard non-emergencies written by hand, never used as rules. Each item is in
// the training or the held-out part by the fixed rule of evals.SplitOf
// (copied here: the evals package builds the whole app). Only training
// items may be looked at and tuned on; the held-out part is reported in
// aggregate and never item by item.

const (
	splitTrain   = SplitTrain
	splitHeldOut = SplitHeldOut
)

// splitOf is SplitOf (evals.SplitOf).
func splitOf(id string) string { return SplitOf(id) }

// ownItem is a line of evals/data/triage-*.jsonl.
type ownItem struct {
	ID       string `json:"id"`
	Lang     string `json:"lang"`
	Category string `json:"category"`
	Clarity  string `json:"clarity"`
	Expect   string `json:"expect"`
	Reply    string `json:"reply"`
	Text     string `json:"text"`
	Source   string `json:"-"` // the author: "1", "2", ... (sourceOf)
}

// triageDataFiles lists the triage data files (triage-emergency*.jsonl and
// triage-nonemergency*.jsonl) of evals/data, or skips (or fails under CI)
// when there are none.
func triageDataFiles(t *testing.T) []string {
	t.Helper()
	dir := findUp(filepath.Join("evals", "data"))
	var paths []string
	for _, pat := range []string{"triage-emergency*.jsonl", "triage-nonemergency*.jsonl"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		require.NoError(t, err)
		paths = append(paths, m...)
	}
	if dir == "" || len(paths) < 2 {
		if os.Getenv("CI") == "true" {
			t.Fatal("evals/data/triage-*.jsonl not found")
		}
		t.Skip("evals/data/triage-*.jsonl not found")
	}
	return paths
}

// ownTriageItems reads every triage data file (triage-emergency*.jsonl and
// triage-nonemergency*.jsonl: the first author's and later authors'), or
// skips (or fails under CI) when there are none.
func ownTriageItems(t *testing.T) []ownItem {
	t.Helper()
	var out []ownItem
	paths := triageDataFiles(t)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for i, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var it ownItem
			// A line being written by someone else may be cut short: it is
			// skipped, not guessed at.
			if err := json.Unmarshal([]byte(line), &it); err != nil {
				t.Logf("%s line %d: %v (skipped)", filepath.Base(path), i+1, err)
				continue
			}
			it.Source = sourceOf(path)
			out = append(out, it)
		}
	}
	return out
}

// tally is recall or false alarms for one group of items.
type tally struct{ n, hit, wrongReply, possible int }

// ownScore is a whole part's result, per category and language.
type ownScore struct {
	emerg, alarms        map[string]*tally // by "category/lang", "*/lang", "*/*"
	emergTotal, nonTotal tally
	misses, falseAlarms  []string // training part only
}

func add(m map[string]*tally, key string, hit, wrongReply, possible bool) {
	if m[key] == nil {
		m[key] = &tally{}
	}
	t := m[key]
	t.n++
	if hit {
		t.hit++
	}
	if wrongReply {
		t.wrongReply++
	}
	if possible {
		t.possible++
	}
}

// scoreOwn classifies every item of one part.
func scoreOwn(classify func(string) Result, items []ownItem, part string) ownScore {
	s := ownScore{emerg: map[string]*tally{}, alarms: map[string]*tally{}}
	for _, it := range items {
		if splitOf(it.ID) != part {
			continue
		}
		r := classify(it.Text)
		alarm := r.Kind == KindEmergency
		possible := alarm && r.Possible
		keys := []string{it.Category + "/" + it.Lang, "*/" + it.Lang, "*/*", "author " + it.Source + "/*"}
		if it.Expect == "emergency" {
			wrong := alarm && it.Reply != "" && r.Reply != it.Reply
			for _, k := range keys {
				add(s.emerg, k, alarm, wrong, possible)
			}
			if part == splitTrain && (!alarm || wrong) {
				s.misses = append(s.misses, fmt.Sprintf("%s [%s/%s] got %q %s: %s", it.ID, it.Category, it.Lang, r.Reply, r.Category, it.Text))
			}
			continue
		}
		for _, k := range keys {
			add(s.alarms, k, alarm, false, possible)
		}
		if part == splitTrain && alarm {
			s.falseAlarms = append(s.falseAlarms, fmt.Sprintf("%s [%s/%s] %s%s: %s", it.ID, it.Category, it.Lang, r.Category, possibleMark(r), it.Text))
		}
	}
	return s
}

func possibleMark(r Result) string {
	if r.Possible {
		return " (possible)"
	}
	return ""
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }

// table renders recall and false alarms per category, language and
// author, one column per detector.
func table(name string, cols []string, parts ...ownScore) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  %-8s %-30s", name, "", "group")
	for _, c := range cols {
		fmt.Fprintf(&b, " %-22s", c)
	}
	b.WriteString("\n")
	row := func(kind string, pick func(ownScore) map[string]*tally) {
		for _, k := range slices.Sorted(maps.Keys(pick(parts[0]))) {
			fmt.Fprintf(&b, "  %-8s %-30s", kind, k)
			for _, p := range parts {
				t := pick(p)[k]
				if t == nil {
					t = &tally{}
				}
				cell := fmt.Sprintf("%d/%d %.1f%%", t.hit, t.n, pct(t.hit, t.n))
				if t.possible > 0 || t.wrongReply > 0 {
					cell += fmt.Sprintf(" p%d w%d", t.possible, t.wrongReply)
				}
				fmt.Fprintf(&b, " %-22s", cell)
			}
			b.WriteString("\n")
		}
	}
	row("recall", func(s ownScore) map[string]*tally { return s.emerg })
	row("alarms", func(s ownScore) map[string]*tally { return s.alarms })
	return b.String()
}

func (s ownScore) total(m map[string]*tally) tally {
	if t := m["*/*"]; t != nil {
		return *t
	}
	return tally{}
}

// Held-out floors and ceilings, recorded at the checkpoints of the work on
// the training part (see docs/triage.md): the test fails when recall drops
// below the floor or false alarms rise above the ceiling, overall or in a
// language. The false-alarm target is 3%; most of the false alarms left
// are the rules file's own.
const (
	// The fourth author's messages (f3b7953) added 79 emergencies and 68 hard
	// non-emergencies to the held-out part; the detector before them scored
	// 404/434 (93.1 %) and 36/506 (7.1 %) on it. The fifth's (ce308a0) added
	// 108 and 102: the detector fitted before them scored 500/542 (92.3 %) and
	// 36/608 (5.9 %) on the grown part, the re-fit 499/542 and 34/608. The
	// sixth's (086ce82) added 110 and 107: the detector before them scored
	// 102/110 and 2/107 on them; after the re-fit the whole part reads
	// 600/652 (92.0 %) and 32/715 (4.5 %). The floors are the levels reached
	// after each re-fit.
	heldOutRecallFloor       = 0.92  // reached: 600/652 (92.0 %)
	heldOutRecallFloorLang   = 0.91  // reached (fifth round): English 301/329 (91.5 %), Spanish 198/213 (93.0 %)
	heldOutMaxFalseAlarm     = 0.05  // reached: 32/715 (4.5 %); the target is 3 %
	heldOutMaxFalseAlarmLang = 0.085 // reached: English 22/409 (5.4 %), Spanish 12/199 (6.0 %)
)

// envHeldOut: TEND_TRIAGE_HELDOUT=skip leaves the held-out part alone (for
// work on the training part between checkpoints).
const envHeldOut = "TEND_TRIAGE_HELDOUT"

// TestOwnData reports recall and false alarms by category, language and
// author on the training part (with each miss and false alarm of the
// whole detector, to work on) and on the held-out part (aggregates only),
// for three detectors: the rules alone, the rules then the concept rules
// (the detector before the learned one) and the whole detector (rules then
// the learned detector).
func TestOwnData(t *testing.T) {
	t.Parallel()
	items := ownTriageItems(t)
	d := detector(t)
	cols := []string{"rules alone", "rules+concept rules", "rules+learned"}
	detectors := []func(string) Result{d.rules.Classify, d.classifyBefore, d.Classify}
	score := func(part string) []ownScore {
		var out []ownScore
		for _, c := range detectors {
			out = append(out, scoreOwn(c, items, part))
		}
		return out
	}
	train := score(splitTrain)
	t.Log(table("training part", cols, train...))
	after := train[len(train)-1]
	for _, m := range after.misses {
		t.Log("  missed:", m)
	}
	for _, m := range after.falseAlarms {
		t.Log("  false alarm:", m)
	}
	if os.Getenv(envHeldOut) == "skip" {
		t.Logf("%s=skip: held-out part not scored", envHeldOut)
		return
	}
	heldParts := score(splitHeldOut)
	t.Log(table("held-out part (aggregates only)", cols, heldParts...))
	held := heldParts[len(heldParts)-1]
	he, ha := held.total(held.emerg), held.total(held.alarms)
	t.Logf("held-out: emergency recall %d/%d (%.1f%%), wrong reply %d; false alarms %d/%d (%.1f%%)",
		he.hit, he.n, pct(he.hit, he.n), he.wrongReply, ha.hit, ha.n, pct(ha.hit, ha.n))
	require.GreaterOrEqual(t, float64(he.hit), heldOutRecallFloor*float64(he.n), "held-out emergency recall below the recorded floor")
	require.LessOrEqual(t, float64(ha.hit), heldOutMaxFalseAlarm*float64(ha.n), "held-out false alarms above the recorded ceiling")
	for _, lang := range []string{"en", "es"} {
		if a := held.alarms["*/"+lang]; a != nil {
			require.LessOrEqual(t, float64(a.hit), heldOutMaxFalseAlarmLang*float64(a.n), "held-out false alarms above the recorded ceiling in %s", lang)
		}
		if e := held.emerg["*/"+lang]; e != nil {
			require.GreaterOrEqual(t, float64(e.hit), heldOutRecallFloorLang*float64(e.n), "held-out emergency recall below the recorded floor in %s", lang)
		}
	}
}

// classifyBefore is the detector before the learned one: the rules, then
// the concept rules (concept.go) alone.
func (d *Detector) classifyBefore(text string) Result {
	r := d.rules.Classify(text)
	if r.Kind == KindEmergency {
		return r
	}
	s, a := d.concepts.fill(text)
	if c, k, ok := d.concepts.decide(s); ok {
		lang := r.Lang
		if lang == "" {
			lang = a.language()
		}
		return Result{Kind: KindEmergency, Category: ConceptCategory + ":" + c.name, Reply: c.reply, Rule: k, Lang: lang,
			Possible: c.possible}
	}
	return r
}

func detector(t testing.TB) *Detector {
	t.Helper()
	return NewDetector(matcher(t))
}
