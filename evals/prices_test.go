package evals

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

// priceReply is a reply with its sources' sections and buttons.
func priceReply(action, text, doc, section string, buttons ...string) bot.Sent {
	r := bot.Reply{Text: text, Action: action}
	if doc != "" {
		r.Sources = []bot.Source{{Document: doc, Section: section}}
	}
	for _, b := range buttons {
		r.Buttons = append(r.Buttons, bot.Button{Label: b})
	}
	return bot.Sent{Reply: r}
}

// TestJudgePrice: a price answer needs the right list and item and every
// figure; a question asked back needs the items' buttons and no figure;
// an absent service needs an abstention without any figure.
func TestJudgePrice(t *testing.T) {
	answer := Item{ID: "pr-a", Prices: "west-mercy", Expect: ExpectAnswer, Docs: []string{"wm.json"},
		Section: "MRI of brain (no contrast)", MustContain: []string{"$250"}}
	ask := Item{ID: "pr-b", Prices: "west-mercy", Expect: ExpectAsk,
		Choices: []string{"Mexiletine hydrochloride 150 milligram capsule", "Mexiletine hydrochloride 150 milligram capsules, 100 capsules per bottle, 1 bottle"}}
	absent := Item{ID: "pr-c", Prices: "west-mercy", Expect: ExpectAbstain, Absent: "no colonoscopy"}
	cases := []struct {
		item  Item
		reply bot.Sent
		pass  bool
	}{
		{answer, priceReply("answer", "Region Health Insurance HMO: $250", "wm.json", "MRI of brain (no contrast)"), true},
		{answer, priceReply("answer", "Region Health Insurance HMO: $250", "wm.json", "Pacemaker"), false},
		{answer, priceReply("answer", "Region Health Insurance HMO: $250", "billing.md", "MRI of brain (no contrast)"), false},
		{answer, priceReply("answer", "Platform Health Insurance PPO: $400", "wm.json", "MRI of brain (no contrast)"), false},
		{answer, priceReply("abstain", "I'm not sure", "", ""), false},
		{ask, priceReply("answer", "Which one do you mean?", "", "", "Mexiletine hydrochloride 150 milligram capsule",
			"Mexiletine hydrochloride 150 milligram capsules, 100 capsules per bot…"), true},
		{ask, priceReply("answer", "Which one do you mean? From $4", "", "", "Mexiletine hydrochloride 150 milligram capsule",
			"Mexiletine hydrochloride 150 milligram capsules, 100 capsules per bot…"), false},
		{ask, priceReply("answer", "Which one do you mean?", "", "", "Mexiletine hydrochloride 150 milligram capsule", "Menu"), false},
		{ask, priceReply("answer", "Mexiletine: $4", "wm.json", "Mexiletine hydrochloride 150 milligram capsule", "A", "B"), false},
		{absent, priceReply("abstain", "I'm not sure about that.", "", "", "Talk to a person"), true},
		{absent, priceReply("abstain", "A visit costs $110.", "", ""), false},
		{absent, priceReply("answer", "Our price list has no colonoscopy.", "", ""), false},
	}
	for i, c := range cases {
		o := judge(c.item, []bot.Sent{c.reply}, "", nil)
		require.Equal(t, c.pass, o.Pass, "case %d: %s", i, o.Why)
		if !c.pass {
			require.NotEmpty(t, o.Why, "case %d", i)
		}
	}
}

// TestPriceItemsParse: the price questions are well-formed, every kind
// and both lists are present, and they never reach the knowledge model's
// fitting.
func TestPriceItemsParse(t *testing.T) {
	items, err := PriceItems()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(items), 150)
	kinds, lists := map[string]int{}, map[string]int{}
	for _, it := range items {
		kinds[it.Kind]++
		lists[it.Prices]++
	}
	for _, k := range []string{"cash", "plan", "code", "ambiguous", "absent"} {
		require.Positive(t, kinds[k], k)
	}
	require.Positive(t, lists["west-mercy"])
	require.Positive(t, lists["generated"])
	own, err := OwnItems()
	require.NoError(t, err)
	for _, it := range own {
		require.Empty(t, it.Prices, it.ID)
	}
}
