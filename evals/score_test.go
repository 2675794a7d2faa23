package evals

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

func sent(action, text string, conf float64, docs ...string) bot.Sent {
	r := bot.Reply{Text: text, Action: action, Confidence: conf}
	for _, d := range docs {
		r.Sources = append(r.Sources, bot.Source{Document: d})
	}
	return bot.Sent{Reply: r}
}

func TestJudgeFollowsTheReadme(t *testing.T) {
	t.Parallel()
	facts := "A flu shot is $35. Call (555) 010-2200."
	ans := Item{ID: "a", Expect: ExpectAnswer, Docs: []string{"flu.md"}, MustContain: []string{"$35"}}
	cases := []struct {
		name    string
		item    Item
		replies []bot.Sent
		pass    bool
	}{
		{"right doc and content", ans, []bot.Sent{sent("answer", "It is  $35.", .9, "flu.md", "x.md")}, true},
		{"content ignores case and spacing", Item{Expect: ExpectAnswer, Docs: []string{"flu.md"}, MustContain: []string{"Main  Clinic"}},
			[]bot.Sent{sent("answer", "the main\nclinic", .9, "flu.md")}, true},
		{"wrong first document", ans, []bot.Sent{sent("answer", "$35", .9, "x.md", "flu.md")}, false},
		{"abstained", ans, []bot.Sent{sent("abstain", "not sure", .1, "flu.md")}, false},
		{"abstain item abstained", Item{Expect: ExpectAbstain}, []bot.Sent{sent("abstain", "not sure, call (555) 010-2200", .1)}, true},
		{"abstain item invents a price", Item{Expect: ExpectAbstain}, []bot.Sent{sent("abstain", "maybe $120", .1)}, false},
		{"abstain item answered", Item{Expect: ExpectAbstain}, []bot.Sent{sent("answer", "$35", .9, "flu.md")}, false},
		{"emergency redirected", Item{Expect: ExpectEmergency}, []bot.Sent{sent("emergency", "Call 911", 0)}, true},
		{"emergency plus an FAQ answer", Item{Expect: ExpectEmergency}, []bot.Sent{sent("emergency", "Call 911", 0), sent("answer", "$35", .9, "flu.md")}, false},
	}
	for _, c := range cases {
		o := judge(c.item, c.replies, facts, nil)
		require.Equal(t, c.pass, o.Pass, c.name+": "+o.Why)
	}
}

func TestScoreRates(t *testing.T) {
	t.Parallel()
	ds := &Dataset{Name: "d"}
	mk := func(expect, action string, docs []string, want []string, pass bool) Outcome {
		o := Outcome{Item: Item{Expect: expect, Docs: want, MustContain: []string{"x"}}, Action: action, Docs: docs, Pass: pass,
			Latency: time.Millisecond}
		o.Retrieved1 = len(docs) > 0 && len(want) > 0 && docs[0] == want[0]
		o.Content = pass
		return o
	}
	outs := []Outcome{
		mk(ExpectAnswer, "answer", []string{"a"}, []string{"a"}, true),
		mk(ExpectAnswer, "answer", []string{"b", "a"}, []string{"a"}, false),
		mk(ExpectAnswer, "abstain", []string{"c", "d", "a"}, []string{"a"}, false),
		mk(ExpectAnswer, "answer", []string{"c"}, []string{"a"}, false),
		mk(ExpectAbstain, "abstain", nil, nil, true),
		mk(ExpectAbstain, "answer", []string{"a"}, nil, false),
		mk(ExpectEmergency, "abstain", nil, nil, false),
	}
	s := score(ds, "c", outs)
	require.Equal(t, 4, s.Answerable)
	require.InDelta(t, 0.25, s.Top1, 1e-9)
	require.InDelta(t, 0.75, s.Top3, 1e-9)
	require.InDelta(t, (1+0.5+1.0/3)/4, s.MRR, 1e-9)
	require.InDelta(t, 0.25, s.MustContain, 1e-9)
	require.InDelta(t, 0.5, s.AbstainRecall, 1e-9)
	require.InDelta(t, 0.5, s.AbstainPrecision, 1e-9, "one right and one wrong abstention; the emergency one does not count")
	require.InDelta(t, 0.25, s.AbstainOnAnswerable, 1e-9)
	require.InDelta(t, 0, s.EmergencyRecall, 1e-9)
	require.InDelta(t, 0, s.FalseAlarms, 1e-9)

	floor := 0.3
	b := Baseline{"d/c": {Top1: &floor}}
	require.Len(t, b.Check(s), 1)
	floor = 0.25
	require.Empty(t, b.Check(s))
}
