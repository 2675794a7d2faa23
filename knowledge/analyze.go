package knowledge

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/spanish"
	"go.yaml.in/yaml/v3"

	"github.com/tend-health/tend/internal/textutil"
)

//go:embed lexicon/health_admin.yaml lexicon/wordfreq_en.txt lexicon/entities.yaml lexicon/es_en.yaml
var lexiconFS embed.FS

// Token is one analyzed term of a text.
type Token struct {
	// Term is the stemmed, synonym-folded form that the index and the
	// embedder see ("cost" for "price", "fees" and "how much").
	Term string
	// Raw is the folded word as written, for character n-grams (misspellings).
	Raw string
	// Weight is 1 for words of the text and less for terms a lexicon added.
	Weight float64
	// Phrase is the words as written when the term stands for a phrase
	// ("video visits"), "" otherwise.
	Phrase string
}

// Analyzer turns text into index terms: accents folded, lower case, phrase and
// word synonyms folded to one term, stop words dropped, words stemmed
// (Snowball, English or Spanish). Documents and questions go through the
// same analyzer, so both sides of a match agree on every term.
type Analyzer struct {
	qual      qualifierTerms      // price qualifiers per language (price_object.go)
	phrases   map[string]string   // "how much" -> "cost"
	maxPhrase int                 // longest phrase in words
	words     map[string]string   // word or English stem -> canonical term
	wordsES   map[string]string   // Spanish stem -> canonical term
	broader   map[string][]string // stem -> broader canonical terms
	stop      map[string]bool
	freq      map[string]int    // English stem -> WordNet SemCor tag count
	concepts  map[string]bool   // canonical terms of the synonym groups
	entities  map[string]string // canonical term -> class ("vaccine", "insurance", ...)
	version   string            // hash of the lexicon, part of the offline model name
}

type lexiconFile struct {
	Synonyms  [][]string          `yaml:"synonyms"`
	Broader   map[string][]string `yaml:"broader"`
	Stopwords map[string][]string `yaml:"stopwords"`
}

// DefaultAnalyzer is the analyzer built from the bundled health-admin lexicon.
func DefaultAnalyzer() *Analyzer { return defaultAnalyzer() }

var defaultAnalyzer = sync.OnceValue(func() *Analyzer {
	a := mustBundled(NewAnalyzer(bundled("health_admin.yaml")))
	a.SetWordFrequencies(bundled("wordfreq_en.txt"))
	if err := a.AddEntities(bundled("entities.yaml")); err != nil {
		panic(err) // the bundled lexicon is tested
	}
	return a
})

// bundled is a file of lexicon/, embedded at build time: failing to read
// it is a broken build.
func bundled(name string) []byte {
	return mustBundled(lexiconFS.ReadFile("lexicon/" + name))
}

// mustBundled returns v, or panics on err: what is built from the bundled
// files is tested, so an error there is a broken build, not bad input.
func mustBundled[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// NewAnalyzer builds an analyzer from a lexicon in the YAML format of
// lexicon/health_admin.yaml.
func NewAnalyzer(lexicon []byte) (*Analyzer, error) {
	var lf lexiconFile
	if err := yaml.Unmarshal(lexicon, &lf); err != nil {
		return nil, fmt.Errorf("knowledge: lexicon: %w", err)
	}
	sum := sha256.Sum256(lexicon)
	a := &Analyzer{phrases: map[string]string{}, words: map[string]string{}, wordsES: map[string]string{}, broader: map[string][]string{},
		stop: map[string]bool{}, concepts: map[string]bool{}, entities: map[string]string{}, version: hex.EncodeToString(sum[:4])}
	for _, list := range lf.Stopwords {
		for _, w := range list {
			a.stop[textutil.Normalize(w)] = true
		}
	}
	for i, group := range lf.Synonyms {
		if len(group) == 0 {
			return nil, fmt.Errorf("knowledge: lexicon: synonym group %d is empty", i+1)
		}
		canon := a.canonical(group[0])
		a.concepts[canon] = true
		for _, w := range group {
			a.register(w, canon)
		}
	}
	for w, terms := range lf.Broader {
		key := a.wordKey(textutil.Normalize(w))
		for _, t := range terms {
			for _, tok := range a.Analyze(t, "en") {
				a.broader[key] = append(a.broader[key], tok.Term)
			}
		}
	}
	return a, nil
}

// AddEntities loads the named things patients ask about (the format of
// lexicon/entities.yaml: class -> lines of synonyms). Each line becomes a
// synonym group like the lexicon's (or marks an existing group whose
// first word it repeats) and its term is remembered as an entity of that
// class: a passage answers a question only if it names every entity the
// question names.
func (a *Analyzer) AddEntities(data []byte) error {
	var classes map[string][][]string
	if err := yaml.Unmarshal(data, &classes); err != nil {
		return fmt.Errorf("knowledge: entities: %w", err)
	}
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, class := range names {
		for i, group := range classes[class] {
			if len(group) == 0 {
				return fmt.Errorf("knowledge: entities: %s line %d is empty", class, i+1)
			}
			// A line naming an existing synonym group ("flu") marks it.
			first := textutil.Normalize(group[0])
			canon, ok := a.words[first]
			if !ok {
				if canon, ok = a.phrases[first]; !ok {
					canon = a.canonical(group[0])
				}
			}
			a.concepts[canon] = true
			a.entities[canon] = class
			for _, w := range group {
				a.register(w, canon)
			}
		}
	}
	sum := sha256.Sum256(append([]byte(a.version), data...))
	a.version = hex.EncodeToString(sum[:4])
	return nil
}

// Entity reports whether a term names a thing (a vaccine, a test, an
// insurance plan, ...) and of which class.
func (a *Analyzer) Entity(term string) (class string, ok bool) {
	class, ok = a.entities[term]
	return class, ok
}

// Broader are the more general terms the lexicon gives for a term
// ("stimulant" for "adderall").
func (a *Analyzer) Broader(term string) []string { return a.broader[term] }

// SetWordFrequencies loads a "stem count" table (lexicon/wordfreq_en.txt)
// that tells generic English words from specific ones.
func (a *Analyzer) SetWordFrequencies(table []byte) {
	a.freq = map[string]int{}
	for _, line := range strings.Split(string(table), "\n") {
		stem, n, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(stem, "#") {
			continue
		}
		if c, err := strconv.Atoi(n); err == nil {
			a.freq[stem] = c
		}
	}
	sum := sha256.Sum256(append([]byte(a.version), table...))
	a.version = hex.EncodeToString(sum[:4])
}

// Specificity is how much a term says about a question's topic, from 0.25
// (a generic English word: "see", "take", "old") to 1 (a word general
// English rarely uses: "vasectomy", or a lexicon concept like "priorauth").
// Numbers count little: they are usually ages, dates or amounts. The
// lexicon's concepts ("cost", "referral") are this domain's topics and
// count fully, however common the English word.
func (a *Analyzer) Specificity(term string) float64 {
	if isNumber(term) {
		return 0.25
	}
	if a.concepts[term] {
		return 1
	}
	n := a.freq[term]
	if n == 0 {
		return 1
	}
	generic := math.Min(1, math.Log1p(float64(n))/math.Log1p(1000))
	return 1 - 0.75*generic
}

// Version identifies the lexicon; embedders include it in their model name.
func (a *Analyzer) Version() string { return a.version }

func (a *Analyzer) canonical(w string) string {
	n := textutil.Normalize(w)
	if strings.Contains(n, " ") {
		return strings.ReplaceAll(n, " ", "")
	}
	return stem(n, "en")
}

func (a *Analyzer) register(w, canon string) {
	n := textutil.Normalize(w)
	if n == "" {
		return
	}
	if parts := strings.Fields(n); len(parts) > 1 {
		a.phrases[n] = canon
		a.maxPhrase = max(a.maxPhrase, len(parts))
		return
	}
	// A Spanish question is stemmed with the Spanish stemmer, so words
	// are registered under both stems; the Spanish ones in a map of their
	// own, lest a Spanish stem capture an English word ("medic").
	if s := stem(n, "en"); s != "" {
		a.words[s] = canon
	}
	if s := stem(n, "es"); s != "" {
		if _, taken := a.wordsES[s]; !taken {
			a.wordsES[s] = canon
		}
	}
	a.words[n] = canon
}

// wordKey is the canonical term of one normalized word.
func (a *Analyzer) wordKey(w string) string {
	if c, ok := a.words[w]; ok {
		return c
	}
	s := stem(w, "en")
	if c, ok := a.words[s]; ok {
		return c
	}
	return s
}

func stem(w, lang string) string {
	if isNumber(w) {
		return w
	}
	if lang == "es" {
		return spanish.Stem(w, true)
	}
	return english.Stem(w, true)
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return w != ""
}

// Figures stand for what they are about: a passage that states a price
// answers "how much", one with clock times answers "what time" or "hours",
// one with a phone number answers "what number do I call", one with a
// duration answers "how long". Each kind adds its concept once, to
// documents and questions alike, and a marker term (figprice, figtime,
// figphone, figdur) that says the text states such a figure: a question
// asking "how much" is answered by a passage that states a price, not by
// one that merely says "price".
var entityPatterns = []struct {
	re     *regexp.Regexp
	term   string
	marker string
	// may is a cheap necessary condition of re on the lower-cased text
	// (digits: it has an ASCII digit): most texts have no figure, and the
	// regexps were half of analyzing a price list's descriptions.
	may func(lower string, digits bool) bool
}{
	{regexp.MustCompile(`\$\s?\d`), "cost", FigurePrice, func(l string, d bool) bool { return d && strings.Contains(l, "$") }},
	{regexp.MustCompile(`(?i)\b\d{1,2}(:\d{2})?\s?(a\.?\s?m\.?|p\.?\s?m\.?)(\W|$)|\b\d{1,2}:\d{2}\b|\bnoon\b|\bmidnight\b|\bmediodia\b`), "hour", FigureTime,
		func(l string, d bool) bool {
			return d && (strings.Contains(l, ":") || clockSuffix(l)) || containsAny(l, "noon", "midnight", "mediodia")
		}},
	{regexp.MustCompile(`\(?\b\d{3}\)?[\s.-]?\d{3}-\d{4}\b`), "phone", FigurePhone,
		func(l string, d bool) bool { return d && strings.Contains(l, "-") }},
	// The stems leave out "s" and "k", which (?i) also matches as "ſ" and
	// the Kelvin sign.
	{regexp.MustCompile(`(?i)\b(\d+|one|two|three|four|five|six|seven|ten|a few|several|un|una|dos|tres|cuatro|cinco)(\s?(-|to|or|a|o)\s?\d+)?\s?(business\s|working\s|habiles\s|hábiles\s)?(minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|minutos?|horas?|d[ií]as?|semanas?|mes(es)?|a[ñn]os?)\b`), "duration", FigureDuration,
		func(l string, d bool) bool {
			return (d || containsAny(l, "one", "two", "thre", "four", "five", "ix", "even", "evera", "ten", "few", "un", "do", "tre", "cuatro", "cinco")) &&
				containsAny(l, "min", "hour", "hr", "day", "wee", "month", "year", "hora", "dia", "día", "emana", "me", "año", "ano")
		}},
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// clockSuffix reports a digit followed, after spaces, by "a" or "p" (the
// only way "3 pm" or "10 a.m." can match).
func clockSuffix(l string) bool {
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			continue
		}
		j := i + 1
		for j < len(l) && (l[j] == ' ' || l[j] == '\t' || l[j] == '\n' || l[j] == '\r' || l[j] == '\f') {
			j++
		}
		if j < len(l) && (l[j] == 'a' || l[j] == 'p') {
			return true
		}
	}
	return false
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// Figure markers: the kinds of figures a passage states.
const (
	FigurePrice    = "figprice"
	FigureTime     = "figtime"
	FigurePhone    = "figphone"
	FigureDuration = "figdur"
)

// figureQuestions are the ways of asking for each kind of figure, matched
// on the folded question as whole words; the concepts the analyzer folds
// ("cost", "hour", "phone") count too.
var figureQuestions = []struct {
	marker  string
	concept string
	phrases []string
}{
	{FigurePrice, "cost", []string{"how much", "price", "cost", "costs", "charge", "fee", "cuanto cuesta", "cuanto cobran",
		"cuanto es", "precio", "costo"}},
	{FigureTime, "hour", []string{"what time", "hours", "open", "close", "closes", "opens", "a que hora", "horario", "abren", "cierran"}},
	{FigurePhone, "phone", []string{"phone", "number to call", "what number", "call", "telefono", "numero"}},
	{FigureDuration, "", []string{"how long", "how many days", "how many weeks", "how many minutes", "how many hours",
		"how soon", "turnaround", "cuanto tiempo", "cuanto tarda", "cuanto tardan", "cuanto dura", "cuantos dias", "cuantas horas"}},
}

// FiguresAsked are the figure markers whose figures would answer a
// question ("how much" asks for a price, "how long" for a duration).
func (a *Analyzer) FiguresAsked(question string, terms []string) []string {
	norm := " " + textutil.Normalize(question) + " "
	var out []string
	for _, fq := range figureQuestions {
		asked := false
		for _, t := range terms {
			if fq.concept != "" && t == fq.concept {
				asked = true
			}
		}
		for _, p := range fq.phrases {
			if !asked && strings.Contains(norm, " "+p+" ") {
				asked = true
			}
		}
		if asked {
			out = append(out, fq.marker)
		}
	}
	return out
}

// Analyze returns the index terms of text written in lang ("en", "es").
func (a *Analyzer) Analyze(text, lang string) []Token {
	words, compounds := splitWords(text)
	out := make([]Token, 0, len(words)+len(compounds)+len(entityPatterns))
	lower, digits := strings.ToLower(text), hasDigit(text)
	for _, e := range entityPatterns {
		if e.may(lower, digits) && e.re.MatchString(text) {
			out = append(out, Token{Term: e.term, Raw: e.term, Weight: 1}, Token{Term: e.marker, Raw: e.marker, Weight: 1})
		}
	}
	for i := 0; i < len(words); {
		if n, canon := a.matchPhrase(words, i); n > 0 {
			out = append(out, Token{Term: canon, Raw: strings.Join(words[i:i+n], ""), Weight: 1, Phrase: strings.Join(words[i:i+n], " ")})
			i += n
			continue
		}
		w := words[i]
		i++
		if a.stop[w] || (len([]rune(w)) < 2 && !isNumber(w)) {
			continue
		}
		out = append(out, Token{Term: a.term(w, lang), Raw: w, Weight: 1})
	}
	for _, c := range compounds {
		if _, ok := a.phrases[c.spaced]; ok {
			continue // the phrase pass already produced it
		}
		out = append(out, Token{Term: a.term(c.joined, lang), Raw: c.joined, Weight: 1})
	}
	return out
}

// minTopicSpecificity: a word carries a question's topic when it is at
// least this specific (see Specificity).
const minTopicSpecificity = 0.6

// Topic is what a question is about: its specific words and lexicon
// concepts, without its everyday words ("do you offer video visits?"
// gives "video visits"). A follow-up ("how much is it?") is read with it.
func (a *Analyzer) Topic(text, lang string) string {
	var out []string
	for _, t := range a.Analyze(text, lang) {
		if t.Term == t.Raw && strings.HasPrefix(t.Term, "fig") {
			continue // a figure marker, not a word
		}
		if a.Specificity(t.Term) >= minTopicSpecificity {
			if t.Phrase != "" {
				out = append(out, t.Phrase)
			} else {
				out = append(out, t.Raw)
			}
		}
	}
	return strings.Join(out, " ")
}

// Expand adds the broader terms of a question's words at half weight
// ("adderall" also means "stimulant" and "controlled substance").
func (a *Analyzer) Expand(tokens []Token) []Token {
	out := tokens
	seen := map[string]bool{}
	for _, t := range tokens {
		seen[t.Term] = true
	}
	for _, t := range tokens {
		for _, b := range a.broader[t.Term] {
			if !seen[b] {
				seen[b] = true
				out = append(out, Token{Term: b, Raw: b, Weight: 0.5})
			}
		}
	}
	return out
}

func (a *Analyzer) term(w, lang string) string {
	if c, ok := a.words[w]; ok {
		return c
	}
	s := stem(w, lang)
	if lang == "es" {
		if c, ok := a.wordsES[s]; ok {
			return c
		}
	}
	if c, ok := a.words[s]; ok {
		return c
	}
	return s
}

func (a *Analyzer) matchPhrase(words []string, i int) (int, string) {
	for n := min(a.maxPhrase, len(words)-i); n >= 2; n-- {
		if canon, ok := a.phrases[strings.Join(words[i:i+n], " ")]; ok {
			return n, canon
		}
	}
	return 0, ""
}

// IsStopword reports whether a normalized word carries no topic.
func (a *Analyzer) IsStopword(w string) bool { return a.stop[w] }

// Terms is the analyzed text as a space-separated list, as stored for full-text search.
func (a *Analyzer) Terms(text, lang string) string {
	toks := a.Analyze(text, lang)
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.Term
	}
	return strings.Join(parts, " ")
}

type compound struct{ joined, spaced string }

// shorthand spells out what patients abbreviate with a slash ("w/o
// insurance", "w/ medicare", "appt b/c").
var shorthand = strings.NewReplacer(" w/o ", " without ", " w/ ", " with ", " b/c ", " because ", " s/p ", " self pay ")

// splitWords folds text and splits it into words. Apostrophes inside words
// are dropped ("don't" is "dont"), digit groups join ("1,650" is "1650"),
// and hyphenated words are also returned joined ("x-ray" gives "x", "ray"
// and the compound "xray").
func splitWords(text string) ([]string, []compound) {
	rs := []rune(strings.TrimSpace(shorthand.Replace(" " + textutil.Fold(text) + " ")))
	var words []string
	var compounds []compound
	var group []string // words joined by hyphens
	var cur []rune
	alnum := func(i int) bool {
		return i >= 0 && i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]))
	}
	endWord := func() {
		if len(cur) > 0 {
			w := string(cur)
			words = append(words, w)
			group = append(group, w)
			cur = cur[:0]
		}
	}
	endGroup := func() {
		endWord()
		if len(group) > 1 {
			compounds = append(compounds, compound{joined: strings.Join(group, ""), spaced: strings.Join(group, " ")})
		}
		group = group[:0]
	}
	for i, r := range rs {
		switch {
		case alnum(i):
			cur = append(cur, r)
		case (r == '\'' || r == '’') && alnum(i-1) && alnum(i+1):
			// inside a word
		case (r == ',' || r == '.') && i > 0 && unicode.IsDigit(rs[i-1]) && i+1 < len(rs) && unicode.IsDigit(rs[i+1]):
			// inside a number
		case r == '-' && alnum(i-1) && alnum(i+1):
			endWord()
		default:
			endGroup()
		}
	}
	endGroup()
	return words, compounds
}
