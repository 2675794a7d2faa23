// Command wordnetgen derives lexicon/wordfreq_en.txt from WordNet's sense
// frequencies (cntlist.rev in Debian's wordnet-base package): how often
// each English word stem was tagged in the SemCor corpus. The offline
// ranker uses it to tell generic words ("see", "take", "old") from specific
// ones ("vasectomy", "acupuncture") when weighing a question's terms.
//
//	go run ./knowledge/lexicon/wordnetgen > knowledge/lexicon/wordfreq_en.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/kljensen/snowball/english"
)

func main() {
	src := flag.String("cntlist", "/usr/share/wordnet/cntlist.rev", "WordNet cntlist.rev")
	minCount := flag.Int("min", 3, "leave out stems tagged fewer times")
	flag.Parse()
	f, err := os.Open(*src)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wordnetgen:", err, "(apt-get install wordnet-base)")
		os.Exit(1)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "sense_key sense_number tag_cnt", sense_key = "lemma%ss_type:..."
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		lemma, _, ok := strings.Cut(fields[0], "%")
		n, err := strconv.Atoi(fields[2])
		if !ok || err != nil || strings.ContainsAny(lemma, "_-.'0123456789") {
			continue
		}
		counts[english.Stem(lemma, true)] += n
	}
	stems := make([]string, 0, len(counts))
	for s, n := range counts {
		if n >= *minCount && s != "" {
			stems = append(stems, s)
		}
	}
	sort.Strings(stems)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "# English word stems and how often WordNet's SemCor corpus tagged them (generic words are frequent).")
	fmt.Fprintln(w, "# Derived by knowledge/lexicon/wordnetgen from WordNet 3.0 (cntlist.rev, Debian wordnet-base).")
	fmt.Fprintln(w, "# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. See WORDNET-LICENSE.")
	for _, s := range stems {
		fmt.Fprintf(w, "%s %d\n", s, counts[s])
	}
}
