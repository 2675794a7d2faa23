package prices

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/tend-health/tend/internal/textutil"
	"github.com/tend-health/tend/knowledge"
)

// Descriptions and questions go through the knowledge base's analyzer
// (stems, synonyms: "dye" is "contrast"), after the few rewrites below,
// applied to both sides alike, for how files and patients name things
// differently.

// wordRewrites replace single words. Negation is kept as one word,
// "without", since the analyzer drops "no" as a stop word and "MRI (no
// contrast)" is not "MRI with contrast".
var wordRewrites = map[string]string{
	"no": "without", "wo": "without", "sin": "without", "non": "without",
	"shot": "injection", "shots": "injection",
	// Adjectives of the parts of the body name the part.
	"abdominal": "abdomen", "pelvic": "pelvis", "cardiac": "heart", "renal": "kidney", "hepatic": "liver",
	"spinal": "spine",
	"er":     "emergency room", "bmp": "basic metabolic panel",
}

type rewrite struct {
	re    *regexp.Regexp
	to    string
	guard []string // the regexp runs only on text with one of these
}

func rw(pattern, to string, guard ...string) rewrite {
	return rewrite{regexp.MustCompile(pattern), to, guard}
}

// rewrites are the rewrites of several words, run after wordRewrites;
// each is tried only on text holding one of its guards, since every
// description of a file goes through them (a hospital's file has hundreds
// of thousands).
var rewrites = []rewrite{
	rw(`\bw o\b`, "without", "w o"), // "w/o", split by the normalization
	// "with and without contrast" is a service of its own, not the one
	// "without contrast" (the analyzer drops "with" and "and").
	rw(`\b(with and without|without and with)\b`, "withandwithout", "with and without", "without and with"),
	// Not having insurance is how the patient pays, not what for.
	rw(`\bwithout (any |health |medical )?(insurance|coverage|seguro)\b`, "uninsured", "insurance", "coverage", "seguro"),
	rw(`\b(vitamin )?b ?12\b`, "cyanocobalamin", "b12", "b 12"),
	rw(`\bc ?section\b`, "cesarean section", "section"),
}

// spanish are words the bundled glossary leaves in Spanish that price
// lists use (the glossary is for the clinic's documents).
var spanish = map[string]string{
	"cesarea": "cesarean", "reemplazo": "replacement", "reparacion": "repair", "metabolico": "metabolic",
	"basico": "basic", "aspirina": "aspirin", "cama": "bed", "nivel": "level", "rodilla": "knee",
	"observacion": "observation", "habitacion": "room", "cuarto": "room", "marcapasos": "pacemaker",
	"cerebro": "brain", "cadera": "hip", "inguinal": "inguinal", "quirurgica": "surgical", "medica": "medical",
	"trasplante": "transplant", "corazon": "heart", "conductual": "behavioral", "residencial": "residential",
	"crema": "cream", "capsula": "capsule", "capsulas": "capsule", "inyeccion": "injection", "tableta": "tablet",
	"limitada": "limited", "limitado": "limited", "completa": "complete", "completo": "complete",
	"masticable": "chewable", "masticables": "chewable", "contraste": "contrast", "con": "with", "y": "and",
}

// costWords are the analyzer's terms for asking a price, not for naming
// the thing priced.
var costWords = map[string]bool{"cost": true, "charg": true, "charge": true, "pay": true, "fee": true, "price": true,
	"bill": true, "much": true, "estim": true, "estimate": true, "rate": true, "negoti": true, "cash": true, "self": true,
	"insur": true, "insurance": true, "plan": true, "cover": true, "coverage": true, "code": true, "servic": true,
	"service": true, "procedur": true, "procedure": true, "get": true, "need": true, "want": true, "like": true,
	"selfpay": true, "uninsur": true, "uninsured": true}

func normalizeText(s, lang string) string {
	s = textutil.Normalize(s)
	if lang == "es" {
		s = knowledge.SpanishGlossary().Translate(s)
		words := strings.Fields(s)
		for i, w := range words {
			if en, ok := spanish[w]; ok {
				words[i] = en
			}
		}
		s = strings.Join(words, " ")
	}
	words := strings.Fields(s)
	for i, w := range words {
		if to, ok := wordRewrites[w]; ok {
			words[i] = to
		}
	}
	s = strings.Join(words, " ")
	for _, r := range rewrites {
		for _, g := range r.guard {
			if strings.Contains(s, g) {
				s = r.re.ReplaceAllString(s, r.to)
				break
			}
		}
	}
	return s
}

// descriptionTerms are the indexed terms of an item's description.
func (c *Catalog) descriptionTerms(desc string) string {
	return strings.Join(dedupe(c.termsOf(desc, "en")), " ")
}

func (c *Catalog) termsOf(text, lang string) []string {
	var out []string
	for _, t := range c.an.Analyze(normalizeText(text, lang), "en") {
		if strings.HasPrefix(t.Term, "fig") && t.Term == t.Raw {
			continue // a figure marker
		}
		out = append(out, t.Term)
	}
	return out
}

func dedupe(ts []string) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// queryTerms are what a question names: its terms without the words of
// asking a price and of the payers' and plans' names (those pick the plan,
// not the item), with misspelled words corrected to the descriptions'
// words, and without everyday words no description has ("my dad needs",
// "if I am admitted"). A specific word no description has stays, so that
// the question finds nothing rather than something else: "MRI of the eye"
// is not an MRI of the knee.
//
// A word no description has that is close in meaning to a description
// word is read as that word first (meaning.go): "heart scan" is a heart
// MRI, CT or PET scan, not the heart transplant "scan" left out would
// find. meaning reports such a reading.
func (c *Catalog) queryTerms(question, lang string, s *snapshot) (terms []string, meaning bool) {
	text, meaning := c.byMeaning(c.correct(normalizeText(question, lang), s), s)
	var out []string
	for _, t := range dedupe(c.termsOf(text, "en")) {
		switch {
		case costWords[t] || s.payerTerms[t] || isDigits(t) || c.lexicon().filler[t]:
		case s.terms[t] > 0 || c.an.Specificity(t) >= everyday || c.lexicon().anatomy[t]:
			out = append(out, t)
		}
	}
	return out, meaning
}

// everyday is the specificity below which a word no description has is
// left out of a question (the analyzer's scale: 1 for words the general
// English frequency list does not have, 0.25 for the commonest).
const everyday = 0.8

// fillerWords are terms of the people and circumstances around a price
// question, never of a service: family, contractions, the setting
// (asked as "inpatient", answered from the item's setting).
var fillerWords = `dad mom mum mother father son daughter wife husband kid kids child children
		baby grandmother grandma grandfather grandpa parent parents sister brother partner
		hes shes im ive its whats thats theres dont doesnt cant wont id youd
		inpatient outpatient admit admitted hospital hospitals clinic doctor doctors provider nurse`

// anatomyWords name body parts: everyday words that must not be left out
// of a question (the analyzer finds "eye" or "back" common), since a
// service for another part of the body is another service.
var anatomyWords = `eye eyes ear ears nose toe toes finger fingers thumb lung lungs colon bladder prostate stomach
	skin mouth tooth teeth throat leg legs arm arms back jaw face head scalp gallbladder pancreas spleen uterus
	ovary ovaries bowel rectum esophagus vein veins artery arteries bone bones muscle tendon ligament cervix tongue
	lip thigh calf heel rib ribs knee knees hip hips shoulder shoulders neck wrist ankle elbow foot feet hand hands
	brain heart kidney kidneys liver thyroid breast breasts chest abdomen pelvis spine sinus sinuses`

// wordLists are fillerWords and anatomyWords as the catalog's analyzer's
// terms.
type wordLists struct {
	once            sync.Once
	filler, anatomy map[string]bool
}

func (c *Catalog) lexicon() *wordLists {
	l := &c.words
	l.once.Do(func() {
		l.filler, l.anatomy = map[string]bool{}, map[string]bool{}
		for _, w := range strings.Fields(fillerWords) {
			l.filler[w] = true
			for _, t := range c.termsOf(w, "en") {
				l.filler[t] = true
			}
		}
		for _, t := range c.termsOf(anatomyWords, "en") {
			l.anatomy[t] = true
		}
	})
	return l
}

// correct replaces a misspelled word of a question ("brian", "abdomin",
// "emergancy") by the description word one edit away (two for long
// words): only words no description has and the analyzer does not know
// as everyday English, so that a common word is never "corrected" into a
// service.
func (c *Catalog) correct(text string, s *snapshot) string {
	words := strings.Fields(text)
	changed := false
	for i, w := range words {
		if len([]rune(w)) < 5 || s.words[w] || !isLetters(w) {
			continue
		}
		if ts := c.termsOf(w, "en"); len(ts) != 1 || s.terms[ts[0]] > 0 || c.an.Specificity(ts[0]) < everyday {
			continue
		}
		maxDist := 1
		if len(w) >= 8 {
			maxDist = 2
		}
		best, bestDist, tie := "", maxDist+1, false
		for v := range s.words {
			if abs(len(v)-len(w)) > maxDist {
				continue
			}
			d := textutil.EditDistance(w, v, maxDist)
			switch {
			case d < bestDist || (d == bestDist && v < best):
				tie = d == bestDist && best != ""
				best, bestDist = v, d
			case d == bestDist:
				tie = true
			}
		}
		if best != "" && !tie {
			words[i], changed = best, true
		}
	}
	if !changed {
		return text
	}
	return strings.Join(words, " ")
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func isDigits(s string) bool { return s != "" && digits(s) }
