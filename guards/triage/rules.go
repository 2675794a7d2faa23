package triage

import (
	"bytes"
	_ "embed" // rules.yaml
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The rules file is data a clinic can read and review: which words make a
// message an emergency or a request for medical advice, and which words
// around them (negation, past, "how much is ...") take that back. Its format
// is documented in docs/triage.md.

//go:embed rules.yaml
var builtinRules []byte

// EnvFile names the environment variable with the path of a clinic's own
// rules file; it replaces the built-in rules as a whole.
const EnvFile = "TEND_TRIAGE_FILE"

// Kinds of category.
const (
	KindEmergency = "emergency" // call 911/988; the conversation is flagged for staff
	KindAdvice    = "advice"    // diagnosis, dosing or treatment: decline and offer a clinician
)

// Replies a category can give; each is the catalog message "triage.<reply>".
const (
	ReplyEmergency = "emergency"
	ReplyCrisis    = "crisis"
	ReplyAdvice    = "advice"
)

// Roles of context cues.
const (
	RoleNegates = "negates" // "no chest pain": the mention is cancelled
	RoleDoubts  = "doubts"  // past, hypothetical or topic: cancelled unless an affirms cue is near
	RoleAffirms = "affirms" // "now", "still": the mention is current after all
)

// Gap kinds: what may stand between a cue and the words it qualifies.
const (
	GapFiller = "filler" // only filler words ("I don't have any chest pain")
	GapAny    = "any"    // any words except breaks ("and", "but")
	GapClause = "clause" // any words at all, within the clause
	// GapSentence allows any words within the sentence, across commas: a
	// frame such as "the intake form asks if I ever ..." or "hace 6 anos".
	GapSentence = "sentence"
)

// replyKinds says which replies each kind of category may use.
var replyKinds = map[string][]string{
	KindEmergency: {ReplyEmergency, ReplyCrisis},
	KindAdvice:    {ReplyAdvice},
}

// File is the rules file as written.
type File struct {
	Version    int                 `yaml:"version"`
	Languages  map[string]Language `yaml:"languages"`
	Settings   Settings            `yaml:"settings"`
	Lexicon    map[string]Phrases  `yaml:"lexicon"`
	Context    Context             `yaml:"context"`
	Categories []Category          `yaml:"categories"`
}

// Language describes one language the rules cover.
type Language struct {
	// Markers are common words of the language, used to answer in the
	// language the patient wrote in.
	Markers []string `yaml:"markers"`
}

// Phrases are word sequences per language code.
type Phrases map[string][]string

// Settings tune matching as a whole.
type Settings struct {
	// Window is the default number of words a rule's parts must fit in.
	Window int   `yaml:"window"`
	Typos  Typos `yaml:"typos"`
}

// Typos say how far a word may be misspelled and still match.
type Typos struct {
	// SwapsFrom: words this long match with two neighbouring letters swapped ("pian").
	SwapsFrom    int `yaml:"swaps_from"`
	OneEditFrom  int `yaml:"one_edit_from"`
	TwoEditsFrom int `yaml:"two_edits_from"`
	// Never lists real words that look like a typo of a rule word
	// ("cooking" is not "choking").
	Never []string `yaml:"never"`
}

// Context holds the cues that change what a red-flag mention means.
type Context struct {
	Filler Phrases `yaml:"filler"`
	Breaks Phrases `yaml:"breaks"`
	Cues   []Cue   `yaml:"cues"`
}

// Cue is a set of context words and where they act.
type Cue struct {
	Name    string  `yaml:"name"`
	Role    string  `yaml:"role"`
	Before  int     `yaml:"before"`
	After   int     `yaml:"after"`
	Gap     string  `yaml:"gap"`
	Phrases Phrases `yaml:"phrases"`
	// TakenBackBy names the affirming cues that take a doubt back (role
	// doubts only); empty: every affirming cue of the category. "how do
	// I know if someone is having a stroke" is a question, whatever
	// "is having" says; "... right now" is not.
	TakenBackBy []string `yaml:"taken_back_by"`
}

// Category is one kind of red flag or advice request.
type Category struct {
	ID          string   `yaml:"id"`
	Kind        string   `yaml:"kind"`
	Reply       string   `yaml:"reply"`
	Description string   `yaml:"description"`
	Context     []string `yaml:"context"`
	Unless      *Unless  `yaml:"unless"`
	Rules       []Rule   `yaml:"rules"`
}

// Unless lists words that cancel the category when they stand within
// Within words of a match (0: anywhere in the message).
type Unless struct {
	Within  int     `yaml:"within"`
	Phrases Phrases `yaml:"phrases"`
}

// Rule matches when every group has a phrase within Within words.
type Rule struct {
	All    []Group `yaml:"all"`
	Within int     `yaml:"within"`
	// Ordered parts must appear in the order written.
	Ordered bool `yaml:"ordered"`
	// Question rules match only in a clause ending in "?" (or opened by "¿").
	Question bool `yaml:"question"`
	// Unless cancels this rule alone (the category's unless applies too).
	Unless *Unless `yaml:"unless"`
}

// Group is one part of a rule: a lexicon reference ("@chest") or a phrase,
// or a list of them.
type Group []string

// UnmarshalYAML accepts a single string or a list.
func (g *Group) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*g = Group{n.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*g = s
		return nil
	}
	return fmt.Errorf("line %d: a rule part must be a phrase, an @lexicon name or a list of them", n.Line)
}

// Limits that keep a file sane; a rule wider than this is almost certainly a typo.
const (
	maxWindow = 30
	maxGroups = 6
)

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Parse decodes and validates a rules file; name is used in errors.
func Parse(name string, data []byte) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("triage rules %s: %w", name, err)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("triage rules %s: %w", name, err)
	}
	return &f, nil
}

// LoadFile reads and validates a clinic's rules file.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("triage rules: %w", err)
	}
	return Parse(path, data)
}

// Builtin returns the rules shipped with Tend (a test keeps them valid).
func Builtin() (*File, error) { return Parse("rules.yaml (built in)", builtinRules) }

// BuiltinYAML is the built-in rules file, for a clinic to copy and edit.
func BuiltinYAML() []byte { return bytes.Clone(builtinRules) }

// validate reports every problem at once, each with where it is, so a clinic
// editing the file can fix them in one pass.
func (f *File) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.Version != 1 {
		add("version: must be 1, got %d", f.Version)
	}
	if len(f.Languages) == 0 {
		add("languages: at least one language is needed")
	}
	for lang, l := range f.Languages {
		if !idPattern.MatchString(lang) {
			add("languages: %q is not a language code such as en or es", lang)
		}
		if len(l.Markers) == 0 {
			add("languages.%s.markers: list some common words of the language", lang)
		}
	}
	s := f.Settings
	if s.Window < 1 || s.Window > maxWindow {
		add("settings.window: must be between 1 and %d, got %d", maxWindow, s.Window)
	}
	if s.Typos.SwapsFrom < 0 || s.Typos.OneEditFrom < 0 || s.Typos.TwoEditsFrom < 0 ||
		(s.Typos.OneEditFrom > 0 && s.Typos.TwoEditsFrom > 0 && s.Typos.TwoEditsFrom < s.Typos.OneEditFrom) {
		add("settings.typos: swaps_from, one_edit_from and two_edits_from must be positive (0 turns them off) and two_edits_from >= one_edit_from")
	}
	for name, p := range f.Lexicon {
		if !idPattern.MatchString(name) {
			add("lexicon.%s: names are lower case letters, digits and _", name)
		}
		errs = append(errs, f.checkPhrases("lexicon."+name, p, true)...)
	}
	errs = append(errs, f.checkPhrases("context.filler", f.Context.Filler, false)...)
	errs = append(errs, f.checkPhrases("context.breaks", f.Context.Breaks, false)...)
	cues := map[string]bool{}
	for i, c := range f.Context.Cues {
		where := fmt.Sprintf("context.cues[%d] (%s)", i, c.Name)
		if !idPattern.MatchString(c.Name) {
			add("%s: name must be lower case letters, digits and _", where)
		}
		if cues[c.Name] {
			add("%s: name used twice", where)
		}
		cues[c.Name] = true
		if c.Role != RoleNegates && c.Role != RoleDoubts && c.Role != RoleAffirms {
			add("%s: role must be %s, %s or %s", where, RoleNegates, RoleDoubts, RoleAffirms)
		}
		if c.Gap != GapFiller && c.Gap != GapAny && c.Gap != GapClause && c.Gap != GapSentence {
			add("%s: gap must be %s, %s, %s or %s", where, GapFiller, GapAny, GapClause, GapSentence)
		}
		if c.Before < 0 || c.After < 0 || c.Before > maxWindow || c.After > maxWindow || c.Before+c.After == 0 {
			add("%s: before/after must be 0..%d and not both 0", where, maxWindow)
		}
		errs = append(errs, f.checkPhrases(where+".phrases", c.Phrases, true)...)
	}
	for i, c := range f.Context.Cues {
		where := fmt.Sprintf("context.cues[%d] (%s)", i, c.Name)
		if len(c.TakenBackBy) > 0 && c.Role != RoleDoubts {
			add("%s: taken_back_by is for cues of role %s", where, RoleDoubts)
		}
		for _, name := range c.TakenBackBy {
			j := slices.IndexFunc(f.Context.Cues, func(o Cue) bool { return o.Name == name })
			if j < 0 || f.Context.Cues[j].Role != RoleAffirms {
				add("%s: taken_back_by %q is not a cue of role %s", where, name, RoleAffirms)
			}
		}
	}
	if len(f.Categories) == 0 {
		add("categories: at least one category is needed")
	}
	ids := map[string]bool{}
	emergencies := 0
	for i, c := range f.Categories {
		where := fmt.Sprintf("categories[%d] (%s)", i, c.ID)
		if !idPattern.MatchString(c.ID) {
			add("%s: id must be lower case letters, digits and _", where)
		}
		if ids[c.ID] {
			add("%s: id used twice", where)
		}
		ids[c.ID] = true
		replies, ok := replyKinds[c.Kind]
		if !ok {
			add("%s: kind must be %s or %s", where, KindEmergency, KindAdvice)
		} else if !slices.Contains(replies, c.Reply) {
			add("%s: reply for kind %s must be one of %s", where, c.Kind, strings.Join(replies, ", "))
		}
		if c.Kind == KindEmergency {
			emergencies++
		}
		for _, name := range c.Context {
			if !cues[name] {
				add("%s: context %q is not a cue in context.cues", where, name)
			}
		}
		errs = append(errs, f.checkUnless(where, c.Unless)...)
		if len(c.Rules) == 0 {
			add("%s: rules: at least one rule is needed", where)
		}
		for j, r := range c.Rules {
			errs = append(errs, f.checkRule(fmt.Sprintf("%s.rules[%d]", where, j), r)...)
		}
	}
	if emergencies == 0 {
		add("categories: at least one category of kind %s is needed", KindEmergency)
	}
	return errors.Join(errs...)
}

func (f *File) checkRule(where string, r Rule) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(where+": "+format, args...)) }
	if len(r.All) == 0 || len(r.All) > maxGroups {
		add("all: needs 1 to %d parts", maxGroups)
	}
	if r.Within < 0 || r.Within > maxWindow {
		add("within: must be 0..%d (0 means settings.window)", maxWindow)
	}
	errs = append(errs, f.checkUnless(where, r.Unless)...)
	if r.Within > 0 && r.Within < len(r.All) {
		add("within: %d words cannot hold %d parts", r.Within, len(r.All))
	}
	for k, g := range r.All {
		if len(g) == 0 {
			add("all[%d]: empty part", k)
		}
		for _, term := range g {
			if name, ok := strings.CutPrefix(term, "@"); ok {
				if _, ok := f.Lexicon[name]; !ok {
					add("all[%d]: unknown lexicon entry %q", k, term)
				}
				continue
			}
			if err := checkPhrase(term); err != nil {
				add("all[%d]: %v", k, err)
			}
		}
	}
	return errs
}

func (f *File) checkUnless(where string, u *Unless) []error {
	if u == nil {
		return nil
	}
	var errs []error
	if u.Within < 0 || u.Within > maxWindow {
		errs = append(errs, fmt.Errorf("%s: unless.within must be 0..%d (0 means anywhere in the message)", where, maxWindow))
	}
	return append(errs, f.checkPhrases(where+".unless.phrases", u.Phrases, true)...)
}

func (f *File) checkPhrases(where string, p Phrases, required bool) []error {
	var errs []error
	if required && len(p) == 0 {
		errs = append(errs, fmt.Errorf("%s: no phrases", where))
	}
	langs := make([]string, 0, len(p))
	for lang := range p {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		if _, ok := f.Languages[lang]; !ok {
			errs = append(errs, fmt.Errorf("%s: language %q is not listed under languages", where, lang))
		}
		for _, ph := range p[lang] {
			if err := checkPhrase(ph); err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: %w", where, lang, err))
			}
		}
	}
	return errs
}

// checkPhrase rejects phrases that would match nothing or everything.
func checkPhrase(ph string) error {
	words := phraseWords(ph)
	if len(words) == 0 {
		return fmt.Errorf("phrase %q has no words", ph)
	}
	for _, w := range words {
		if w.prefix && len([]rune(w.text)) < minPrefix {
			return fmt.Errorf("phrase %q: a word ending in * needs at least %d letters before it", ph, minPrefix)
		}
		if w.text == "" {
			return fmt.Errorf("phrase %q: * must end a word", ph)
		}
	}
	return nil
}
