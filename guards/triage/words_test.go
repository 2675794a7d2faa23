package triage

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/textutil"
)

func TestTokenize(t *testing.T) {
	t.Parallel()
	toks := tokenize("I can't breathe. ¿Tengo COVID? ok")
	var texts []string
	var clauses []int
	var questions []bool
	for _, tk := range toks {
		texts = append(texts, tk.text)
		clauses = append(clauses, tk.clause)
		questions = append(questions, tk.question)
	}
	require.Equal(t, []string{"i", "cant", "breathe", "tengo", "covid", "ok"}, texts)
	require.Equal(t, []int{0, 0, 0, 1, 1, 2}, clauses)
	require.Equal(t, []bool{false, false, false, true, true, false}, questions)
	require.Empty(t, tokenize(" ... ,, "))
}

func TestPhraseWords(t *testing.T) {
	t.Parallel()
	require.Equal(t, []word{{"x", false}, {"ray", false}}, phraseWords("X-ray"))
	require.Equal(t, []word{{"hinch", true}}, phraseWords("hinch*"))
	require.Equal(t, []word{{"corazon", false}}, phraseWords("corazón"))
	require.NoError(t, checkPhrase("can't breathe"))
	require.Error(t, checkPhrase("ab*"))
	require.Error(t, checkPhrase("a*b"))
	require.Error(t, checkPhrase("*"))
}

func TestOSA(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"chest", "chest", 0}, {"chset", "chest", 1}, {"chst", "chest", 1}, {"chesst", "chest", 1},
		{"chess", "chest", 1}, {"breathing", "brething", 1}, {"", "abc", 3}, {"niño", "nino", 1},
	} {
		require.Equal(t, c.want, textutil.EditDistance(c.a, c.b, -1), "%s/%s", c.a, c.b)
		require.Equal(t, c.want, textutil.EditDistance(c.b, c.a, -1), "%s/%s", c.b, c.a)
	}
}

func TestVocabLookup(t *testing.T) {
	t.Parallel()
	v := newVocab(Typos{SwapsFrom: 4, OneEditFrom: 5, TwoEditsFrom: 9, Never: []string{"cooking"}})
	chest := v.add(word{text: "chest"}, true)
	choking := v.add(word{text: "choking"}, true)
	pain := v.add(word{text: "pain"}, true)
	unconscious := v.add(word{text: "unconscious"}, true)
	swell := v.add(word{text: "swell", prefix: true}, true)
	for tok, want := range map[string][]int{
		"chest":       {chest},
		"chset":       {chest},       // swapped letters
		"chst":        {chest},       // a letter lost, one shorter than one_edit_from
		"cheste":      {chest},       // a letter added
		"pian":        {pain},        // a swap in a short word
		"pane":        nil,           // short words take no other typos
		"pains":       nil,           // ... nor an added letter
		"unconsious":  {unconscious}, // long words take two typos
		"unconscius":  {unconscious},
		"unkonshus":   nil, // but not more
		"nconscious":  nil, // typos keep the first letter
		"xhest":       nil,
		"swelling":    {swell}, // stems
		"swel":        nil,     // shorter than the stem
		"swollen":     nil,     // stems take no typos
		"cooking":     nil,     // listed as never a typo
		"choking":     {choking},
		"chokng":      {choking},
		"12345":       nil, // numbers are never typos
		"breathingly": nil,
		"":            nil,
		"ch":          nil,
	} {
		require.ElementsMatch(t, want, v.lookup(tok), "%q", tok)
	}
}
