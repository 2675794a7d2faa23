package triage

import (
	"strings"
	"testing"
)

// TestSelfHarmConceptCues: the concept words added with the fourth
// author's messages (a goodbye and then no answer, a means or a lethal
// amount asked with a thin pretext, "for good", "no las voy a necesitar",
// stockpiled pills) fill their slots, and a self-harm concept rule holds
// (a crisis reply); sedatives with alcohol make sedative_alcohol hold.
func TestSelfHarmConceptCues(t *testing.T) {
	t.Parallel()
	d := detector(t)
	for _, c := range []struct{ text, slot string }{
		{"my uncle said goodbye to everyone and now he's not answering", "unreachable"},
		{"my sister said she can't go on and she locked herself in her room", "unreachable"},
		{"mi papá me escribió perdón por todo y ahora no contesta", "unreachable"},
		{"how high does a bridge have to be, I'm asking for myself", "pretext"},
		{"where do I buy rat poison, not for rats", "pretext"},
		{"¿cuántas pastillas de insulina hacen falta? es nomas para saber, ya tengo todas mis pastillas", "pretext"},
		{"I want to make it stop and I have my pills stashed in the closet", "hopeless"},
		{"I'm going to rest for good, I have everything I need here", "hopeless"},
		{"cancelen mis citas, ya no los voy a necesitar, tengo pastillas guardadas", "hopeless"},
		{"tomé mis relajantes musculares con cerveza", "sedative"},
		{"she had her anxiety meds with a bottle of wine", "sedative"},
	} {
		s, _ := d.concepts.fill(c.text)
		r, _, ok := d.concepts.decide(s)
		slots := " " + d.concepts.explain(s) + " "
		if !ok || !strings.Contains(slots, " "+c.slot+" ") {
			t.Errorf("%q: concept rule %q (%v), slots %s; want slot %q", c.text, r.name, ok, slots, c.slot)
			continue
		}
		want := ReplyCrisis
		if c.slot == "sedative" {
			want = ReplyEmergency
		}
		if r.reply != want {
			t.Errorf("%q: concept rule %q replies %s, want %s", c.text, r.name, r.reply, want)
		}
	}
}

// TestSelfHarmCuesTakeBack: a plan denied ("no plans to", "no tengo planes
// de") is not an emergency for the rules.
func TestSelfHarmCuesTakeBack(t *testing.T) {
	t.Parallel()
	m := matcher(t)
	for _, text := range []string{
		"I have no plans to hurt myself, I just want a counselor closer to home",
		"no tengo planes de hacerme daño, solo quiero hablar con alguien",
	} {
		if r := m.Classify(text); r.Kind == KindEmergency {
			t.Errorf("%q: emergency (%s rule %d)", text, r.Category, r.Rule)
		}
	}
	// ... while the same words in a real statement stay emergencies.
	for _, text := range []string{
		"I want to kill myself tonight",
		"no quiero vivir, quiero hacerme daño",
	} {
		if r := m.Classify(text); r.Kind != KindEmergency {
			t.Errorf("%q: not an emergency", text)
		}
	}
}
