package survey_test

import (
	"testing"
	"unicode/utf8"

	"github.com/tend-health/tend/dialogs/survey"
)

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{"8", "8/10", "un 7 de 10", "Always", "casi siempre", "2", "yes", "sí", "\xff", "٨", "10 10 10"} {
		f.Add(s)
	}
	q := survey.Default()
	f.Fuzz(func(t *testing.T, text string) {
		for _, it := range q.Item {
			a, ok := survey.ParseAnswer(it, text, "es")
			if !ok {
				continue
			}
			switch it.Type {
			case survey.TypeInteger:
				if *a.ValueInteger < *it.MinValue || *a.ValueInteger > *it.MaxValue {
					t.Fatalf("%q: %d out of range", text, *a.ValueInteger)
				}
			case survey.TypeString:
				if !utf8.ValidString(*a.ValueString) || utf8.RuneCountInString(*a.ValueString) > survey.MaxFreeText {
					t.Fatalf("%q: free text not bounded valid UTF-8", text)
				}
			}
		}
	})
}

func FuzzParseSurvey(f *testing.F) {
	f.Add(survey.DefaultYAML())
	f.Add([]byte(`{"id": "j", "item": [{"linkId": "a", "type": "boolean", "text": "A?"}]}`))
	f.Add([]byte("id: s\nitem: [{linkId: a, type: integer, minValue: 0, maxValue: 10, text: x}, {linkId: b, type: string, text: y, enableWhen: [{question: a, operator: '<', answerInteger: 3}]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := survey.Parse(data, "fuzz")
		if err != nil {
			return
		}
		// A valid survey can always be walked from start to end.
		if q.Next(0, nil) < 0 {
			t.Fatal("a valid survey has a first question")
		}
		for i := range q.Item {
			_ = q.Next(i, map[string]survey.Answer{})
		}
	})
}
