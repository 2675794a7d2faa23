package triage

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	sharedOnce    sync.Once
	sharedMatcher *Matcher
	sharedErr     error
)

// matcher compiles the built-in rules once for all tests (it is read-only).
func matcher(t testing.TB) *Matcher {
	t.Helper()
	sharedOnce.Do(func() {
		f, err := Builtin()
		if err != nil {
			sharedErr = err
			return
		}
		sharedMatcher = Compile(f)
	})
	require.NoError(t, sharedErr)
	return sharedMatcher
}

// classifyCase is one message and what the rules must make of it.
type classifyCase struct {
	text     string
	kind     string // KindEmergency, KindAdvice or ""
	reply    string // checked when set
	category string // checked when set
}

func runCases(t *testing.T, cases []classifyCase) {
	t.Helper()
	m := matcher(t)
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			t.Parallel()
			r := m.Classify(c.text)
			require.Equal(t, c.kind, r.Kind, "category %q rule %d", r.Category, r.Rule)
			if c.reply != "" {
				require.Equal(t, c.reply, r.Reply)
			}
			if c.category != "" {
				require.Equal(t, c.category, r.Category)
			}
		})
	}
}

func TestEmergenciesEnglish(t *testing.T) {
	t.Parallel()
	e := func(text, category string) classifyCase {
		reply := ReplyEmergency
		if category == "suicide_self_harm" {
			reply = ReplyCrisis
		}
		return classifyCase{text: text, kind: KindEmergency, reply: reply, category: category}
	}
	runCases(t, []classifyCase{
		e("My chest hurts really bad", "chest_pain"),
		e("i have chest pressure and my left arm is tingling", "chest_pain"),
		e("CHEST PAIN", "chest_pain"),
		e("pain in my chest that spreads to my jaw", "chest_pain"),
		e("i think my husband is having a heart attack", "chest_pain"),
		e("I've had chest pain since this morning", "chest_pain"),
		e("i had chest pain last week and now it is back", "chest_pain"),
		e("my hart hurts and im sweaty", "chest_pain"),
		e("I cant breathe", "breathing"),
		e("cant breath", "breathing"),
		e("having a really hard time breathing", "breathing"),
		e("short of breath even sitting still, lips look bluish", "breathing"),
		e("my toddler is choking", "breathing"),
		e("she stopped breathing", "breathing"),
		e("my moms face is droopy and she is slurring", "stroke"),
		e("my dad cant move his left side", "stroke"),
		e("my arm went numb all of a sudden and my face feels weird", "stroke"),
		e("my grandma is suddenly confused and cant speak right", "stroke"),
		e("I lost vision in one eye an hour ago", "stroke"),
		e("worst headache of my life", "stroke"),
		e("cut my finger with a saw and the bleeding won't stop", "bleeding"),
		e("he's bleeding heavily from his leg", "bleeding"),
		e("she is vomiting blood", "bleeding"),
		e("I want to kill myself", "suicide_self_harm"),
		e("i dont want to live anymore", "suicide_self_harm"),
		e("my daughter has been cutting herself and says she wants to die", "suicide_self_harm"),
		e("sometimes i think everyone would be better off without me", "suicide_self_harm"),
		e("I've been having suicidal thoughts", "suicide_self_harm"),
		e("my son swallowed a magnet", "overdose_poisoning"),
		e("took way too many sleeping pills", "overdose_poisoning"),
		e("my baby drank some of the cleaner under the sink", "overdose_poisoning"),
		e("i think she overdosed", "overdose_poisoning"),
		e("my tongue is swelling after eating shrimp", "anaphylaxis"),
		e("throat feels like its closing", "anaphylaxis"),
		e("we just used his epipen", "anaphylaxis"),
		e("my husband passed out and wont wake up", "unconscious_seizure"),
		e("the baby is limp and unresponsive", "unconscious_seizure"),
		e("my son is having a seizure", "unconscious_seizure"),
		e("my roommate was stabbed", "other_emergency"),
		e("i feel like im dying", "other_emergency"),
		e("should i call 911?", "other_emergency"),
		e("my 3 week old has a fever", "other_emergency"),
		e("I took 30 of my sleeping pills", "overdose_poisoning"),
		e("my baby is limp and wont wake up for feeds", "unconscious_seizure"),
		e("high fever with a stiff neck and a rash", "other_emergency"),
		e("my heart is racing and i feel like i will pass out", "chest_pain"),
		e("the carbon monoxide alarm is going off and we all feel dizzy", "other_emergency"),
	})
}

func TestEmergenciesSpanish(t *testing.T) {
	t.Parallel()
	e := func(text, category string) classifyCase {
		reply := ReplyEmergency
		if category == "suicide_self_harm" {
			reply = ReplyCrisis
		}
		return classifyCase{text: text, kind: KindEmergency, reply: reply, category: category}
	}
	runCases(t, []classifyCase{
		e("Me duele mucho el pecho", "chest_pain"),
		e("tengo opresión en el pecho desde hace una hora", "chest_pain"),
		e("me dio un infarto creo", "chest_pain"),
		e("no puedo respirar bien", "breathing"),
		e("me falta el aire", "breathing"),
		e("mi hija no respira", "breathing"),
		e("mi papá tiene la cara caída y no puede hablar", "stroke"),
		e("mi esposo no puede mover la pierna derecha", "stroke"),
		e("el peor dolor de cabeza que he tenido", "stroke"),
		e("estoy sangrando mucho y no para", "bleeding"),
		e("mi mamá está vomitando sangre", "bleeding"),
		e("quiero morirme", "suicide_self_harm"),
		e("me quiero matar", "suicide_self_harm"),
		e("mi hijo dice que se quiere suicidar, tiene pensamientos suicidas", "suicide_self_harm"),
		e("mi niño se tomó el jarabe de la abuela, todo el frasco de pastillas", "overdose_poisoning"),
		e("mi bebé se tragó una moneda", "overdose_poisoning"),
		e("se me está hinchando la lengua después de comer mariscos", "anaphylaxis"),
		e("mi abuela está inconsciente", "unconscious_seizure"),
		e("mi hijo está teniendo una convulsión", "unconscious_seizure"),
		e("me estoy muriendo", "other_emergency"),
		e("necesito una ambulancia", "other_emergency"),
	})
}

// TestNotEmergencies: admin questions that only mention alarming words, and
// mentions that are denied, past, hypothetical or about something else.
func TestNotEmergencies(t *testing.T) {
	t.Parallel()
	n := func(text string) classifyCase { return classifyCase{text: text} }
	runCases(t, []classifyCase{
		n("how much is a chest x-ray?"),
		n("I have a pacemaker, can I get an MRI?"),
		n("do you treat asthma"),
		n("what is the cost of an allergy test"),
		n("I had chest pain last month, can I get a follow-up"),
		n("where do I send my bleeding disorder paperwork"),
		n("no chest pain today, just a cough"),
		n("i dont have any trouble breathing"),
		n("I haven't had a seizure in years, do I still need the neurologist"),
		n("my father died of a heart attack, should I get my cholesterol checked"),
		n("what are the warning signs of a stroke"),
		n("if I ever have chest pain should I come to you or the ER"),
		n("do you offer breathing treatments for kids"),
		n("can I get my blood drawn at the north clinic"),
		n("how long does bleeding last after a tooth pulled lol"),
		n("does the flu shot make your arm hurt"),
		n("is there parking for the heart center"),
		n("my blood pressure cuff isn't working, do you sell them"),
		n("I took my pills this morning, can I still do the fasting blood test"),
		n("can my kid swallow pills or should I ask for liquid"),
		n("do you have an overdose prevention program"),
		n("my son has seizures, can he get the flu vaccine"),
		n("I took 20 mg of lexapro this morning, can I still get my blood drawn"),
		n("he has been unconscious since his accident in 2019, can we get his records"),
		n("I need a copy of my records from when I had a stroke in 2020"),
		n("do you have epipens in stock"),
		n("i cant see the map on your website"),
		n("can't talk right now, can you text me instead"),
		n("this wait is killing me lol"),
		n("hola, tienen citas para hoy"),
		n("cuanto cuesta una radiografia de torax"),
		n("tuve un derrame hace años, necesito un formulario"),
		n("no tengo dolor de pecho, solo tos"),
		n("mi hijo tiene asma, atienden niños"),
		n("donde puedo donar sangre"),
		n("I don't want to wake up early for my appointment, do you have afternoons"),
		n("no quiero seguir pagando tanto, tienen planes de pago"),
		n("i dont want to be here all day, how long is the wait"),
	})
}

func TestAdviceRequests(t *testing.T) {
	t.Parallel()
	a := func(text, category string) classifyCase {
		return classifyCase{text: text, kind: KindAdvice, reply: ReplyAdvice, category: category}
	}
	runCases(t, []classifyCase{
		a("do I have strep?", "diagnosis"),
		a("what is this rash on my leg", "diagnosis"),
		a("is this lump something serious", "diagnosis"),
		a("my psa came back 6, should i be worried", "diagnosis"),
		a("¿tengo covid?", "diagnosis"),
		a("que es esta mancha en mi brazo", "diagnosis"),
		a("how much ibuprofen can I give my 4 year old", "dosing"),
		a("can I double my metformin", "dosing"),
		a("is it ok to take tylenol and advil together", "dosing"),
		a("i missed my blood thinner last night, should i take two", "dosing"),
		a("cuantos ml de jarabe le doy a mi niña", "dosing"),
		a("what can I take for a migraine", "treatment"),
		a("how do I get rid of pink eye", "treatment"),
		a("does my daughter need antibiotics for an ear infection", "treatment"),
		a("que remedio es bueno para la tos", "treatment"),
	})
}

// TestMedicationAdmin: questions about medicines that are administrative.
func TestMedicationAdmin(t *testing.T) {
	t.Parallel()
	n := func(text string) classifyCase { return classifyCase{text: text} }
	runCases(t, []classifyCase{
		n("how do I get a refill"),
		n("can you transfer my prescription"),
		n("is my medication covered"),
		n("how long does a refill take"),
		n("can I get a 90 day supply"),
		n("how much does metformin cost with insurance"),
		n("my pharmacy didnt get my prescription"),
		n("do I need an appointment to renew my blood pressure medicine"),
		n("what should I bring to my physical"),
		n("do I have to fast before blood work"),
		n("is it normal to wait two weeks for lab results"),
		n("can I take my medication before my colonoscopy prep"),
		n("hi"),
		n("what are your hours"),
		n("necesito resurtir mi receta"),
	})
}

// TestContextMechanics pins down how cues act, with the rules as shipped.
func TestContextMechanics(t *testing.T) {
	t.Parallel()
	m := matcher(t)
	for _, c := range []struct {
		text string
		want string
	}{
		// Negation words inside the red flag itself do not cancel it.
		{"he is not breathing", KindEmergency},
		{"no puedo respirar", KindEmergency},
		{"the bleeding doesnt stop", KindEmergency},
		// Negation before the red flag does, with only filler words between.
		{"i do not have any chest pain", ""},
		{"my chest doesnt hurt", ""},
		// ... but not across other words or a clause.
		{"i dont know what to do my chest hurts", KindEmergency},
		{"I'm not sure. My chest hurts a lot", KindEmergency},
		{"not feeling well and my chest hurts", KindEmergency},
		// Past and topic cues yield to "now".
		{"I had a heart attack two years ago", ""},
		{"I had a heart attack two years ago and I think I'm having another one now", KindEmergency},
		{"I had chest pain earlier today", KindEmergency},
		{"how much is a visit for chest pain", ""},
		{"how much is a visit, I have chest pain right now", KindEmergency},
		// An emergency beside an ordinary question is still an emergency.
		{"can't breathe. do you take aetna", KindEmergency},
		// Typos and no punctuation.
		{"chset pian", KindEmergency},
		{"my dauter swalowed bleach", KindEmergency},
		{"brething is realy hard", KindEmergency},
	} {
		r := m.Classify(c.text)
		require.Equal(t, c.want, r.Kind, "%q (category %q rule %d)", c.text, r.Category, r.Rule)
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	m := matcher(t)
	require.Equal(t, "es", m.Classify("me duele mucho el pecho").Lang)
	require.Equal(t, "en", m.Classify("my chest hurts so much").Lang)
	require.Equal(t, "", m.Classify("chest pain").Lang, "too short to tell")
}

func TestQuestionRule(t *testing.T) {
	t.Parallel()
	m := matcher(t)
	require.Equal(t, KindAdvice, m.Classify("¿Tengo diabetes?").Kind)
	require.Equal(t, KindAdvice, m.Classify("tengo diabetes?").Kind)
	require.Equal(t, "", m.Classify("tengo diabetes y necesito mi cita").Kind, "a statement, not a question")
}

func TestEmptyAndOdd(t *testing.T) {
	t.Parallel()
	m := matcher(t)
	for _, s := range []string{"", "   ", "?!?!", "🙂🙂🙂", "\n\n", strings.Repeat("a", 50)} {
		require.Equal(t, Result{}, m.Classify(s), "%q", s)
	}
}

// TestLongInputBounded: a huge, repetitive message built to maximize
// candidate matches is still classified quickly, and the red flag at its
// start is found.
func TestLongInputBounded(t *testing.T) {
	t.Parallel()
	m := matcher(t)
	for _, unit := range []string{"chest pain no had if ", "blood a lot blood a lot ", "can i take how much pills "} {
		text := "I can't breathe. " + strings.Repeat(unit, maxRunes/len(unit)+100)
		start := time.Now()
		r := m.Classify(text)
		require.Less(t, time.Since(start), 3*time.Second, "unit %q", unit)
		require.Equal(t, KindEmergency, r.Kind, "unit %q", unit)
	}
}
