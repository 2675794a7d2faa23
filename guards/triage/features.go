package triage

import (
	"math"
	"slices"
	"strings"
)

// The learned detector (learned.go) reads a message as a short list of
// numbers, its features. They are meant to carry over to messages nobody
// here has seen:
//
//   - how many concept slots of each group are filled (concepts.yaml, with
//     the context cues: "no", "years ago", "what are the signs of" take a
//     slot back), how many in all, and how many slot words stand in a
//     context that takes them back;
//   - whether a concept rule (concept.go) holds, a possible one, a
//     self-harm one;
//   - which context cues occur anywhere (negation, past, hypothetical,
//     topic, record, frame, affirms, ...), and whether a rule category's
//     words are there but their context takes every match back;
//   - a question mark, Spanish;
//   - its meaning: how much closer the nearest training emergencies are
//     than the nearest non-emergencies, by the cosine of SIF sentence
//     vectors (bank.go);
//   - a bag of words, as one smoothed naive Bayes log-odds.
//
// The static part (all but the neighbours and the words) comes from one
// analysis of the message by the concept detector's matcher and one by the
// built-in rules.

// Feature groups; a feature's name starts with its group and a colon.
const (
	fgRule  = "rule"  // a concept rule holds
	fgCue   = "cue"   // a context cue occurs
	fgShape = "shape" // a question mark, Spanish
	fgKNN   = "knn"   // nearest training messages
	fgBOW   = "bow"   // bag of words
)

// staticInfo is what the analysis tells beyond the features: the concept
// rule that held first (for the reply and the log) and the language.
type staticInfo struct {
	rule       compiledConcept
	ruleIdx    int
	ruleOK     bool
	crisisRule bool // a crisis concept rule holds
	// crisisSure: a definite (not possible) crisis concept rule holds
	// other than a lethal-dose question alone: hopelessness, a farewell or
	// self-harm with a means or a time (Detector.crisisConcept).
	crisisSure  bool
	crisisWords bool   // a crisis rule category's words are in the message
	slots       []bool // per slot: filled in context
	lang        string
	toks        []token
	nonEmpty    bool
	filled      []string // slot names, for people
	// redFlags counts the red-flag slots filled (the slot groups but
	// admin): the evidence a possible emergency needs.
	redFlags int
}

// selfHarmSlots are the self-harm group's slots about the writer or someone
// harming themselves (not intrusive thoughts of harming another).
var selfHarmSlots = []string{"hopeless", "farewell", "means", "lethal_question", "self_harm_act", "after_death"}

// selfHarm reports a self-harm concept in the message: a self-harm slot
// filled in context, or a crisis category's words.
func (i staticInfo) selfHarm() bool {
	if i.crisisWords {
		return true
	}
	for _, f := range i.filled {
		if slices.Contains(selfHarmSlots, f) {
			return true
		}
	}
	return false
}

// evidence reports a red-flag concept in the message: a slot of a group
// or a concept rule.
func (i staticInfo) evidence() bool { return i.redFlags > 0 || i.ruleOK }

func (i staticInfo) explain() string {
	s := strings.Join(i.filled, " ")
	if i.ruleOK {
		s += " rule=" + i.rule.name
	}
	return "{" + s + "}"
}

// slotGroups gather the slots by meaning: a group's feature is how many
// of its slots are filled (at most 2). Single slots are rare in the
// training messages, so their own weights would be noisy; a group's count
// is steadier. Slots that say little alone (nausea, dizziness, "sudden",
// vomiting after a head injury, "now", "tonight") are in no group: they
// count through the concept rules that combine them with a red flag.
var slotGroups = []struct {
	name  string
	slots []string
}{
	{"self_harm", []string{"hopeless", "farewell", "means", "lethal_question", "self_harm_act", "intrusive_harm", "after_death"}},
	{"substance", []string{"sedative", "alcohol", "overdose_amount"}},
	{"consciousness", []string{"drowsy", "confused", "faint", "unresponsive", "weak_collapse"}},
	{"breathing", []string{"slow_breathing", "fast_breathing", "breath_flag", slotSpO2Low}},
	{"heart", []string{"chest_figure", "referred_pain", "indigestion", "racing_heart", "slow_heart", "device_shock", "sweaty",
		slotHRHigh, slotHRLow}},
	{"infection", []string{"infection", "fever", "rigors", "mottled", "spreading", slotTempFever, slotTempHigh, slotTempLow,
		slotBPLow}},
	{"baby", []string{"baby", "infant_flag", "feeding", slotInfant}},
	{"pregnancy", []string{"pregnant", "postpartum", "pregnancy_flag", slotPregWeeks}},
	{"diabetes", []string{"diabetes", "dka_flag", "insulin_no_food", slotSugarLow, slotSugarHigh}},
	{"bleeding", []string{"bleed_flag", "anticoagulant", "gi_bleed"}},
	{"neuro", []string{"stroke_flag", "head_injury", "seizure_flag", "stiff_neck"}},
	{"red_flag", []string{"abdomen_flag", "testicle", "heat", "anaphylaxis_flag", "allergy_trigger", "battery_missing",
		"swallow_signs"}},
	{"violence", []string{"threat", "violence_now", "weapon", "at_home"}},
	// Not a red flag: the business of the clinic (appointments, refills,
	// insurance, forms).
	{groupAdmin, []string{"admin"}},
}

// groupAdmin is the group of the clinic's business, which is no red flag
// and not counted in group:all.
const groupAdmin = "admin"

// fgGroup is the slot groups' feature group.
const fgGroup = "group"

// staticNames lists the static features in order.
func (d *conceptDetector) staticNames() []string {
	var names []string
	for _, g := range slotGroups {
		names = append(names, fgGroup+":"+g.name)
	}
	names = append(names, fgGroup+":all")
	names = append(names, fgGroup+":out_of_context", fgRule+":definite", fgRule+":possible", fgRule+":crisis")
	for _, c := range d.m.cues {
		names = append(names, fgCue+":"+c.name)
	}
	names = append(names, fgShape+":question", fgShape+":spanish", fgCue+":taken_back")
	return names
}

// static computes the static features of a message analyzed by the
// concept matcher (a) and by the built-in rules (base) into x
// (len(staticNames())).
func (d *conceptDetector) static(a, base *analysis, x []float64) staticInfo {
	info := staticInfo{lang: a.language(), toks: a.toks, nonEmpty: len(a.toks) > 0}
	raw := make([]bool, len(d.names))
	s := d.fillFrom(a, raw)
	k := 0
	outOfContext := 0
	info.slots = make([]bool, len(d.names))
	for i := range d.names {
		if len(s[i]) > 0 {
			info.slots[i] = true
			info.filled = append(info.filled, d.names[i])
		} else if raw[i] {
			outOfContext++
		}
	}
	total := 0
	for _, g := range slotGroups {
		n := 0
		for _, name := range g.slots {
			if hits := len(s[d.index[name]]); g.name == groupAdmin {
				n += hits // how many admin words
			} else if hits > 0 {
				n++
			}
		}
		x[k] = math.Min(float64(n), 2)
		if g.name != groupAdmin {
			total += n
		}
		k++
	}
	x[k] = math.Min(float64(total), 4)
	info.redFlags = total
	k++
	x[k] = math.Min(float64(outOfContext), 3)
	k++
	var definite, possible, crisis bool
	for i, r := range d.rules {
		if !r.holds(s) {
			continue
		}
		if !info.ruleOK {
			info.rule, info.ruleIdx, info.ruleOK = r, i, true
		}
		if r.possible {
			possible = true
		} else {
			definite = true
		}
		if r.reply == ReplyCrisis {
			crisis = true
			info.crisisSure = info.crisisSure || !r.possible && r.name != "lethal_question" // Detector.crisisConcept
		}
	}
	info.crisisRule = crisis
	x[k], x[k+1], x[k+2] = b2f(definite), b2f(possible), b2f(crisis)
	k += 3
	for _, c := range d.m.cues {
		x[k] = b2f(len(a.occ[c.concept]) > 0)
		k++
	}
	question := false
	for _, t := range a.toks {
		if t.question {
			question = true
			break
		}
	}
	x[k] = b2f(question)
	x[k+1] = b2f(info.lang == "es")
	taken, crisisWords := d.base.takenBack(base)
	x[k+2] = b2f(taken)
	info.crisisWords = crisisWords
	return info
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// negationScope is how many words after a negation ("no", "not", "ya
// no", ...) the bag of words reads as denied, within the clause.
const negationScope = 5

// bowWords are the words the bag-of-words feature reads: the message's
// normalized tokens, once each, numbers written "#", and a word within
// negationScope words after a negation (in its clause) written "~word"
// ("no chest pain" is "~chest ~pain", not "chest pain").
func (d *conceptDetector) bowWords(a *analysis) []string {
	return d.bowFrom(a, d.denied(a))
}

// denied marks the words within negationScope words after a negation, in
// its clause.
func (d *conceptDetector) denied(a *analysis) []bool {
	denied := make([]bool, len(a.toks))
	for _, c := range d.m.cues {
		if c.name != cueNegation {
			continue
		}
		for _, o := range a.occ[c.concept] {
			for i := o.end + 1; i < len(a.toks) && i <= o.end+negationScope && a.toks[i].clause == a.toks[o.end].clause; i++ {
				denied[i] = true
			}
		}
	}
	return denied
}

func (d *conceptDetector) bowFrom(a *analysis, denied []bool) []string {
	seen := map[string]bool{}
	var out []string
	for i, t := range a.toks {
		w := t.text
		if isNumber(w) {
			w = anyNumber
		}
		if len(w) < 2 && w != anyNumber {
			continue
		}
		if denied[i] {
			w = "~" + w
		}
		if seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// cueNegation is the rules file's negation cue.
const cueNegation = "negation"

// knnNames are the neighbour features in order.
var knnNames = []string{fgKNN + ":margin", fgKNN + ":margin3", fgKNN + ":margin5"}

// hasGroup reports whether a feature name is in one of the groups listed
// (each "group" or "group:name").
func hasGroup(name string, groups []string) bool {
	for _, g := range groups {
		if name == g || strings.HasPrefix(name, g+":") {
			return true
		}
	}
	return false
}
