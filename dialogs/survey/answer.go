package survey

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tend-health/tend/internal/textutil"
)

// Answer is one QuestionnaireResponse answer; exactly one value is set.
type Answer struct {
	ValueInteger *int    `json:"valueInteger,omitempty"`
	ValueBoolean *bool   `json:"valueBoolean,omitempty"`
	ValueCoding  *Coding `json:"valueCoding,omitempty"`
	ValueString  *string `json:"valueString,omitempty"`
}

// ResponseItem is one answered item of a QuestionnaireResponse.
type ResponseItem struct {
	LinkID string   `json:"linkId"`
	Text   string   `json:"text,omitempty"`
	Answer []Answer `json:"answer"`
}

// MaxFreeText caps a free-text answer (runes); longer text is cut, not refused.
const MaxFreeText = 2000

// Parse words: yes/no in English and Spanish.
var (
	yesWords = []string{"yes", "y", "yeah", "yep", "si", "s", "claro", "correcto"}
	noWords  = []string{"no", "n", "nope", "nah"}
)

// ParseAnswer reads a typed answer to item (lang picks option names to
// match); ok is false when the text is not an answer, so the patient is
// asked again or the text goes to other dialogs.
func ParseAnswer(it Item, text, lang string) (Answer, bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Answer{}, false
	}
	norm := textutil.Normalize(text)
	switch it.Type {
	case TypeInteger:
		if strings.HasPrefix(text, "-") || strings.HasPrefix(text, "−") {
			return Answer{}, false // a negative number is out of every scale
		}
		n, ok := parseScale(norm)
		if !ok || it.MinValue == nil || it.MaxValue == nil || n < *it.MinValue || n > *it.MaxValue {
			return Answer{}, false
		}
		return Answer{ValueInteger: &n}, true
	case TypeBoolean:
		var b bool
		switch {
		case contains(yesWords, norm):
			b = true
		case contains(noWords, norm):
		default:
			return Answer{}, false
		}
		return Answer{ValueBoolean: &b}, true
	case TypeChoice:
		return parseChoice(it, norm, lang)
	case TypeString:
		s := strings.ToValidUTF8(text, "")
		if utf8.RuneCountInString(s) > MaxFreeText {
			s = string([]rune(s)[:MaxFreeText])
		}
		return Answer{ValueString: &s}, true
	}
	return Answer{}, false
}

// parseScale reads "8", "8/10", "8 out of 10", "un 8", "I'd say 8".
func parseScale(norm string) (int, bool) {
	words := strings.Fields(norm)
	if len(words) == 0 || len(words) > 6 {
		return 0, false
	}
	found := -1
	for i, w := range words {
		n, err := strconv.Atoi(w)
		if err != nil || len(w) > 2 {
			continue
		}
		if found >= 0 {
			// "8 out of 10" / "8 de 10": the second number is the scale.
			if i >= 2 && (words[i-1] == "of" || words[i-1] == "de" || words[i-1] == "sobre") && n == 10 {
				continue
			}
			if i == found+1 && n == 10 { // "8 10" from "8/10"
				continue
			}
			return 0, false
		}
		found = i
	}
	if found < 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(words[found])
	return n, true
}

// parseChoice matches an option by its code, its name in any language, or
// its number in the list ("2").
func parseChoice(it Item, norm, lang string) (Answer, bool) {
	if n, err := strconv.Atoi(norm); err == nil && n >= 1 && n <= len(it.AnswerOption) {
		c := it.AnswerOption[n-1].ValueCoding
		return Answer{ValueCoding: &Coding{Code: c.Code, Display: Text{lang: c.Display.In(lang)}}}, true
	}
	// The whole text names an option; else exactly one option is named in
	// it ("always, she was great").
	var within []Coding
	for _, o := range it.AnswerOption {
		c := o.ValueCoding
		names := []string{c.Code}
		for _, d := range c.Display {
			names = append(names, d)
		}
		named := false
		for _, name := range names {
			n := textutil.Normalize(name)
			if n == norm {
				return Answer{ValueCoding: &Coding{Code: c.Code, Display: Text{lang: c.Display.In(lang)}}}, true
			}
			named = named || textutil.HasPhrase(norm, n)
		}
		if named {
			within = append(within, c)
		}
	}
	if len(within) == 1 {
		c := within[0]
		return Answer{ValueCoding: &Coding{Code: c.Code, Display: Text{lang: c.Display.In(lang)}}}, true
	}
	return Answer{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// enabled evaluates an item's skip logic against the answers so far.
func enabled(it Item, answers map[string]Answer) bool {
	if len(it.EnableWhen) == 0 {
		return true
	}
	anyMode := it.EnableBehavior == "any"
	for _, ew := range it.EnableWhen {
		ok := holds(ew, answers)
		if anyMode && ok {
			return true
		}
		if !anyMode && !ok {
			return false
		}
	}
	return !anyMode
}

func holds(ew EnableWhen, answers map[string]Answer) bool {
	a, has := answers[ew.Question]
	if ew.Operator == "exists" {
		return ew.AnswerBoolean != nil && has == *ew.AnswerBoolean
	}
	if !has {
		return false
	}
	var cmp int
	switch {
	case ew.AnswerInteger != nil && a.ValueInteger != nil:
		cmp = *a.ValueInteger - *ew.AnswerInteger
	case ew.AnswerBoolean != nil && a.ValueBoolean != nil:
		cmp = boolCmp(*a.ValueBoolean == *ew.AnswerBoolean)
	case ew.AnswerCoding != nil && a.ValueCoding != nil:
		cmp = boolCmp(a.ValueCoding.Code == ew.AnswerCoding.Code)
	case ew.AnswerString != nil && a.ValueString != nil:
		cmp = strings.Compare(*a.ValueString, *ew.AnswerString)
	default:
		return false
	}
	switch ew.Operator {
	case "=":
		return cmp == 0
	case "!=":
		return cmp != 0
	case ">":
		return cmp > 0
	case "<":
		return cmp < 0
	case ">=":
		return cmp >= 0
	case "<=":
		return cmp <= 0
	}
	return false
}

func boolCmp(equal bool) int {
	if equal {
		return 0
	}
	return 1
}

// Next is the index of the first enabled, answerable item at or after
// from; -1 when the survey is done.
func (q *Questionnaire) Next(from int, answers map[string]Answer) int {
	for i := max(from, 0); i < len(q.Item); i++ {
		it := q.Item[i]
		if it.Type != TypeDisplay && enabled(it, answers) {
			return i
		}
	}
	return -1
}
