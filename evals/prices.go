package evals

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tend-health/tend/internal/prices"
)

// Price questions (data/prices.jsonl, evals/data/README.md): cost
// questions about a price-transparency file, run through the whole bot
// with the file imported as TEND_PRICES_DIR would import it. They are not
// knowledge-base questions, so the knowledge model is never fitted on
// them (OwnItems leaves them out).

// ExpectAsk is a price question several items of the list match equally:
// the bot asks which one with buttons and quotes no figure.
const ExpectAsk = "ask"

// pricesFile is the price questions' file in the embedded tree.
const pricesFile = "data/prices.jsonl"

// priceQuestion is a line of prices.jsonl.
type priceQuestion struct {
	ID     string `json:"id"`
	Prices string `json:"prices"` // west-mercy (the official examples) or generated
	Lang   string `json:"lang"`
	Voice  string `json:"voice"`
	Kind   string `json:"kind"` // cash, plan, code, ambiguous, absent, followup
	// Before are the conversation's earlier messages (a follow-up's).
	Before   []string `json:"before"`
	Question string   `json:"question"`
	Expect   string   `json:"expect"`
	// Item is the description of the item that answers (answer items).
	Item        string   `json:"item"`
	MustContain []string `json:"must_contain"`
	// Choices are descriptions the buttons of an ask item must offer.
	Choices []string `json:"choices"`
	Absent  string   `json:"absent"`
}

// priceSets are the price lists the questions are about, and the
// files each is run over: West Mercy's questions over each of the three
// official layouts (the answers must not depend on the layout), the
// generated hospital's over one generated tall file.
var priceSets = map[string][]string{
	"west-mercy": {prices.ExampleJSON, prices.ExampleTall, prices.ExampleWide},
	"generated":  {generatedFile},
}

// generatedFile is the generated list's file name; it holds every item the
// generator makes once (prices.GenItems items, 10 plans each: 20,000
// charge rows), written at run time since it is the same on every machine.
const generatedFile = "generated-hospital.csv"

// priceDatasetName is the data set of one price file.
func priceDatasetName(file string) string {
	switch file {
	case prices.ExampleJSON:
		return "own-prices-json"
	case prices.ExampleTall:
		return "own-prices-tall"
	case prices.ExampleWide:
		return "own-prices-wide"
	}
	return "own-prices-generated"
}

// PriceItems reads the price questions.
func PriceItems() ([]Item, error) {
	data, err := ownFS.ReadFile(pricesFile)
	if err != nil {
		return nil, err
	}
	var out []Item
	seen := map[string]bool{}
	err = eachLine(filepath.Base(pricesFile), data, func(line []byte) error {
		var q priceQuestion
		if err := strictUnmarshal(line, &q); err != nil {
			return err
		}
		if seen[q.ID] {
			return fmt.Errorf("id %s twice", q.ID)
		}
		seen[q.ID] = true
		it, err := priceItem(q)
		if err != nil {
			return err
		}
		out = append(out, it)
		return nil
	})
	return out, err
}

func priceItem(q priceQuestion) (Item, error) {
	it := Item{ID: q.ID, Question: q.Question, Expect: q.Expect, MustContain: q.MustContain, KB: "sample", Lang: q.Lang,
		Voice: q.Voice, Absent: q.Absent, Split: SplitOf(q.ID), Prices: q.Prices, Section: q.Item,
		Choices: q.Choices, Kind: q.Kind, Before: q.Before}
	if _, ok := priceSets[q.Prices]; !ok {
		return it, fmt.Errorf("%s: unknown prices %q (west-mercy or generated)", q.ID, q.Prices)
	}
	switch q.Kind {
	case "cash", "plan", "code", "ambiguous", "absent":
	case "followup":
		if len(q.Before) == 0 {
			return it, fmt.Errorf("%s: a follow-up needs the messages before it", q.ID)
		}
	default:
		return it, fmt.Errorf("%s: kind %q (cash, plan, code, ambiguous, absent or followup)", q.ID, q.Kind)
	}
	switch q.Expect {
	case ExpectAnswer:
		if q.Item == "" || len(q.MustContain) == 0 {
			return it, fmt.Errorf("%s: an answer needs its item and the figures it must contain", q.ID)
		}
	case ExpectAsk:
		if len(q.Choices) < 2 {
			return it, fmt.Errorf("%s: a question asked back needs at least two choices", q.ID)
		}
	case ExpectAbstain:
		if q.Absent == "" {
			return it, fmt.Errorf("%s: an absent service needs what the list lacks", q.ID)
		}
	default:
		return it, fmt.Errorf("%s: expect %q (answer, ask or abstain)", q.ID, q.Expect)
	}
	return it, checkItem(it)
}

// priceDatasets builds one data set per price file, each with the
// questions of its list in the split ("" for both).
func priceDatasets(split string) ([]*Dataset, error) {
	items, err := PriceItems()
	if err != nil {
		return nil, err
	}
	var out []*Dataset
	for _, set := range []string{"west-mercy", "generated"} {
		for _, file := range priceSets[set] {
			var its []Item
			for _, it := range items {
				if it.Prices == set && (split == "" || it.Split == split) {
					it.Docs = []string{file}
					its = append(its, it)
				}
			}
			d, err := priceDataset(priceDatasetName(file)+suffix(split), file, its)
			if err != nil {
				for _, o := range out {
					o.Close()
				}
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// priceDataset writes the price file into a temporary folder, the data
// set's TEND_PRICES_DIR; the knowledge base is the sample clinic's (its
// documents say how copays, coinsurance and deductibles work).
func priceDataset(name, file string, items []Item) (*Dataset, error) {
	tmp, err := os.MkdirTemp("", "tend-eval-prices-")
	if err != nil {
		return nil, err
	}
	d := &Dataset{Name: name, Items: items, PricesDir: tmp, cleanup: func() { _ = os.RemoveAll(tmp) }}
	dst := filepath.Join(tmp, file)
	if file == generatedFile {
		err = writeGenerated(dst)
	} else {
		var data []byte
		if data, err = fs.ReadFile(prices.OfficialExamples(), file); err == nil {
			err = os.WriteFile(dst, data, 0o600)
		}
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func writeGenerated(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := prices.GenerateTall(f, prices.GenItems*len(prices.GenPlans())); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// judgePrice scores a price question: the right item first with every
// figure (answer), a choice of items with buttons and no figure (ask), or
// no figure at all for a service the list does not have (abstain).
func judgePrice(o *Outcome, buttons []string) {
	it := o.Item
	figures := dollarRe.FindAllString(o.Answer, -1)
	switch it.Expect {
	case ExpectAnswer:
		o.Retrieved1 = len(o.Docs) > 0 && contains(it.Docs, o.Docs[0]) && len(o.Sections) > 0 && o.Sections[0] == it.Section
		o.Content = containsAll(o.Answer, it.MustContain)
		o.Pass = o.Action == "answer" && o.Retrieved1 && o.Content
		switch {
		case o.Action != "answer":
			o.Why = "did not answer (" + o.Action + ")"
		case !o.Retrieved1:
			o.Why = fmt.Sprintf("answered with %s › %q, want %q", first(o.Docs), first(o.Sections), it.Section)
		case !o.Content:
			o.Why = "reply lacks " + strings.Join(missingStrings(o.Answer, it.MustContain), ", ")
		}
	case ExpectAsk:
		var missing []string
		for _, c := range it.Choices {
			if !offered(buttons, c) {
				missing = append(missing, c)
			}
		}
		asked := o.Action == "answer" && len(o.Docs) == 0 && len(buttons) >= 2
		o.Pass = asked && len(missing) == 0 && len(figures) == 0
		switch {
		case !asked:
			o.Why = fmt.Sprintf("did not ask back (%s, sources %v, %d buttons)", o.Action, o.Docs, len(buttons))
		case len(missing) > 0:
			o.Why = "no button for " + strings.Join(missing, "; ")
		case len(figures) > 0:
			o.Why = "quoted " + strings.Join(figures, ", ") + " before the patient chose"
		}
	case ExpectAbstain:
		offeredHelp := o.Action == "abstain" || o.Action == "handoff"
		o.Pass = offeredHelp && len(figures) == 0
		switch {
		case !offeredHelp:
			o.Why = fmt.Sprintf("did not abstain (%s, %s › %q)", o.Action, first(o.Docs), first(o.Sections))
		case len(figures) > 0:
			o.Why = "quoted " + strings.Join(figures, ", ") + " for a service the list lacks"
		}
	}
}

// offered reports a button for the item described (a label is the
// description, maybe with the setting or location added, clipped at 60
// characters).
func offered(labels []string, desc string) bool {
	for _, l := range labels {
		clipped, ok := strings.CutSuffix(l, "…")
		if strings.HasPrefix(l, desc) || (ok && strings.HasPrefix(desc, clipped)) {
			return true
		}
	}
	return false
}
