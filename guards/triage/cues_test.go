package triage

import "testing"

// TestCuesKeepEmergencies: the context cues of this round (questions and
// frames that only "now" takes back, "mild", "never", figures of speech,
// counts written as words, one clause per phrase and one sentence per
// rule) must not take back an emergency told with the same words.
func TestCuesKeepEmergencies(t *testing.T) {
	t.Parallel()
	e := func(text, category string) classifyCase {
		return classifyCase{text: text, kind: KindEmergency, category: category}
	}
	runCases(t, []classifyCase{
		e("Sí, me duele mucho el pecho", "chest_pain"),
		e("yes, my chest hurts so bad", "chest_pain"),
		e("what do I do, my dad is having a stroke right now", "stroke"),
		e("what do I do if he's having a seizure right now", "unconscious_seizure"),
		e("I think I'm having a mild heart attack", "chest_pain"),
		e("I had a heart attack 3 years ago and since this morning I have crushing chest pain", "chest_pain"),
		e("I had a stent two years ago and I'm getting the same chest pain, started 20 min ago", "chest_pain"),
		e("hace dos años tuve un infarto y ahora me duele mucho el pecho", "chest_pain"),
		e("I'm writing a message because my husband collapsed and isn't breathing", "breathing"),
		e("I think she died, she is not breathing", "breathing"),
		e("can you put in my chart that my chest hurts really bad right now", "chest_pain"),
		e("I'm having a panic attack and my chest hurts and I can't breathe", "chest_pain"),
		e("I've never had chest pain like this", "chest_pain"),
		e("my son has never had a seizure before and he's having one now", "unconscious_seizure"),
		e("my toddler is unconscious after falling down the stairs", "unconscious_seizure"),
		e("he's showing signs of a stroke, his face is drooping", "stroke"),
		e("a little short of breath and now my lips are turning blue", "breathing"),
		e("if my chest pain is getting worse right now should I call 911", "chest_pain"),
		e("my son swallowed a battery, what would happen if we wait?", "overdose_poisoning"),
		e("my daughter just swallowed a button battery", "overdose_poisoning"),
		e("she was knocked unconscious and is not waking up", "unconscious_seizure"),
		e("he got knocked out playing football and now he's throwing up and confused", "unconscious_seizure"),
		e("no puedo respirar, me estoy ahogando", "breathing"),
		e("me quedo sin aire y tengo los labios morados", "breathing"),
		e("I want to kill myself", "suicide_self_harm"),
		e("I'm thinking about suicide tonight", "suicide_self_harm"),
		e("my throat is closing up after eating shrimp", "anaphylaxis"),
		e("bleeding a lot and it won't stop, I'm 30 weeks pregnant", "bleeding"),
	})
}

// TestCuesTakeBack: questions, frames, history, figures of speech and mild
// symptoms that use an emergency's words are not emergencies for the rules.
func TestCuesTakeBack(t *testing.T) {
	t.Parallel()
	n := func(text string) classifyCase { return classifyCase{text: text} }
	m := matcher(t)
	for _, c := range []classifyCase{
		n("how do I know if someone is having a stroke?"),
		n("¿cómo sé si alguien está teniendo un infarto?"),
		n("if I'm ever having a heart attack should I drive myself?"),
		n("I had a stroke three years ago and my left side is still a bit weak, I need a parking placard form"),
		n("hace dos semanas fui a urgencias por dolor de pecho y era muscular"),
		n("what does anaphylaxis look like compared to a normal allergic reaction?"),
		n("what would happen if my toddler swallowed a magnet?"),
		n("¿qué pasaría si mi niño se traga un imán?"),
		n("Si me da el soroche y me falta el aire, ¿qué se recomienda?"),
		n("this traffic is going to give me a heart attack"),
		n("my throat has never closed up, I just get hives"),
		n("I get a little short of breath climbing two flights of stairs"),
		n("does my plan cover suicide prevention training?"),
		n("I was unconscious when the ambulance picked me up, who do I talk to about the bill?"),
		n("stubbed my toe, it's a little swollen"),
	} {
		if r := m.Classify(c.text); r.Kind == KindEmergency {
			t.Errorf("%q: emergency (%s rule %d)", c.text, r.Category, r.Rule)
		}
	}
}
