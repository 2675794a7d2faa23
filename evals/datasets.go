// Package evals scores Tend on fixed question sets by running the real
// engine, assembled exactly as `tend ask` assembles it, over each question
// as a new conversation, and reading what the patient would get: the
// reply's action, text, sources and confidence.
package evals

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Expectations of an item.
const (
	ExpectAnswer    = "answer"
	ExpectAbstain   = "abstain"
	ExpectEmergency = "emergency"
)

// Item is one question and what should happen.
type Item struct {
	ID       string
	Question string
	Expect   string
	// Docs are the acceptable source documents (file names in the KB).
	Docs        []string
	MustContain []string

	// The own data sets' labels (evals/data/README.md).
	KB       string // the knowledge base a question is about
	Lang     string // "en" or "es"
	Voice    string // how it is written: terse, rambling, caregiver, ...
	Absent   string // a near miss: what the documents lack
	Category string // a triage message's category (cardiac, figure_of_speech, ...)
	Clarity  string // an emergency's: explicit or indirect
	Reply    string // an emergency's expected reply: emergency (911) or crisis (988)
	Split    string // train or heldout

	// Price questions (prices.jsonl).
	Prices  string   // the price list they are about: west-mercy or generated
	Section string   // the item that answers, as the file describes it
	Choices []string // an ambiguous question's items the buttons must offer
	Kind    string   // cash, plan, code, ambiguous, absent or followup
	// Before are messages sent first in the same conversation (a
	// follow-up's earlier question); only the reply to Question is scored.
	Before []string
}

// Dataset is a knowledge base folder and its questions.
type Dataset struct {
	Name  string
	KBDir string
	Items []Item
	// Baseline is a published or reference score to beat, for the table.
	Baseline string
	// Clinic is the clinic profile (YAML) to run with; empty means the
	// bundled sample clinic's.
	Clinic string
	// PricesDir is the data set's TEND_PRICES_DIR ("" for none).
	PricesDir string
	// cleanup removes a generated KB folder.
	cleanup func()
}

// Close removes anything the dataset generated.
func (d *Dataset) Close() {
	if d.cleanup != nil {
		d.cleanup()
	}
}

// FindShared locates the shared folder: TEND_SHARED_DIR, or the first
// "shared" folder holding evals/clinic-dev.jsonl found walking up from dir.
func FindShared(dir string) (string, error) {
	if d := os.Getenv("TEND_SHARED_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "evals", "clinic-dev.jsonl")); err != nil {
			return "", fmt.Errorf("TEND_SHARED_DIR=%s has no evals/clinic-dev.jsonl", d)
		}
		return d, nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "shared")
		if _, err := os.Stat(filepath.Join(cand, "evals", "clinic-dev.jsonl")); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("shared/evals/clinic-dev.jsonl not found above the working directory (set TEND_SHARED_DIR)")
		}
		dir = parent
	}
}

// LoadAll loads every data set the harness knows from the shared folder:
// the clinic fixture and the external FAQ data sets that fit (question
// sets with relevance labels; the CMS price files have no questions).
func LoadAll(shared string) ([]*Dataset, error) {
	clinic, err := LoadClinic(filepath.Join(shared, "evals"))
	if err != nil {
		return nil, err
	}
	out := []*Dataset{clinic}
	for _, ext := range []struct{ dir, baseline string }{
		{"stanford-covid-vaccine-faq", "BM25 (question+answer index): P@1 0.339, MRR@10 0.489; top-score AUROC for abstention 0.39"},
		{"deepset-covid-faq-sim", "BM25 (question+answer index): P@1 0.488, MRR@10 0.592"},
	} {
		dir := filepath.Join(shared, "datasets", ext.dir)
		if _, err := os.Stat(filepath.Join(dir, "queries.jsonl")); err != nil {
			continue
		}
		d, err := LoadFAQ(ext.dir, dir)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, err
		}
		d.Baseline = ext.baseline
		out = append(out, d)
	}
	return out, nil
}

// LoadClinic reads clinic-kb and clinic-dev.jsonl (format in the shared
// evals README).
func LoadClinic(dir string) (*Dataset, error) {
	d := &Dataset{Name: "clinic-dev", KBDir: filepath.Join(dir, "clinic-kb"), Clinic: riversideProfile}
	err := readJSONL(filepath.Join(dir, "clinic-dev.jsonl"), func(line []byte) error {
		var raw struct {
			ID          string   `json:"id"`
			Question    string   `json:"question"`
			Expect      string   `json:"expect"`
			Doc         string   `json:"doc"`
			MustContain []string `json:"must_contain"`
		}
		if err := json.Unmarshal(line, &raw); err != nil {
			return err
		}
		it := Item{ID: raw.ID, Question: raw.Question, Expect: raw.Expect, MustContain: raw.MustContain}
		if raw.Doc != "" {
			it.Docs = []string{raw.Doc}
		}
		d.Items = append(d.Items, it)
		return nil
	})
	return d, err
}

// LoadFAQ turns an external FAQ data set (faq.jsonl, queries.jsonl) into a
// knowledge base folder with one Markdown document per FAQ entry, so that
// "the right document" means "the right FAQ entry". A query with no
// relevant ids should be abstained on.
func LoadFAQ(name, dir string) (*Dataset, error) {
	tmp, err := os.MkdirTemp("", "tend-eval-"+name+"-")
	if err != nil {
		return nil, err
	}
	d := &Dataset{Name: name, KBDir: tmp, cleanup: func() { _ = os.RemoveAll(tmp) }}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	err = readJSONL(filepath.Join(dir, "faq.jsonl"), func(line []byte) error {
		var f struct {
			ID       string `json:"id"`
			Question string `json:"question"`
			Answer   string `json:"answer"`
			Category string `json:"category"`
		}
		if err := json.Unmarshal(line, &f); err != nil {
			return err
		}
		title := strings.TrimSpace(f.Category)
		if title == "" {
			title = "FAQ"
		}
		body := fmt.Sprintf("---\ntitle: %q\n---\n\n## %s\n\n%s\n", title, oneLine(f.Question), f.Answer)
		return os.WriteFile(filepath.Join(tmp, faqDoc(f.ID)), []byte(body), 0o600)
	})
	if err != nil {
		return nil, err
	}
	err = readJSONL(filepath.Join(dir, "queries.jsonl"), func(line []byte) error {
		var q struct {
			ID          string   `json:"id"`
			Query       string   `json:"query"`
			RelevantIDs []string `json:"relevant_ids"`
		}
		if err := json.Unmarshal(line, &q); err != nil {
			return err
		}
		it := Item{ID: q.ID, Question: q.Query, Expect: ExpectAbstain}
		for _, id := range q.RelevantIDs {
			it.Docs = append(it.Docs, faqDoc(id))
		}
		if len(it.Docs) > 0 {
			it.Expect = ExpectAnswer
		}
		sort.Strings(it.Docs)
		d.Items = append(d.Items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

func faqDoc(id string) string { return "faq-" + strings.ReplaceAll(id, "/", "_") + ".md" }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func readJSONL(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s line %d: %w", filepath.Base(path), n, err)
		}
	}
	return sc.Err()
}

// riversideProfile is the clinic profile of the evaluation fixture's
// fictional clinic; its main number is the fixture's scheduling line.
const riversideProfile = `name: Riverside Family Health
phone: "(555) 010-2000"
timezone: America/New_York
hours:
  mon: "07:30-18:00"
  tue: "07:30-18:00"
  wed: "07:30-18:00"
  thu: "07:30-18:00"
  fri: "07:30-18:00"
`
