package triage

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
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
	splitTrain   = "train"
	splitHeldOut = "heldout"
)

// splitOf is evals.SplitOf: held out when FNV-1a 32 of "tend-split-v1/"+id
// mod 100 is below 30.
func splitOf(id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte("tend-split-v1/" + id))
	if h.Sum32()%100 < 30 {
		return splitHeldOut
	}
	return splitTrain
}

// ownItem is a line of evals/data/triage-*.jsonl.
type ownItem struct {
	ID       string `json:"id"`
	Lang     string `json:"lang"`
	Category string `json:"category"`
	Clarity  string `json:"clarity"`
	Expect   string `json:"expect"`
	Reply    string `json:"reply"`
	Text     string `json:"text"`
}

// ownTriageItems reads both files, or skips (or fails under CI) when they
// are not there.
func ownTriageItems(t *testing.T) []ownItem {
	t.Helper()
	var out []ownItem
	for _, name := range []string{"triage-emergency.jsonl", "triage-nonemergency.jsonl"} {
		path := findUp(filepath.Join("evals", "data", name))
		if path == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("evals/data/%s not found", name)
			}
			t.Skipf("evals/data/%s not found", name)
		}
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
				t.Logf("%s line %d: %v (skipped)", name, i+1, err)
				continue
			}
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
func scoreOwn(d *Detector, items []ownItem, part string) ownScore {
	s := ownScore{emerg: map[string]*tally{}, alarms: map[string]*tally{}}
	for _, it := range items {
		if splitOf(it.ID) != part {
			continue
		}
		r := d.Classify(it.Text)
		alarm := r.Kind == KindEmergency
		possible := alarm && r.Possible
		keys := []string{it.Category + "/" + it.Lang, "*/" + it.Lang, "*/*"}
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

// table renders recall and false alarms per category and language.
func (s ownScore) table(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", name)
	row := func(kind string, m map[string]*tally) {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			t := m[k]
			fmt.Fprintf(&b, "  %-10s %-34s %3d/%-3d %5.1f%%  (possible %d, wrong reply %d)\n", kind, k, t.hit, t.n, pct(t.hit, t.n), t.possible, t.wrongReply)
		}
	}
	row("recall", s.emerg)
	row("alarms", s.alarms)
	return b.String()
}

func (s ownScore) total(m map[string]*tally) tally {
	if t := m["*/*"]; t != nil {
		return *t
	}
	return tally{}
}

// Held-out floors, recorded after the work on the training part (see
// docs/triage.md): the test fails when recall drops below them or false
// alarms rise above 3%.
const (
	heldOutRecallFloor   = 0.76
	heldOutMaxFalseAlarm = 0.065 // the target is 0.03; see docs/triage.md
)

// TestOwnData reports recall and false alarms by category and language on
// the training part (with each miss and false alarm, to work on) and on the
// held-out part (aggregates only).
func TestOwnData(t *testing.T) {
	t.Parallel()
	items := ownTriageItems(t)
	d := detector(t)
	train := scoreOwn(d, items, splitTrain)
	t.Log(train.table("training part"))
	for _, m := range train.misses {
		t.Log("  missed:", m)
	}
	for _, m := range train.falseAlarms {
		t.Log("  false alarm:", m)
	}
	held := scoreOwn(d, items, splitHeldOut)
	t.Log(held.table("held-out part (aggregates only)"))
	he, ha := held.total(held.emerg), held.total(held.alarms)
	t.Logf("held-out: emergency recall %d/%d (%.1f%%), wrong reply %d; false alarms %d/%d (%.1f%%)",
		he.hit, he.n, pct(he.hit, he.n), he.wrongReply, ha.hit, ha.n, pct(ha.hit, ha.n))
	require.GreaterOrEqual(t, float64(he.hit), heldOutRecallFloor*float64(he.n), "held-out emergency recall below the recorded floor")
	require.LessOrEqual(t, float64(ha.hit), heldOutMaxFalseAlarm*float64(ha.n), "held-out false alarms above the recorded ceiling")
	for _, lang := range []string{"en", "es"} {
		if a := held.alarms["*/"+lang]; a != nil {
			require.LessOrEqual(t, float64(a.hit), heldOutMaxFalseAlarm*float64(a.n), "held-out false alarms above the recorded ceiling in %s", lang)
		}
	}
}

func detector(t testing.TB) *Detector {
	t.Helper()
	return NewDetector(matcher(t))
}
