package triage

import (
	"bytes"
	_ "embed" // concepts.yaml
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The concept detector reads a message for the learned detector
// (learned.go): it fills slots (who, symptom, severity, now, intent, plan,
// means, substance, consciousness, vital signs with their numbers) from the
// whole message and combines them by the readable rules in conceptRules.
// It finds the parts of emergencies told in words no single rule names
// ("the pills are counted out on the counter" after "no reason to keep
// going"; a pulse of 180 with near-fainting; sleeping pills with wine and a
// mother who keeps nodding off). The slots and rules are features of the
// learned detector, which decides. Slot words live in concepts.yaml; the
// context cues (negation, past, hypothetical, frame) are those of the
// built-in rules file.

//go:embed concepts.yaml
var builtinConcepts []byte

// conceptFile is concepts.yaml.
type conceptFile struct {
	Version int       `yaml:"version"`
	Slots   []slotDef `yaml:"slots"`
}

type slotDef struct {
	ID      string   `yaml:"id"`
	Context []string `yaml:"context"`
	Phrases Phrases  `yaml:"phrases"`
}

// Vital-sign slots, filled from numbers rather than words.
const (
	slotHRHigh     = "hr_high"    // pulse 150 or more
	slotHRLow      = "hr_low"     // pulse 40 or less
	slotTempHigh   = "temp_high"  // 104 F / 40 C or more
	slotTempFever  = "temp_fever" // 100.4 F / 38 C or more
	slotTempLow    = "temp_low"   // 95 F / 35 C or less
	slotSpO2Low    = "spo2_low"   // oxygen saturation under 90
	slotSugarLow   = "sugar_low"  // blood sugar 54 mg/dL or less
	slotSugarHigh  = "sugar_high" // blood sugar 400 mg/dL or more, or a meter reading HI
	slotBPLow      = "bp_low"     // systolic under 90
	slotInfant     = "infant"     // a baby under 3 months
	slotPregWeeks  = "preg_late"  // 20 weeks of pregnancy or more
	slotConceptMax = 128          // slots per detector
	conceptSpan    = 60           // words within which a rule's slots must stand
	maxSlotHits    = 8            // positions kept per slot
	vitalLookback  = 4            // words before a number that say what it measures
	vitalLookahead = 2            // words after it ("180 bpm")
	noPos          = -1           // no anchor
)

var vitalSlots = []string{slotHRHigh, slotHRLow, slotTempHigh, slotTempFever, slotTempLow, slotSpO2Low, slotSugarLow,
	slotSugarHigh, slotBPLow, slotInfant, slotPregWeeks}

// conceptRule is one readable combination: every group needs one of its
// slots, all within conceptSpan words. Possible rules give the "possible
// emergency" tier (guidance first, then "is this happening now?").
type conceptRule struct {
	name     string
	reply    string
	possible bool
	all      [][]string
}

// conceptRules are checked in order; the first that holds decides. Crisis
// rules come first, as in the rules file.
var conceptRules = []conceptRule{
	// Self-harm: hopelessness or a farewell together with a means, a plan,
	// a time, a question about a lethal amount (Columbia protocol: intent,
	// plan, preparation).
	{name: "hopeless_with_means", reply: ReplyCrisis, all: [][]string{{"hopeless", "farewell", "self_harm_act"}, {"means", "lethal_question", "farewell"}}},
	{name: "farewell_twice", reply: ReplyCrisis, all: [][]string{{"farewell"}, {"farewell2"}}},
	{name: "lethal_question", reply: ReplyCrisis, all: [][]string{{"lethal_question"}}},
	// A goodbye or talk of dying, then no answer ("texted us all goodbye and
	// now he won't pick up"); a means or a lethal amount asked with a thin
	// pretext ("asking for myself", "not for rats").
	{name: "farewell_unreachable", reply: ReplyCrisis, all: [][]string{{"farewell", "hopeless", "self_harm_act"}, {"unreachable"}}},
	{name: "lethal_pretext", reply: ReplyCrisis, all: [][]string{{"lethal_question", "means"}, {"pretext"}}},
	{name: "self_harm_now", reply: ReplyCrisis, all: [][]string{{"self_harm_act"}, {"soon", "means", "now"}}},
	{name: "hopeless_soon", reply: ReplyCrisis, all: [][]string{{"hopeless"}, {"soon"}}},
	// Arrangements for after a death with hopelessness, a means, a plan or
	// a time ("I've made up my mind", "this weekend").
	{name: "death_arrangements", reply: ReplyCrisis, all: [][]string{{"after_death"}, {"hopeless", "means", "lethal_question", "self_harm_act", "soon"}}},
	{name: "hopeless", reply: ReplyCrisis, possible: true, all: [][]string{{"hopeless"}}},
	// Thoughts of harming a baby or someone else (postpartum psychosis,
	// a threat at home).
	{name: "intrusive_harm", reply: ReplyEmergency, all: [][]string{{"intrusive_harm"}}},
	// A sedative or opioid with alcohol, or with reduced consciousness;
	// too much of a medicine with drowsiness, slow breathing or fainting.
	{name: "sedative_alcohol", reply: ReplyEmergency, all: [][]string{{"sedative"}, {"alcohol", "drowsy", "slow_breathing"}}},
	{name: "overdose_symptoms", reply: ReplyEmergency, all: [][]string{{"overdose_amount"}, {"drowsy", "slow_breathing", "faint", "confused", "slow_heart", "weak_collapse"}}},
	// Extreme vital signs.
	{name: "oxygen_low", reply: ReplyEmergency, all: [][]string{{slotSpO2Low}}},
	{name: "temperature_extreme", reply: ReplyEmergency, all: [][]string{{slotTempHigh}}},
	{name: "pulse_extreme_symptoms", reply: ReplyEmergency, all: [][]string{{slotHRHigh, slotHRLow, "racing_heart", "slow_heart"}, {"faint", "dizzy", "confused", "chest_figure", "breath_flag", "sweaty", "weak_collapse", "fast_breathing"}}},
	{name: "pulse_extreme", reply: ReplyEmergency, possible: true, all: [][]string{{slotHRHigh, slotHRLow}}},
	{name: "device_shock", reply: ReplyEmergency, all: [][]string{{"device_shock"}}},
	{name: "sugar_low_symptoms", reply: ReplyEmergency, all: [][]string{{slotSugarLow, "insulin_no_food"}, {"confused", "drowsy", "sweaty", "dizzy", "faint", "weak_collapse", "rigors", "now"}}},
	{name: "sugar_high_symptoms", reply: ReplyEmergency, all: [][]string{{slotSugarHigh, "dka_flag"}, {"nausea", "fast_breathing", "drowsy", "confused", "dka_flag2", "diabetes"}}},
	{name: "sugar_extreme", reply: ReplyEmergency, possible: true, all: [][]string{{slotSugarLow, slotSugarHigh}}},
	// Sepsis: an infection or fever with confusion, mottled skin, fast
	// breathing, low blood pressure, a racing pulse or collapse; fever
	// during chemotherapy.
	{name: "sepsis", reply: ReplyEmergency, all: [][]string{{"infection", "fever", slotTempFever, slotTempHigh}, {"confused", "mottled", "fast_breathing", slotBPLow, "drowsy", "weak_collapse", "spreading", slotHRHigh, "racing_heart", slotTempLow}}},
	{name: "sepsis_rigors", reply: ReplyEmergency, all: [][]string{{"infection"}, {"rigors", slotTempFever}}},
	{name: "cold_and_confused", reply: ReplyEmergency, all: [][]string{{slotTempLow}, {"confused", "drowsy", "rigors", "mottled"}}},
	// Babies: fever under 3 months; danger signs at any age.
	{name: "infant_fever", reply: ReplyEmergency, all: [][]string{{slotInfant}, {"fever", slotTempFever, slotTempHigh, "feeding"}}},
	{name: "baby_danger", reply: ReplyEmergency, all: [][]string{{"baby", slotInfant}, {"infant_flag"}}},
	// Pregnancy red flags from 20 weeks, and after the birth.
	{name: "pregnancy_danger", reply: ReplyEmergency, all: [][]string{{"pregnant", slotPregWeeks, "postpartum"}, {"pregnancy_flag", "intrusive_harm"}}},
	// The heart in other words: figures of speech for chest pressure, pain
	// spreading to the jaw, back or arm with sweating or nausea, heartburn
	// that will not go with sweating or faintness.
	{name: "chest_figure", reply: ReplyEmergency, all: [][]string{{"chest_figure"}}},
	{name: "referred_pain", reply: ReplyEmergency, all: [][]string{{"referred_pain", "indigestion"}, {"sweaty", "nausea", "faint", "dizzy"}}},
	// Breathing, bleeding, neurological and abdominal danger signs.
	{name: "battery", reply: ReplyEmergency, all: [][]string{{"battery_missing"}, {"baby", "swallow_signs", slotInfant}}},
	{name: "breathing_signs", reply: ReplyEmergency, all: [][]string{{"breath_flag"}}},
	{name: "bleeding_signs", reply: ReplyEmergency, all: [][]string{{"bleed_flag"}}},
	{name: "gi_bleed", reply: ReplyEmergency, all: [][]string{{"gi_bleed"}, {"faint", "dizzy", "weak_collapse", "nausea", "sweaty"}}},
	{name: "gi_bleed_alone", reply: ReplyEmergency, possible: true, all: [][]string{{"gi_bleed"}}},
	{name: "stroke_signs", reply: ReplyEmergency, all: [][]string{{"stroke_flag"}, {"stroke_flag2", "sudden", "dizzy", "confused", "now"}}},
	{name: "stroke_sign", reply: ReplyEmergency, possible: true, all: [][]string{{"stroke_flag"}}},
	{name: "head_injury", reply: ReplyEmergency, all: [][]string{{"head_injury", "anticoagulant"}, {"head_flag", "drowsy", "confused"}}},
	{name: "seizures", reply: ReplyEmergency, all: [][]string{{"seizure_flag"}, {"seizure_flag2", "unresponsive"}}},
	{name: "unresponsive", reply: ReplyEmergency, all: [][]string{{"unresponsive"}}},
	{name: "abdomen", reply: ReplyEmergency, all: [][]string{{"abdomen_flag", "testicle"}, {"sudden", "nausea", "abdomen_flag2"}}},
	{name: "heat_stroke", reply: ReplyEmergency, all: [][]string{{"heat"}, {"confused", "faint", "drowsy"}}},
	{name: "meningitis", reply: ReplyEmergency, all: [][]string{{"stiff_neck"}, {"fever", slotTempFever, slotTempHigh, "sudden"}}},
	{name: "anaphylaxis", reply: ReplyEmergency, all: [][]string{{"anaphylaxis_flag"}, {"allergy_trigger", "faint", "breath_flag", "anaphylaxis_flag2"}}},
	// Violence: a threat, violence happening now, a weapon with a threat
	// or drinking.
	{name: "threat", reply: ReplyEmergency, all: [][]string{{"threat"}}},
	{name: "violence_now", reply: ReplyEmergency, all: [][]string{{"violence_now"}, {"at_home", "violence_now2", "now", "weapon"}}},
	{name: "weapon", reply: ReplyEmergency, all: [][]string{{"weapon"}, {"threat", "violence_now", "alcohol", "intrusive_harm"}}},
}

// conceptDetector is concepts.yaml compiled, with the rules resolved to slot indexes.
type conceptDetector struct {
	m     *Matcher
	base  *Matcher       // the built-in rules, for the learned detector's "taken back" feature
	names []string       // slot index -> name (word slots, then vital slots)
	index map[string]int // name -> slot index; "name2" means a second hit
	rules []compiledConcept
}

type compiledConcept struct {
	conceptRule
	groups [][]slotRef
}

// slotRef is a slot in a rule; second asks for a second, distinct hit.
type slotRef struct {
	slot   int
	second bool
}

// parseConcepts reads a concepts file against the rules file whose
// languages, settings and context cues it uses.
func parseConcepts(data []byte, rules *File) (*conceptDetector, error) {
	f, cf, err := conceptRulesFile(data, rules)
	if err != nil {
		return nil, err
	}
	d := &conceptDetector{index: map[string]int{}}
	for _, s := range cf.Slots {
		d.index[s.ID] = len(d.names)
		d.names = append(d.names, s.ID)
	}
	for _, v := range vitalSlots {
		d.index[v] = len(d.names)
		d.names = append(d.names, v)
	}
	if len(d.names) > slotConceptMax {
		return nil, fmt.Errorf("triage concepts: at most %d slots", slotConceptMax)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("triage concepts: %w", err)
	}
	d.m = Compile(f)
	d.base = Compile(rules)
	for _, r := range conceptRules {
		c := compiledConcept{conceptRule: r}
		for _, g := range r.all {
			var refs []slotRef
			for _, name := range g {
				base, second := name, false
				if i, ok := d.index[name]; ok {
					refs = append(refs, slotRef{slot: i})
					continue
				}
				if b, ok := strings.CutSuffix(name, "2"); ok {
					base, second = b, true
				}
				i, ok := d.index[base]
				if !ok {
					return nil, fmt.Errorf("triage concepts: rule %s names slot %q, not in concepts.yaml", r.name, name)
				}
				refs = append(refs, slotRef{slot: i, second: second})
			}
			c.groups = append(c.groups, refs)
		}
		d.rules = append(d.rules, c)
	}
	return d, nil
}

// conceptRulesFile reads a concepts file as a rules file (one category
// per slot) against the rules file whose languages, settings and context
// cues it uses; the concept rules are not resolved (BaselinePhrases reads
// older files with it).
func conceptRulesFile(data []byte, rules *File) (*File, *conceptFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cf conceptFile
	if err := dec.Decode(&cf); err != nil {
		return nil, nil, fmt.Errorf("triage concepts: %w", err)
	}
	if cf.Version != 1 {
		return nil, nil, fmt.Errorf("triage concepts: version must be 1, got %d", cf.Version)
	}
	f := &File{Version: 1, Languages: rules.Languages, Settings: rules.Settings, Context: rules.Context,
		Lexicon: map[string]Phrases{}}
	seen := map[string]bool{}
	for _, s := range cf.Slots {
		if seen[s.ID] {
			return nil, nil, fmt.Errorf("triage concepts: slot %s twice", s.ID)
		}
		seen[s.ID] = true
		f.Lexicon[s.ID] = s.Phrases
		f.Categories = append(f.Categories, Category{ID: s.ID, Kind: KindEmergency, Reply: ReplyEmergency,
			Context: s.Context, Rules: []Rule{{All: []Group{{"@" + s.ID}}}}})
	}
	return f, &cf, nil
}

// checkLearnedSlots checks that the slots the learned detector reads
// (slotGroups, replySlots) are in the concepts file.
func (d *conceptDetector) checkLearnedSlots() error {
	for _, g := range slotGroups {
		for _, n := range g.slots {
			if _, ok := d.index[n]; !ok {
				return fmt.Errorf("triage concepts: slot group %s names slot %q, not in concepts.yaml", g.name, n)
			}
		}
	}
	for _, n := range replySlots {
		if _, ok := d.index[n]; !ok {
			return fmt.Errorf("triage concepts: the learned detector reads slot %q, not in concepts.yaml", n)
		}
	}
	return nil
}

// slots are the positions (word index) where each slot was found.
type slots [][]int

// fill finds the slots of a message.
func (d *conceptDetector) fill(text string) (slots, *analysis) {
	a := d.m.analyze(text)
	return d.fillFrom(a, nil), a
}

// fillFrom finds the slots of an analyzed message; raw, when not nil,
// is marked for every slot whose words occur, whatever their context.
func (d *conceptDetector) fillFrom(a *analysis, raw []bool) slots {
	s := make(slots, len(d.names))
	if len(a.toks) == 0 {
		return s
	}
	for i := range d.m.cats {
		c := &d.m.cats[i]
		slot := d.index[c.id]
		g := c.rules[0].groups[0]
		for _, occ := range a.union(g) {
			if raw != nil {
				raw[slot] = true
			}
			if len(s[slot]) >= maxSlotHits {
				break
			}
			if a.inContext(c, &c.rules[0], []span{occ}, occ.start, occ.end) {
				s[slot] = append(s[slot], occ.start)
			}
		}
	}
	readVitals(a, func(name string, pos int) {
		i := d.index[name]
		if len(s[i]) < maxSlotHits {
			s[i] = append(s[i], pos)
		}
		if raw != nil {
			raw[i] = true
		}
	})
	return s
}

// decide applies the rules to filled slots.
func (d *conceptDetector) decide(s slots) (compiledConcept, int, bool) {
	for k, r := range d.rules {
		if r.holds(s) {
			return r, k, true
		}
	}
	return compiledConcept{}, 0, false
}

// holds checks that each group has a slot found within conceptSpan words of
// a hit of the first group.
func (r compiledConcept) holds(s slots) bool {
	for _, anchor := range r.hits(s, 0, noPos) {
		ok := true
		for g := 1; g < len(r.groups) && ok; g++ {
			ok = false
			for _, p := range r.hits(s, g, anchor) {
				if p-anchor <= conceptSpan && anchor-p <= conceptSpan {
					ok = true
					break
				}
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// hits lists the positions that satisfy group g; a "second" reference
// needs a hit of its slot other than the anchor.
func (r compiledConcept) hits(s slots, g, anchor int) []int {
	var out []int
	for _, ref := range r.groups[g] {
		for _, p := range s[ref.slot] {
			if ref.second && p == anchor {
				continue
			}
			out = append(out, p)
		}
	}
	return out
}

// explain lists the filled slots, for `tend triage test` and tests.
func (d *conceptDetector) explain(s slots) string {
	var parts []string
	for i, pos := range s {
		if len(pos) > 0 {
			parts = append(parts, d.names[i])
		}
	}
	return strings.Join(parts, " ")
}

// ---- vital signs ----

// measure words: what a number next to them measures.
var (
	// Not "late" (the Spanish "beats"): "20 minutes late" is no pulse;
	// "el corazon me late a 180" has "corazon".
	pulseWords = []string{"pulse", "pulso", "hr", "bpm", "lpm", "heart", "corazon", "heartbeat", "heartrate", "latidos",
		"rate", "frecuencia", "watch", "reloj"}
	tempWords  = []string{"temp", "temperature", "temperatura", "fever", "fiebre", "calentura", "degrees", "grados", "f", "c"}
	oxyWords   = []string{"oxygen", "o2", "sat", "sats", "saturation", "spo2", "oximeter", "ox", "oxigeno", "saturacion"}
	sugarWords = []string{"sugar", "sugars", "glucose", "azucar", "glucosa", "bg", "glucometer", "glucometro", "meter", "dexcom",
		"cgm", "libre"}
	// timeWords after a number say it is a time or a duration ("20
	// minutes late", "every 15 min"), not a measurement.
	timeWords = []string{"minutes", "minute", "min", "mins", "hours", "hour", "hrs", "seconds", "secs", "minutos", "minuto",
		"horas", "hora", "segundos", "am", "pm", "years", "yrs", "anos", "dollars", "pesos"}
	bpWords    = []string{"bp", "pressure", "presion", "arterial"}
	weekWords  = []string{"week", "weeks", "wk", "wks", "semana", "semanas"}
	dayWords   = []string{"day", "days", "dia", "dias"}
	monthWords = []string{"month", "months", "mo", "mos", "mes", "meses"}
	oldWords   = []string{"old", "nacido", "nacida", "edad", "de"}
	babyWords  = []string{"baby", "bebe", "newborn", "son", "daughter", "hijo", "hija", "nino", "nina", "infant", "nieto", "nieta",
		"grandson", "granddaughter"}
	pregWords = []string{"pregnant", "embarazada", "along", "embarazo", "im", "am", "tengo", "at"}
)

// readVitals reports vital-sign slots found in the message, by the number
// and the words around it: "pulse is like 30", "el corazon a 180", "temp
// 101.3", "o2 is 86", "sugar is 38", "BP 80/40", "my 6 week old", "I'm 33
// weeks". A decimal written "101.3" or "38,4" is two words after
// tokenizing; the second is read as the decimals.
func readVitals(a *analysis, emit func(string, int)) {
	toks := a.toks
	for i, t := range toks {
		if !isNumber(t.text) {
			continue
		}
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			continue
		}
		if i+1 < len(toks) && isNumber(toks[i+1].text) && len(toks[i+1].text) == 1 && toks[i+1].clause != t.clause {
			frac, _ := strconv.ParseFloat(toks[i+1].text, 64)
			v += frac / 10
		}
		near := func(words []string) bool {
			for j := max(0, i-vitalLookback); j <= min(len(toks)-1, i+vitalLookahead); j++ {
				if j != i && toks[j].sentence == t.sentence && containsWord(words, toks[j].text) {
					return true
				}
			}
			return false
		}
		after := func(words []string) bool {
			return i+1 < len(toks) && containsWord(words, toks[i+1].text)
		}
		switch {
		case after(weekWords) || after(dayWords) || after(monthWords):
			readAge(toks, i, v, emit)
			continue
		case after(timeWords):
			continue
		case near(oxyWords):
			if v >= 50 && v < 90 {
				emit(slotSpO2Low, i)
			}
			continue
		case near(sugarWords):
			if v >= 10 && v <= 54 {
				emit(slotSugarLow, i)
			}
			if v >= 400 && v <= 1500 {
				emit(slotSugarHigh, i)
			}
			continue
		case near(bpWords) && i+1 < len(toks) && isNumber(toks[i+1].text):
			if v >= 40 && v < 90 {
				emit(slotBPLow, i)
			}
			continue
		case near(tempWords):
			readTemperature(v, i, emit)
			continue
		case near(pulseWords):
			if v >= 150 && v <= 300 {
				emit(slotHRHigh, i)
			}
			if v >= 15 && v <= 40 {
				emit(slotHRLow, i)
			}
			continue
		}
		// A bare temperature with a decimal ("101.3", "39.8": the decimals
		// are the next clause, after the point), not a range ("110-140").
		if v >= 100.4 && v <= 110 && i+1 < len(toks) && isNumber(toks[i+1].text) && len(toks[i+1].text) == 1 &&
			toks[i+1].clause != t.clause {
			readTemperature(v, i, emit)
		}
	}
	// A meter that reads "HI" is over its range.
	for i, t := range toks {
		if t.text == "hi" && i > 0 && containsWord([]string{"says", "reads", "dice", "marca", "shows"}, toks[i-1].text) {
			for j := max(0, i-vitalLookback-2); j < i; j++ {
				if containsWord(sugarWords, toks[j].text) {
					emit(slotSugarHigh, i)
					break
				}
			}
		}
	}
}

func readTemperature(v float64, i int, emit func(string, int)) {
	switch {
	case v >= 104 && v <= 110, v >= 40 && v <= 43:
		emit(slotTempHigh, i)
		emit(slotTempFever, i)
	case v >= 100.4 && v < 104, v >= 38 && v < 40:
		emit(slotTempFever, i)
	case v >= 80 && v <= 95, v >= 30 && v <= 35:
		emit(slotTempLow, i)
	}
}

// readAge reads "6 week old", "2 meses", "3 semanas de nacido" (a baby
// under 3 months) and "33 weeks" said of a pregnancy.
func readAge(toks []token, i int, v float64, emit func(string, int)) {
	unit := toks[i+1].text
	old := i+2 < len(toks) && containsWord(oldWords, toks[i+2].text)
	for j := max(0, i-3); j < i; j++ {
		if containsWord(babyWords, toks[j].text) {
			old = true
		}
	}
	pregnant := false
	for j := max(0, i-3); j < i; j++ {
		if containsWord(pregWords, toks[j].text) {
			pregnant = true
		}
	}
	if i+2 < len(toks) && containsWord([]string{"pregnant", "along", "de", "embarazada"}, toks[i+2].text) {
		pregnant = pregnant || toks[i+2].text != "de" || (i+3 < len(toks) && toks[i+3].text == "embarazo")
	}
	switch {
	case containsWord(weekWords, unit):
		if old && v < 13 {
			emit(slotInfant, i)
		} else if pregnant && v >= 20 && v <= 42 {
			emit(slotPregWeeks, i)
		}
	case containsWord(dayWords, unit):
		if old && v <= 90 {
			emit(slotInfant, i)
		}
	case containsWord(monthWords, unit):
		if v < 3 && (old || i > 0 && containsWord([]string{"de", "baby", "bebe", "my", "mi"}, toks[i-1].text)) {
			emit(slotInfant, i)
		}
	}
}

func containsWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}
