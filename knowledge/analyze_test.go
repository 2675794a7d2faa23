package knowledge

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func terms(toks []Token) string {
	s := make([]string, len(toks))
	for i, t := range toks {
		s[i] = t.Term
	}
	return strings.Join(s, " ")
}

func TestAnalyzeFoldsSynonymsAndStems(t *testing.T) {
	t.Parallel()
	a := DefaultAnalyzer()
	cases := []struct{ text, lang, want string }{
		{"How much is a flu shot?", "en", "cost flu vaccin"},
		{"What's the PRICE of an X-ray without insurance?", "en", "cost xray selfpay"},
		{"The fee is $1,650.", "en", "cost figprice cost 1650"}, // the amount and the word
		{"Call (555) 014-2200 from 8:00 a.m. to 5 p.m.", "en", "hour figtime phone figphone phone 555 014 2200 8 00 5 0142200"},
		{"¿Cuánto cuesta la vacuna de la gripe?", "es", "cost vaccin flu"},
		{"don't", "en", ""},
		{"walk-in flu shots", "en", "walk flu vaccin walkin"},
		{"Prior authorization for my MRI", "en", "priorauth mri"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, terms(a.Analyze(c.text, c.lang)), c.text)
	}
}

func TestExpandAddsBroaderTermsAtHalfWeight(t *testing.T) {
	t.Parallel()
	a := DefaultAnalyzer()
	toks := a.Expand(a.Analyze("adderall refill", "en"))
	require.Equal(t, "adderal refil stimul adhd control substanc", terms(toks))
	require.Equal(t, 0.5, toks[len(toks)-1].Weight)
}

func TestTopicKeepsWhatAQuestionIsAbout(t *testing.T) {
	t.Parallel()
	a := DefaultAnalyzer()
	require.Equal(t, "video visits", a.Topic("Do you offer video visits?", "en"))
	require.Equal(t, "stop blood thinner colonoscopy", a.Topic("should I stop my blood thinner before the colonoscopy", "en"))
	require.Equal(t, "cuanto cuesta vacuna gripe", a.Topic("¿Cuánto cuesta la vacuna de la gripe?", "es"))
}

func TestShorthandIsSpelledOut(t *testing.T) {
	t.Parallel()
	a := DefaultAnalyzer()
	require.Equal(t, a.Terms("first visit cost without insurance", "en"), a.Terms("first visit cost w/o insurance", "en"))
	require.Equal(t, a.Terms("w/ medicare", "en"), a.Terms("with medicare", "en"))
}
