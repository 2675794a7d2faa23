package survey_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/dialogs/survey"
)

func TestBundledSurvey(t *testing.T) {
	t.Parallel()
	q := survey.Default()
	require.Equal(t, "urn:tend:questionnaire:post-visit", q.Canonical())
	require.Equal(t, "recommend", q.ScoreItem)
	require.Len(t, q.Item, 6)
	for _, it := range q.Item {
		require.NotEmpty(t, it.Text.In("es"), it.LinkID)
		require.NotEqual(t, it.Text.In("en"), it.Text.In("es"), "%s is translated", it.LinkID)
	}
}

// TestBadSurveyFiles: each broken definition is refused at load, with the
// item named.
func TestBadSurveyFiles(t *testing.T) {
	t.Parallel()
	head := "id: s\nitem:\n"
	scale := "  - {linkId: nps, type: integer, minValue: 0, maxValue: 10, text: 'Score?'}\n"
	for name, tc := range map[string]struct{ yaml, want string }{
		"dangling enableWhen": {head + scale +
			"  - {linkId: why, type: string, text: 'Why?', enableWhen: [{question: npss, operator: '<=', answerInteger: 6}]}\n",
			`item[1] "why": enableWhen[0]: question "npss" is not an item of this survey`},
		"later question": {head +
			"  - {linkId: why, type: string, text: 'Why?', enableWhen: [{question: nps, operator: '<=', answerInteger: 6}]}\n" + scale,
			`item[0] "why": enableWhen[0]: question "nps" must come before this item`},
		"duplicate linkIds": {head + scale + scale, `item[1] "nps": duplicate linkId (also item[0])`},
		"empty choice list": {head + "  - {linkId: pick, type: choice, text: Pick one, answerOption: []}\n",
			`item[0] "pick": a choice item needs answerOption (the list is empty)`},
		"wrong answer type": {head + scale +
			"  - {linkId: why, type: string, text: 'Why?', enableWhen: [{question: nps, operator: '=', answerBoolean: true}]}\n",
			`item[1] "why": enableWhen[0]: needs exactly one answer of the integer type of question "nps"`},
		"no range":     {head + "  - {linkId: n, type: integer, text: 'N?'}\n", `item[0] "n": an integer item needs minValue and maxValue`},
		"unknown type": {head + "  - {linkId: d, type: date, text: 'When?'}\n", `item[0] "d": type "date" must be one of`},
		"unknown key":  {head + "  - {linkId: d, type: string, txt: 'When?'}\n", "field txt not found"},
		"empty":        {"", "the file is empty"},
		"json":         {`{"id": "j", "item": [{"linkId": "a", "type": "choice", "text": "A?", "answerOption": []}]}`, `item[0] "a": a choice item needs answerOption`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := survey.Parse([]byte(tc.yaml), "test.yaml")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoadJSONFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"resourceType": "Questionnaire", "id": "csat",
		"item": [{"linkId": "ok", "type": "boolean", "required": true, "text": {"en": "Happy?", "es": "¿Contento?"}},
		         {"linkId": "why", "type": "string", "text": "Why not?",
		          "enableWhen": [{"question": "ok", "operator": "=", "answerBoolean": false}]}]}`), 0o600))
	q, err := survey.LoadFile(path)
	require.NoError(t, err)
	require.Equal(t, "¿Contento?", q.Item[0].Text.In("es"))
	yes, no := true, false
	require.Equal(t, -1, q.Next(1, map[string]survey.Answer{"ok": {ValueBoolean: &yes}}))
	require.Equal(t, 1, q.Next(1, map[string]survey.Answer{"ok": {ValueBoolean: &no}}))
}

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	q := survey.Default()
	nps, explained, comment := q.Item[0], q.Item[2], q.Item[5]
	for text, want := range map[string]int{"8": 8, " 10 ": 10, "8/10": 8, "8 out of 10": 8, "un 7 de 10": 7, "0": 0} {
		a, ok := survey.ParseAnswer(nps, text, "en")
		require.True(t, ok, text)
		require.Equal(t, want, *a.ValueInteger, text)
	}
	for _, text := range []string{"11", "-1", "eight", "8 9", "", "100"} {
		_, ok := survey.ParseAnswer(nps, text, "en")
		require.False(t, ok, text)
	}
	for text, want := range map[string]string{"Always": "always", "siempre": "always", "2": "sometimes",
		"usually, yes": "usually", "A VECES": "sometimes"} {
		a, ok := survey.ParseAnswer(explained, text, "en")
		require.True(t, ok, text)
		require.Equal(t, want, a.ValueCoding.Code, text)
	}
	_, ok := survey.ParseAnswer(explained, "never or always", "en")
	require.False(t, ok, "two options named: ask again")
	long := string(make([]rune, 5000))
	a, ok := survey.ParseAnswer(comment, "x"+long, "en")
	require.True(t, ok)
	require.Len(t, []rune(*a.ValueString), survey.MaxFreeText)
}
