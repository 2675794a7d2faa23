package evals

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// PrintBreakdown writes how the items of a run did by language and, for
// the triage messages, by category: emergency recall and false alarms in
// each, since an overall rate can hide a category the bot never catches.
func PrintBreakdown(w io.Writer, outs []Outcome) {
	type tally struct{ n, pass int }
	byLang := map[string]*tally{}
	byCat := map[string]*tally{}
	for _, o := range outs {
		it := o.Item
		if it.Lang != "" {
			key := it.Lang + " " + it.Expect
			if byLang[key] == nil {
				byLang[key] = &tally{}
			}
			byLang[key].n++
			if o.Pass {
				byLang[key].pass++
			}
		}
		if it.Category != "" {
			key := it.Category
			if it.Expect != ExpectEmergency {
				key = "(not) " + key
			}
			if byCat[key] == nil {
				byCat[key] = &tally{}
			}
			byCat[key].n++
			if o.Pass {
				byCat[key].pass++
			}
		}
	}
	line := func(title string, m map[string]*tally) {
		if len(m) == 0 {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d/%d", k, m[k].pass, m[k].n))
		}
		fmt.Fprintf(w, "  %s: %s\n", title, strings.Join(parts, ", "))
	}
	line("passed by language and expectation", byLang)
	line("passed by category (emergencies caught; (not): no false alarm)", byCat)
	if len(byLang)+len(byCat) > 0 {
		fmt.Fprintln(w)
	}
}
