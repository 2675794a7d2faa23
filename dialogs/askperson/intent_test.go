package askperson_test

import (
	"testing"

	"github.com/tend-health/tend/dialogs/askperson"
)

// TestAsksForPerson: requests for a person in any words the list knows,
// and questions that only mention staff, a desk or a human left to the
// knowledge base.
func TestAsksForPerson(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		want bool
	}{
		{"can I talk to a real person please", true},
		{"agent", true},
		{"AGENT!!", true},
		{"front desk please", true},
		{"human", true},
		{"can i get an agent", true},
		{"talk to someone", true},
		{"I don't understand any of this, can I talk to someone?", true},
		{"please call me back at this number", true},
		{"can someone call me today about my bill", true},
		{"quiero hablar con una persona", true},
		{"una persona por favor", true},
		{"que me llamen por favor", true},
		{"transfer me to the nurse", true},

		{"Can I pay cash at the front desk?", false},
		{"Can I pay with my phone, like Apple Pay, at your front desk?", false},
		{"What's a good faith estimate? Someone at the front desk mentioned it when I said I don't have insurance.", false},
		{"I get really anxious on the phone. Is there any way to get an appointment without having to call and talk to someone?", false},
		{"Will someone call me if something on my labs needs attention, or do I have to check the portal?", false},
		{"The portal code the front desk gave me two months ago isn't working. Why not?", false},
		{"No tengo seguro. ¿Cuánto me cuesta la vacuna contra el virus del papiloma humano?", false},
		{"my insurance agent says you are out of network", false},
		{"front desk hours?", false},
		{"Do I need a person to drive me home after the colonoscopy?", false},
		{"I'd rather not talk to anyone, can I book online?", false},
		{"¿Puedo sacar cita sin hablar con nadie?", false},
		// A vague someone next to counseling is a counselor: the knowledge
		// base says how to reach one; a named request still hands off.
		{"I've been overwhelmed lately and think I should talk to someone. How do I start with counseling?", false},
		{"necesito hablar con alguien, ¿tienen terapia para estudiantes?", false},
		{"I want to talk to a person about my counseling bill", true},
		{"can someone call me about therapy", true},
		{"", false},
	} {
		if got := askperson.AsksForPerson(c.text); got != c.want {
			t.Errorf("AsksForPerson(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}
