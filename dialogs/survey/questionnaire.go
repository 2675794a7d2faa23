package survey

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/strictyaml"
)

// Text is a sentence per language; a file may give a plain string
// (English) or a map of languages: `text: {en: "...", es: "..."}`. It is
// the schedule file's type, so both files read alike.
type Text = scheduling.Text

// Item types, as FHIR Questionnaire names them.
const (
	TypeInteger = "integer"
	TypeChoice  = "choice"
	TypeBoolean = "boolean"
	TypeString  = "string"
	TypeDisplay = "display"
)

// Coding is a choice's code and what it says.
type Coding struct {
	Code    string `yaml:"code" json:"code"`
	Display Text   `yaml:"display" json:"display,omitempty"`
}

// Option is one answer a choice item offers; Score ranks it for summaries
// (Never 1 ... Always 4).
type Option struct {
	ValueCoding Coding `yaml:"valueCoding"`
	Score       *int   `yaml:"score"`
}

// EnableWhen is one skip-logic condition on an earlier answer.
type EnableWhen struct {
	Question      string  `yaml:"question"`
	Operator      string  `yaml:"operator"`
	AnswerInteger *int    `yaml:"answerInteger"`
	AnswerBoolean *bool   `yaml:"answerBoolean"`
	AnswerCoding  *Coding `yaml:"answerCoding"`
	AnswerString  *string `yaml:"answerString"`
}

// Item is one question.
type Item struct {
	LinkID         string       `yaml:"linkId"`
	Text           Text         `yaml:"text"`
	Type           string       `yaml:"type"`
	Required       bool         `yaml:"required"`
	MinValue       *int         `yaml:"minValue"`
	MaxValue       *int         `yaml:"maxValue"`
	AnswerOption   []Option     `yaml:"answerOption"`
	EnableWhen     []EnableWhen `yaml:"enableWhen"`
	EnableBehavior string       `yaml:"enableBehavior"`
}

// Questionnaire is a survey definition in the shape of FHIR's Questionnaire,
// with Tend's few additions: the invitation and thanks texts, the item that
// holds the 0-10 recommendation score, and the words that make a free-text
// answer a complaint for staff.
type Questionnaire struct {
	ResourceType   string              `yaml:"resourceType"`
	ID             string              `yaml:"id"`
	URL            string              `yaml:"url"`
	Title          Text                `yaml:"title"`
	Status         string              `yaml:"status"`
	Intro          Text                `yaml:"intro"`
	Thanks         Text                `yaml:"thanks"`
	ScoreItem      string              `yaml:"scoreItem"`
	ComplaintWords map[string][]string `yaml:"complaintWords"`
	Item           []Item              `yaml:"item"`
}

// Canonical is the questionnaire's reference in responses.
func (q *Questionnaire) Canonical() string {
	if q.URL != "" {
		return q.URL
	}
	return "urn:tend:questionnaire:" + q.ID
}

// Index returns the position of linkID (-1 when absent).
func (q *Questionnaire) Index(linkID string) int {
	return slices.IndexFunc(q.Item, func(it Item) bool { return it.LinkID == linkID })
}

// LoadFile reads a survey definition (.yaml, .yml or .json).
func LoadFile(path string) (*Questionnaire, error) { return strictyaml.LoadFile(path, Parse) }

// Parse reads and validates a definition; the error lists every problem,
// each naming the item. JSON is accepted too.
func Parse(data []byte, source string) (*Questionnaire, error) {
	var q Questionnaire
	if err := strictyaml.Decode(data, &q); err != nil {
		return nil, fmt.Errorf("survey %s: %w", source, err)
	}
	if errs := q.validate(); len(errs) > 0 {
		return nil, &Error{Source: source, Problems: errs}
	}
	return &q, nil
}

// Error lists a definition's problems.
type Error struct {
	Source   string
	Problems []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("survey %s: %d problem(s):\n  %s", e.Source, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

var (
	idRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	types    = []string{TypeInteger, TypeChoice, TypeBoolean, TypeString, TypeDisplay}
	ops      = []string{"exists", "=", "!=", ">", "<", ">=", "<="}
	maxScale = 11 // 0-10: buttons for each value
)

func (q *Questionnaire) validate() []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if q.ResourceType != "" && q.ResourceType != "Questionnaire" {
		bad("resourceType: %q must be Questionnaire", q.ResourceType)
	}
	if !idRe.MatchString(q.ID) {
		bad("id: %q must be 1-64 letters, digits, '.', '_' or '-'", q.ID)
	}
	if len(q.Item) == 0 {
		bad("item: a survey needs at least one item")
	}
	if len(q.Item) > 50 {
		bad("item: %d items; at most 50 fit a chat", len(q.Item))
	}
	seen := map[string]int{}
	for i, it := range q.Item {
		where := fmt.Sprintf("item[%d] %q", i, it.LinkID)
		if !idRe.MatchString(it.LinkID) {
			bad("%s: linkId must be 1-64 letters, digits, '.', '_' or '-'", where)
		} else if prev, dup := seen[it.LinkID]; dup {
			bad("%s: duplicate linkId (also item[%d])", where, prev)
		}
		seen[it.LinkID] = i
		errs = append(errs, q.validateItem(i, where)...)
	}
	if len(q.Item) > 0 && len(errs) == 0 && q.Next(0, nil) < 0 {
		bad("item: at least one item must be a question asked without conditions")
	}
	if q.ScoreItem != "" {
		if i := q.Index(q.ScoreItem); i < 0 || q.Item[i].Type != TypeInteger {
			bad("scoreItem: %q must be the linkId of an integer item", q.ScoreItem)
		}
	}
	return errs
}

func (q *Questionnaire) validateItem(i int, where string) []string {
	it := q.Item[i]
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, where+": "+fmt.Sprintf(format, args...)) }
	if !slices.Contains(types, it.Type) {
		bad("type %q must be one of %s", it.Type, strings.Join(types, ", "))
	}
	if it.Text.In("en") == "" {
		bad("text is missing")
	}
	switch it.Type {
	case TypeInteger:
		if it.MinValue == nil || it.MaxValue == nil {
			bad("an integer item needs minValue and maxValue")
		} else if *it.MaxValue < *it.MinValue || *it.MaxValue-*it.MinValue >= maxScale {
			bad("minValue %d to maxValue %d must be a range of at most %d values", *it.MinValue, *it.MaxValue, maxScale)
		}
	case TypeChoice:
		if len(it.AnswerOption) == 0 {
			bad("a choice item needs answerOption (the list is empty)")
		}
		if len(it.AnswerOption) > 10 {
			bad("%d answer options; at most 10 fit as buttons", len(it.AnswerOption))
		}
		codes := map[string]bool{}
		for j, o := range it.AnswerOption {
			switch c := o.ValueCoding.Code; {
			case c == "":
				bad("answerOption[%d]: valueCoding.code is missing", j)
			case codes[c]:
				bad("answerOption[%d]: duplicate code %q", j, c)
			}
			codes[o.ValueCoding.Code] = true
			if o.ValueCoding.Display.In("en") == "" {
				bad("answerOption[%d]: valueCoding.display is missing", j)
			}
		}
	}
	if it.Type == TypeDisplay && it.Required {
		bad("a display item cannot be required")
	}
	if b := it.EnableBehavior; b != "" && b != "all" && b != "any" {
		bad("enableBehavior %q must be all or any", b)
	}
	for j, ew := range it.EnableWhen {
		if msg := q.checkCondition(i, ew); msg != "" {
			bad("enableWhen[%d]: %s", j, msg)
		}
	}
	return errs
}

// checkCondition validates one enableWhen of item i: it must point to an
// earlier answerable item, with an answer of that item's type.
func (q *Questionnaire) checkCondition(i int, ew EnableWhen) string {
	j := q.Index(ew.Question)
	switch {
	case ew.Question == "":
		return "question is missing"
	case j < 0:
		return fmt.Sprintf("question %q is not an item of this survey", ew.Question)
	case j >= i:
		return fmt.Sprintf("question %q must come before this item", ew.Question)
	case q.Item[j].Type == TypeDisplay:
		return fmt.Sprintf("question %q is a display item and has no answer", ew.Question)
	case !slices.Contains(ops, ew.Operator):
		return fmt.Sprintf("operator %q must be one of %s", ew.Operator, strings.Join(ops, " "))
	case ew.Operator == "exists":
		if ew.AnswerBoolean == nil {
			return "operator exists needs answerBoolean"
		}
		return ""
	}
	target := q.Item[j]
	var given []string
	if ew.AnswerInteger != nil {
		given = append(given, TypeInteger)
	}
	if ew.AnswerBoolean != nil {
		given = append(given, TypeBoolean)
	}
	if ew.AnswerCoding != nil {
		given = append(given, TypeChoice)
	}
	if ew.AnswerString != nil {
		given = append(given, TypeString)
	}
	if len(given) != 1 || given[0] != target.Type {
		return fmt.Sprintf("needs exactly one answer of the %s type of question %q", target.Type, ew.Question)
	}
	if ew.AnswerCoding != nil && !slices.ContainsFunc(target.AnswerOption, func(o Option) bool {
		return o.ValueCoding.Code == ew.AnswerCoding.Code
	}) {
		return fmt.Sprintf("code %q is not an option of question %q", ew.AnswerCoding.Code, ew.Question)
	}
	if ew.Operator != "=" && ew.Operator != "!=" && target.Type != TypeInteger {
		return fmt.Sprintf("operator %q compares numbers; question %q is %s", ew.Operator, ew.Question, target.Type)
	}
	return ""
}
