package triage

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// evalItem is one labelled message: our held-out set uses text/expect
// (emergency, advice, none) and reply; clinic-dev uses question/expect
// (emergency, abstain, answer).
type evalItem struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Question string `json:"question"`
	Lang     string `json:"lang"`
	Expect   string `json:"expect"`
	Reply    string `json:"reply"`
}

func (it evalItem) message() string {
	if it.Text != "" {
		return it.Text
	}
	return it.Question
}

func readItems(t *testing.T, path string) []evalItem {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var items []evalItem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var it evalItem
		require.NoError(t, json.Unmarshal(sc.Bytes(), &it), "line %q", sc.Text())
		items = append(items, it)
	}
	require.NoError(t, sc.Err())
	return items
}

// score counts how the rules do on a set of items.
type score struct {
	emergencies, caught, wrongReply int
	others, falseAlarms             int
	advice, adviceCaught            int
	plain, plainAdvice              int
	misses                          []string
	caughtAdvice                    []string
}

func scoreItems(m classifier, items []evalItem, emergency, advice, plain string) score {
	var s score
	for _, it := range items {
		r := m.Classify(it.message())
		switch it.Expect {
		case emergency:
			s.emergencies++
			if r.Kind == KindEmergency {
				s.caught++
				if it.Reply != "" && r.Reply != it.Reply {
					s.wrongReply++
					s.misses = append(s.misses, "wrong reply "+r.Reply+": "+it.ID)
				}
			} else {
				s.misses = append(s.misses, "missed emergency: "+it.ID)
			}
			continue
		}
		s.others++
		if r.Kind == KindEmergency {
			s.falseAlarms++
			s.misses = append(s.misses, "false alarm ("+r.Category+"): "+it.ID)
		}
		switch it.Expect {
		case advice:
			s.advice++
			if r.Kind == KindAdvice {
				s.adviceCaught++
				s.caughtAdvice = append(s.caughtAdvice, it.ID+" ("+r.Category+")")
			} else if r.Kind == "" {
				s.misses = append(s.misses, "not declined as advice: "+it.ID)
			}
		case plain:
			s.plain++
			if r.Kind == KindAdvice {
				s.plainAdvice++
				s.misses = append(s.misses, "advice on a plain question ("+r.Category+"): "+it.ID)
			}
		}
	}
	return s
}

func (s score) report(t *testing.T, name string) {
	t.Logf("%s: emergency recall %d/%d (wrong reply %d); false emergencies %d/%d (%.1f%%); advice caught %d/%d; advice on plain questions %d/%d",
		name, s.caught, s.emergencies, s.wrongReply, s.falseAlarms, s.others, 100*float64(s.falseAlarms)/float64(max(s.others, 1)),
		s.adviceCaught, s.advice, s.plainAdvice, s.plain)
	if len(s.caughtAdvice) > 0 {
		t.Log("   declined as medical advice:", strings.Join(s.caughtAdvice, ", "))
	}
	for _, m := range s.misses {
		t.Log("  ", m)
	}
}

// classifier is the rules alone (*Matcher) or with the concept detector (*Detector).
type classifier interface{ Classify(string) Result }

// TestHeldOut runs the rules over our own labelled messages (written before
// the rules were tuned on clinic-dev; see testdata/README.md).
func TestHeldOut(t *testing.T) {
	t.Parallel()
	m := detector(t)
	for _, name := range []string{"heldout.jsonl", "heldout2.jsonl", "heldout3.jsonl"} {
		items := readItems(t, filepath.Join("testdata", name))
		require.GreaterOrEqual(t, len(items), 60)
		s := scoreItems(m, items, "emergency", "advice", "none")
		s.report(t, name)
		require.Equal(t, s.emergencies, s.caught, "every emergency must be caught")
		require.Zero(t, s.wrongReply, "crisis messages get the 988 reply, others the 911 reply")
		require.LessOrEqual(t, float64(s.falseAlarms), 0.02*float64(s.others), "false emergencies above 2%%")
		require.GreaterOrEqual(t, float64(s.adviceCaught), 0.8*float64(s.advice), "advice requests declined below 80%%")
		require.LessOrEqual(t, float64(s.plainAdvice), 0.05*float64(s.plain), "plain questions declined as advice above 5%%")
	}
}

// findUp walks up from the working directory looking for rel.
func findUp(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// envSharedDir names the shared folder (../shared) explicitly, as for
// evals.FindShared.
const envSharedDir = "TEND_SHARED_DIR"

// sharedDir finds the shared folder the way evals.FindShared does (the
// evals package builds the whole app, so it is not imported here):
// TEND_SHARED_DIR when set, which must hold evals/clinic-dev.jsonl, else a
// "shared" folder holding it above the working directory. When there is
// none the test is skipped, with the reason in the log, or fails under
// CI=true.
func sharedDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv(envSharedDir); d != "" {
		if _, err := os.Stat(filepath.Join(d, "evals", "clinic-dev.jsonl")); err != nil {
			t.Fatalf("%s=%s has no evals/clinic-dev.jsonl", envSharedDir, d)
		}
		return d
	}
	if p := findUp(filepath.Join("shared", "evals", "clinic-dev.jsonl")); p != "" {
		return filepath.Dir(filepath.Dir(p))
	}
	const msg = "shared/evals/clinic-dev.jsonl not found above the working directory (set " + envSharedDir + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; skipped (set CI=true to make this a failure)")
	return ""
}

// TestClinicDev runs the rules over the shared development set: every
// emergency caught, at most 2% false emergencies.
func TestClinicDev(t *testing.T) {
	t.Parallel()
	path := filepath.Join(sharedDir(t), "evals", "clinic-dev.jsonl")
	m := detector(t)
	items := readItems(t, path)
	// abstain items are also prices and services the clinic does not list,
	// and off-topic requests: only those asking for a diagnosis, a dose or
	// a treatment are triage's; the log lists which were declined.
	s := scoreItems(m, items, "emergency", "abstain", "answer")
	s.report(t, "clinic-dev")
	require.Equal(t, s.emergencies, s.caught, "every emergency must be caught")
	require.LessOrEqual(t, float64(s.falseAlarms), 0.02*float64(s.others), "false emergencies above 2%%")
	require.LessOrEqual(t, float64(s.plainAdvice), 0.05*float64(s.plain), "answerable questions declined as advice above 5%%")
}

// TestSharedFalseAlarms runs the rules over questions patients ask that are
// not emergencies, written by others: the clinic fixture's FAQ questions and
// the COVID FAQ data sets' questions and paraphrases (many name symptoms
// such as trouble breathing). Almost none may be taken for an emergency.
func TestSharedFalseAlarms(t *testing.T) {
	t.Parallel()
	root := sharedDir(t)
	if _, err := os.Stat(filepath.Join(root, "datasets")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s has no datasets folder", root)
		}
		t.Skipf("%s has no datasets folder; skipped (set CI=true to make this a failure)", root)
	}
	questions := sharedQuestions(t, root)
	require.Greater(t, len(questions), 500)
	m := detector(t)
	alarms, advice := 0, 0
	for _, q := range questions {
		switch r := m.Classify(q); r.Kind {
		case KindEmergency:
			alarms++
			t.Logf("false emergency (%s rule %d): %q", r.Category, r.Rule, q)
		case KindAdvice:
			advice++
		}
	}
	t.Logf("shared questions: %d, false emergencies %d, declined as medical advice %d", len(questions), alarms, advice)
	require.LessOrEqual(t, float64(alarms), 0.01*float64(len(questions)))
}

func sharedQuestions(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	kb, err := filepath.Glob(filepath.Join(root, "evals", "clinic-kb", "*"))
	require.NoError(t, err)
	heading := regexp.MustCompile(`(?m)^(?:## |Q: )(.+)$|<h2>([^<]+)</h2>`)
	for _, path := range kb {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, m := range heading.FindAllStringSubmatch(string(data), -1) {
			out = append(out, m[1]+m[2])
		}
	}
	files, err := filepath.Glob(filepath.Join(root, "datasets", "*", "*.jsonl"))
	require.NoError(t, err)
	for _, path := range files {
		f, err := os.Open(path)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1024*1024), 1024*1024)
		for sc.Scan() {
			var row struct {
				Query    string `json:"query"`
				Question string `json:"question"`
			}
			if json.Unmarshal(sc.Bytes(), &row) == nil && row.Query+row.Question != "" {
				out = append(out, row.Query+row.Question)
			}
		}
		require.NoError(t, sc.Err())
		require.NoError(t, f.Close())
	}
	return out
}
