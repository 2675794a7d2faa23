package triage

import (
	"os"
	"strings"
	"testing"
)

// TestDebugTrain prints what the detector makes of training items whose id
// is listed in TRIAGE_DEBUG (comma separated); held-out ids are refused.
func TestDebugTrain(t *testing.T) {
	ids := os.Getenv("TRIAGE_DEBUG")
	if ids == "" {
		t.Skip("set TRIAGE_DEBUG=id,id")
	}
	want := map[string]bool{}
	for _, id := range strings.Split(ids, ",") {
		want[id] = true
	}
	d := detector(t)
	for _, it := range ownTriageItems(t) {
		if !want[it.ID] {
			continue
		}
		if splitOf(it.ID) != splitTrain {
			t.Logf("%s: held out, not shown", it.ID)
			continue
		}
		r := d.Classify(it.Text)
		t.Logf("%s %s: kind=%s cat=%s rule=%d possible=%v slots=%s :: %s", it.ID, it.Expect, r.Kind, r.Category, r.Rule, r.Possible, d.Explain(it.Text), it.Text)
	}
}
