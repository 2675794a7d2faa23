package evals

import (
	"embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// The project's own data (evals/data/README.md): questions about the sample
// clinic and the Riverside fixture, emergencies and hard non-emergencies,
// written by hand for Tend, never copied from a shared set. It is embedded
// so that `tend eval` and `go test ./evals` run from any folder, and on a
// fresh clone that has no ../shared beside it.
//
//go:embed data/*.jsonl kb
var ownFS embed.FS

// Splits of the own data.
const (
	SplitTrain   = "train"
	SplitHeldOut = "heldout"
)

// heldOutPercent of the items are held out: never used to fit or tune
// anything, only to report.
const heldOutPercent = 30

// SplitOf assigns an item to the training or the held-out part by a hash
// of its id. The rule was fixed once, before any model was fitted, and a
// new item lands on the same side on every machine; adding data never
// moves an old item across.
func SplitOf(id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte("tend-split-v1/" + id))
	if h.Sum32()%100 < heldOutPercent {
		return SplitHeldOut
	}
	return SplitTrain
}

// Fold is the cross-validation fold (0..k-1) of a training item, by a
// second hash of its id independent of the split's.
func Fold(id string, k int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte("tend-fold-v1/" + id))
	return int(h.Sum32() % uint32(k))
}

// Expectations of the triage sets' items besides emergency.
const (
	// ExpectNone is an ordinary message that must not raise the emergency flow.
	ExpectNone = "none"
	// ExpectAdvice asks for a diagnosis, a dose or a treatment decision:
	// declined with a route to a clinician, never the emergency flow.
	ExpectAdvice = "advice"
)

// ownQuestion is a line of questions-*.jsonl.
type ownQuestion struct {
	ID          string   `json:"id"`
	KB          string   `json:"kb"`
	Lang        string   `json:"lang"`
	Voice       string   `json:"voice"`
	Question    string   `json:"question"`
	Expect      string   `json:"expect"`
	Doc         string   `json:"doc"`
	AlsoDocs    []string `json:"also_docs"`
	MustContain []string `json:"must_contain"`
	Absent      string   `json:"absent"`
}

// ownMessage is a line of triage-*.jsonl.
type ownMessage struct {
	ID       string `json:"id"`
	Lang     string `json:"lang"`
	Category string `json:"category"`
	Clarity  string `json:"clarity"`
	Expect   string `json:"expect"`
	Reply    string `json:"reply"`
	Text     string `json:"text"`
}

// OwnKBs are the knowledge bases the own questions are about, by the
// questions' "kb" field.
var OwnKBs = map[string]struct {
	Dir    string // in the embedded tree (ownFS) or "" for the sample
	Clinic string
}{
	"sample":    {},
	"riverside": {Dir: "kb/riverside", Clinic: riversideProfile},
	"harbor":    {Dir: "kb/harbor", Clinic: harborProfile},
	"larkspur":  {Dir: "kb/larkspur", Clinic: larkspurProfile},
}

// harborProfile is the profile of Harbor County Public Health, the fictional
// county health department of evals/kb/harbor; its number is the main
// information line.
const harborProfile = `name: Harbor County Public Health
phone: "(555) 014-3000"
timezone: America/Los_Angeles
hours:
  mon: "08:00-17:00"
  tue: "08:00-17:00"
  wed: "08:00-17:00"
  thu: "08:00-17:00"
  fri: "08:00-17:00"
`

// larkspurProfile is the profile of Larkspur State University Student
// Health Services, the fictional university health service of
// evals/kb/larkspur; its number is the main line.
const larkspurProfile = `name: Larkspur State University Student Health Services
phone: "(555) 017-4400"
timezone: America/Chicago
hours:
  mon: "08:00-17:00"
  tue: "08:00-17:00"
  wed: "09:00-17:00"
  thu: "08:00-17:00"
  fri: "08:00-17:00"
  sat: "10:00-14:00"
`

// OwnItems reads every own item: the questions (with their KB) and the
// triage messages.
func OwnItems() ([]Item, error) {
	files, err := fs.Glob(ownFS, "data/*.jsonl")
	if err != nil {
		return nil, err
	}
	var out []Item
	seen := map[string]string{}
	for _, f := range files {
		data, err := ownFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		base := path.Base(f)
		if f == pricesFile {
			continue // price questions are not the knowledge base's (PriceItems)
		}
		err = eachLine(base, data, func(line []byte) error {
			var it Item
			var err error
			if strings.HasPrefix(base, "triage-") {
				it, err = triageItem(line)
			} else {
				it, err = questionItem(line)
			}
			if err != nil {
				return err
			}
			if prev, dup := seen[it.ID]; dup {
				return fmt.Errorf("id %s also in %s", it.ID, prev)
			}
			seen[it.ID] = base
			out = append(out, it)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func questionItem(line []byte) (Item, error) {
	var q ownQuestion
	if err := strictUnmarshal(line, &q); err != nil {
		return Item{}, err
	}
	if _, ok := OwnKBs[q.KB]; !ok {
		return Item{}, fmt.Errorf("%s: unknown kb %q", q.ID, q.KB)
	}
	it := Item{ID: q.ID, Question: q.Question, Expect: q.Expect, MustContain: q.MustContain, KB: q.KB, Lang: q.Lang,
		Voice: q.Voice, Absent: q.Absent, Split: SplitOf(q.ID)}
	switch q.Expect {
	case ExpectAnswer:
		if q.Doc == "" {
			return it, fmt.Errorf("%s: an answer item needs its doc", q.ID)
		}
		it.Docs = append([]string{q.Doc}, q.AlsoDocs...)
	case ExpectAbstain:
	default:
		return it, fmt.Errorf("%s: expect %q (answer or abstain)", q.ID, q.Expect)
	}
	return it, checkItem(it)
}

func triageItem(line []byte) (Item, error) {
	var m ownMessage
	if err := strictUnmarshal(line, &m); err != nil {
		return Item{}, err
	}
	it := Item{ID: m.ID, Question: m.Text, Expect: m.Expect, Lang: m.Lang, Category: m.Category, Clarity: m.Clarity,
		Reply: m.Reply, KB: "sample", Split: SplitOf(m.ID)}
	switch m.Expect {
	case ExpectEmergency, ExpectNone, ExpectAdvice:
	default:
		return it, fmt.Errorf("%s: expect %q (emergency, none or advice)", m.ID, m.Expect)
	}
	return it, checkItem(it)
}

func checkItem(it Item) error {
	switch {
	case it.ID == "":
		return fmt.Errorf("an item without an id")
	case strings.TrimSpace(it.Question) == "":
		return fmt.Errorf("%s: empty text", it.ID)
	case it.Lang != "en" && it.Lang != "es":
		return fmt.Errorf("%s: lang %q (en or es)", it.ID, it.Lang)
	}
	return nil
}

// strictUnmarshal rejects unknown fields, so a typo in a data file is an
// error rather than a silently missing label.
func strictUnmarshal(line []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func eachLine(name string, data []byte, fn func([]byte) error) error {
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := fn([]byte(line)); err != nil {
			return fmt.Errorf("%s line %d: %w", name, i+1, err)
		}
	}
	return nil
}

// OwnDatasets builds the own data sets of one split ("" for both): one per
// knowledge base for the questions, and "triage" for the emergency and
// non-emergency messages (run against the sample clinic).
func OwnDatasets(split string) ([]*Dataset, error) {
	items, err := OwnItems()
	if err != nil {
		return nil, err
	}
	by := map[string][]Item{}
	for _, it := range items {
		if split != "" && it.Split != split {
			continue
		}
		name := it.KB
		if it.Category != "" || it.Expect == ExpectEmergency || it.Expect == ExpectNone || it.Expect == ExpectAdvice {
			name = "triage"
		}
		by[name] = append(by[name], it)
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*Dataset
	for _, n := range names {
		kb := "sample"
		if n != "triage" {
			kb = n
		}
		d, err := ownDataset("own-"+n+suffix(split), kb, by[n])
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, err
		}
		out = append(out, d)
	}
	more, err := priceDatasets(split)
	if err != nil {
		for _, o := range out {
			o.Close()
		}
		return nil, err
	}
	return append(out, more...), nil
}

func suffix(split string) string {
	if split == "" {
		return ""
	}
	return "/" + split
}

// ownDataset writes the knowledge base out of the binary into a temporary
// folder (the bot syncs a folder at start, as in production).
func ownDataset(name, kb string, items []Item) (*Dataset, error) {
	src := OwnKBs[kb]
	d := &Dataset{Name: name, Items: items, Clinic: src.Clinic}
	if src.Dir == "" {
		d.KBDir = "" // the bundled sample clinic, synced as `tend serve` does
		return d, nil
	}
	tmp, err := os.MkdirTemp("", "tend-eval-kb-")
	if err != nil {
		return nil, err
	}
	d.KBDir, d.cleanup = tmp, func() { _ = os.RemoveAll(tmp) }
	if err := copyTree(src.Dir, tmp); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func copyTree(dir, to string) error {
	return fs.WalkDir(ownFS, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := ownFS.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, filepath.FromSlash(strings.TrimPrefix(p, dir+"/")))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o600)
	})
}

// OwnKBFiles is a knowledge base's documents by file name (for checks).
func OwnKBFiles(kb string) (fs.FS, error) {
	src, ok := OwnKBs[kb]
	if !ok {
		return nil, fmt.Errorf("unknown kb %q", kb)
	}
	if src.Dir == "" {
		return nil, nil
	}
	return fs.Sub(ownFS, src.Dir)
}

// OwnKBNames are the own knowledge bases' names, sorted.
func OwnKBNames() []string {
	names := make([]string, 0, len(OwnKBs))
	for n := range OwnKBs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
