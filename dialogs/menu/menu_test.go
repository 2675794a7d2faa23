package menu_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/menu"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// The sentences and buttons a patient sees, as the locale files have them.
const (
	welcomeEN  = "Hello! I'm the virtual assistant for Maple Grove Family Clinic. I can answer questions about costs, insurance and getting ready for a visit. What would you like to know? You can type a question or tap a button."
	welcomeES  = "¡Hola! Soy el asistente virtual de Maple Grove Family Clinic. Puedo responder preguntas sobre costos, seguros y cómo prepararse para una visita. ¿Qué le gustaría saber? Puede escribir una pregunta o tocar un botón."
	mainEN     = "How can I help? Type your question, or tap a button."
	mainES     = "¿En qué puedo ayudarle? Escriba su pregunta o toque un botón."
	fallbackEN = "Sorry, I didn't understand that. You can ask me about costs, insurance or getting ready for a visit, or tap a button below."
	fallbackES = "Lo siento, no entendí. Puede preguntarme sobre costos, seguros o cómo prepararse para una visita, o tocar un botón."
	langSetEN  = "I'll write in English from now on. How can I help?"
	langSetES  = "De ahora en adelante le escribiré en español. ¿En qué puedo ayudarle?"
	costsEN    = "Sure. What would you like to know about costs? For example: \"How much is a visit without insurance?\""
	costsES    = "Claro. ¿Qué le gustaría saber sobre costos? Por ejemplo: \"¿Cuánto cuesta una consulta sin seguro?\""
	prepES     = "Claro. ¿Para qué visita se está preparando? Por ejemplo: \"¿Qué debo traer a mi primera visita?\""
	insuranceE = "Sure. What would you like to know about insurance? For example: \"Do you take Medicare?\""
	staleEN    = "Sorry, that button is no longer available."
)

var (
	buttonsEN = []bot.Button{
		{Label: "Costs", Payload: "menu:topic:costs"},
		{Label: "Insurance", Payload: "menu:topic:insurance"},
		{Label: "Prepare for a visit", Payload: "menu:topic:prep"},
		{Label: "Talk to a person", Payload: "handoff:request:asked"},
		{Label: "Español", Payload: "menu:lang:es"},
	}
	buttonsES = []bot.Button{
		{Label: "Costos", Payload: "menu:topic:costs"},
		{Label: "Seguros", Payload: "menu:topic:insurance"},
		{Label: "Prepararse", Payload: "menu:topic:prep"},
		{Label: "Hablar con alguien", Payload: "handoff:request:asked"},
		{Label: "English", Payload: "menu:lang:en"},
	}
	backEN = []bot.Button{{Label: "Main menu", Payload: "menu:main"}}
	backES = []bot.Button{{Label: "Menú principal", Payload: "menu:main"}}
)

// Every sentence of the menu exists in both shipped languages, and the
// files load on their own.
func TestLocalesAreComplete(t *testing.T) {
	t.Parallel()
	c := catalog.New(nil, nil)
	require.NoError(t, c.AddFS(menu.Locales()))
	require.Equal(t, []string{"en", "es"}, c.Languages())
	require.Empty(t, c.Missing("es"))
	for _, topic := range []string{"costs", "insurance", "prep"} {
		require.True(t, c.Has("en", "menu.topic."+topic), topic)
		require.True(t, c.Has("es", "menu.topic."+topic), topic)
	}
}

var msgSeq atomic.Int64

// step is one message from the patient and what must come back.
type step struct {
	text, payload string
	want          []bot.Reply
}

type conv struct {
	e    *bot.Engine
	db   *store.DB
	chat string
}

func newConv(e *bot.Engine, db *store.DB) conv {
	return conv{e: e, db: db, chat: fmt.Sprintf("menu-%d", msgSeq.Add(1))}
}

// send hands one message to the real engine, as `tend ask` does (an inline
// channel: replies come back at once).
func (c conv) send(t *testing.T, locale, text, payload string) []bot.Reply {
	t.Helper()
	out, err := c.e.Handle(context.Background(), bot.Inbound{Channel: "cli", ChatID: c.chat, SenderID: c.chat,
		MessageID: fmt.Sprintf("m%d", msgSeq.Add(1)), Text: text, Payload: payload, Locale: locale})
	require.NoError(t, err)
	var got []bot.Reply
	for _, r := range out.Replies {
		got = append(got, bot.Reply{Text: r.Text, Buttons: r.Buttons})
	}
	return got
}

func (c conv) state(t *testing.T) store.Conversation {
	t.Helper()
	st, err := c.db.Q().FindConversation(context.Background(), "cli", c.chat)
	require.NoError(t, err)
	return st
}

func reply(text string, buttons []bot.Button) bot.Reply {
	return bot.Reply{Text: text, Buttons: buttons}
}

// The menu as a patient meets it, in English and Spanish: greetings, help,
// topic buttons, switching language by button or by typing, and what
// happens to unknown words and to buttons the menu never made.
func TestMenuConversations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		locale   string
		steps    []step
		wantLang string
	}{
		{"greeting", "en-US", []step{{text: "hi", want: []bot.Reply{reply(welcomeEN, buttonsEN)}}}, "en"},
		{"greeting with punctuation", "", []step{{text: "Good morning!", want: []bot.Reply{reply(welcomeEN, buttonsEN)}}}, "en"},
		{"telegram's /start", "en", []step{{text: "/start", want: []bot.Reply{reply(welcomeEN, buttonsEN)}}}, "en"},
		{"Spanish greeting", "es-MX", []step{{text: "Buenas tardes", want: []bot.Reply{reply(welcomeES, buttonsES)}}}, "es"},
		{"help", "en", []step{{text: "help", want: []bot.Reply{reply(mainEN, buttonsEN)}}}, "en"},
		{"help in Spanish", "es", []step{{text: "¿Opciones?", want: []bot.Reply{reply(mainES, buttonsES)}}}, "es"},
		{"words nobody understood", "en", []step{{text: "zxqv blorp", want: []bot.Reply{reply(fallbackEN, buttonsEN)}}}, "en"},
		{"words nobody understood, Spanish", "es", []step{{text: "zxqv blorp", want: []bot.Reply{reply(fallbackES, buttonsES)}}}, "es"},
		{"topic button", "en", []step{
			{payload: "menu:topic:costs", want: []bot.Reply{reply(costsEN, backEN)}},
			{payload: "menu:main", want: []bot.Reply{reply(mainEN, buttonsEN)}},
		}, "en"},
		{"topic button, Spanish", "es", []step{
			{text: "Prepararse", payload: "menu:topic:prep", want: []bot.Reply{reply(prepES, backES)}},
			{payload: "menu:topic:costs", want: []bot.Reply{reply(costsES, backES)}},
		}, "es"},
		{"language button, there and back", "en", []step{
			{text: "Español", payload: "menu:lang:es", want: []bot.Reply{reply(langSetES, buttonsES)}},
			{payload: "menu:main", want: []bot.Reply{reply(mainES, buttonsES)}},
			{payload: "menu:topic:costs", want: []bot.Reply{reply(costsES, backES)}},
			{text: "English", payload: "menu:lang:en", want: []bot.Reply{reply(langSetEN, buttonsEN)}},
			{payload: "menu:topic:insurance", want: []bot.Reply{reply(insuranceE, backEN)}},
		}, "en"},
		{"language typed", "en", []step{
			{text: "Español", want: []bot.Reply{reply(langSetES, buttonsES)}},
			{payload: "menu:welcome", want: []bot.Reply{reply(welcomeES, buttonsES)}},
		}, "es"},
		{"language typed, other words", "es", []step{{text: "in English", want: []bot.Reply{reply(langSetEN, buttonsEN)}}}, "en"},
		{"welcome and fallback buttons", "en", []step{
			{payload: "menu:welcome", want: []bot.Reply{reply(welcomeEN, buttonsEN)}},
			{payload: "menu:fallback", want: []bot.Reply{reply(fallbackEN, buttonsEN)}},
		}, "en"},
		// Buttons the menu never made (an old message, a forged payload):
		// the engine says so and the fallback offers the menu again.
		{"unknown topic", "en", []step{{payload: "menu:topic:nosuch", want: []bot.Reply{reply(staleEN, nil), reply(fallbackEN, buttonsEN)}}}, "en"},
		{"topic without a name", "en", []step{{payload: "menu:topic", want: []bot.Reply{reply(staleEN, nil), reply(fallbackEN, buttonsEN)}}}, "en"},
		{"topic with two names", "en", []step{{payload: "menu:topic:costs:prep", want: []bot.Reply{reply(staleEN, nil), reply(fallbackEN, buttonsEN)}}}, "en"},
		{"unknown action", "en", []step{{payload: "menu:bogus", want: []bot.Reply{reply(staleEN, nil), reply(fallbackEN, buttonsEN)}}}, "en"},
		{"language the catalog lacks", "en", []step{{payload: "menu:lang:fr", want: []bot.Reply{reply(staleEN, nil), reply(fallbackEN, buttonsEN)}}}, "en"},
		{"language button without a language", "en", []step{{payload: "menu:lang", want: []bot.Reply{reply(staleEN, nil), reply(fallbackEN, buttonsEN)}}}, "en"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := apptest.New(t, db, apptest.Options{})
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := newConv(a.Engine, db)
				for i, s := range tc.steps {
					require.Equal(t, s.want, c.send(t, tc.locale, s.text, s.payload), "step %d (%q %q)", i+1, s.text, s.payload)
				}
				st := c.state(t)
				require.Equal(t, tc.wantLang, st.Lang, "the conversation's language")
				require.Empty(t, st.Dialog, "the menu never holds the conversation")
			})
		}
	})
}

// stubDialog stands for another installed dialog: its name is what the
// menu looks for, its score what it competes with.
type stubDialog struct {
	name  string
	score int
}

func (d stubDialog) Name() string { return d.name }

func (d stubDialog) Match(*bot.Turn) int { return d.score }

func (d stubDialog) Handle(t *bot.Turn) (bool, error) {
	t.Reply(bot.Reply{Text: d.name + " answered"})
	return true, nil
}

type stubModule struct{ dialogs []bot.Dialog }

func (stubModule) Name() string { return "stubs" }

func (m stubModule) Install(_ context.Context, a *host.Host) error {
	for _, d := range m.dialogs {
		a.Engine.AddDialog(d)
	}
	return nil
}

// With the booking dialog installed the main menu offers a follow-up, in
// the patient's language, before the person button; its payload reaches
// the booking dialog.
func TestBookingButtonWhenBookingIsInstalled(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := apptest.New(t, db, apptest.Options{Modules: []app.Module{stubModule{[]bot.Dialog{stubDialog{name: "booking"}}}}})
		book := func(label string, buttons []bot.Button) []bot.Button {
			out := append([]bot.Button{}, buttons[:3]...)
			out = append(out, bot.Button{Label: label, Payload: "booking:start"})
			return append(out, buttons[3:]...)
		}
		c := newConv(a.Engine, db)
		require.Equal(t, []bot.Reply{reply(welcomeEN, book("Book a follow-up", buttonsEN))}, c.send(t, "en", "hello", ""))
		require.Equal(t, []bot.Reply{reply("booking answered", nil)}, c.send(t, "en", "", "booking:start"))
		c = newConv(a.Engine, db)
		require.Equal(t, []bot.Reply{reply(mainES, book("Reservar seguimiento", buttonsES))}, c.send(t, "es", "ayuda", ""))
	})
}

// The menu's claims on typed text rank against the other dialogs': a
// language name on its own (95) over a request for help (90) over a
// greeting (80), and nothing in a longer sentence, which is a question for
// the FAQ (76-78) or booking even when it starts with "hi".
func TestMatchRanksAgainstOtherDialogs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tc := range []struct {
			rival int
			text  string
			want  bot.Reply
		}{
			{94, "spanish", reply(langSetES, buttonsES)},
			{94, "castellano", reply(langSetES, buttonsES)},
			{96, "spanish", reply("rival answered", nil)},
			{89, "help", reply(mainEN, buttonsEN)},
			{89, "what can you do?", reply(mainEN, buttonsEN)},
			{91, "help", reply("rival answered", nil)},
			{79, "hi", reply(welcomeEN, buttonsEN)},
			{79, "hey there", reply(welcomeEN, buttonsEN)},
			{81, "hi", reply("rival answered", nil)},
			{1, "hi, how much is a flu shot without insurance?", reply("rival answered", nil)},
			{1, "I need help paying my bill from March", reply("rival answered", nil)},
		} {
			a := apptest.New(t, db, apptest.Options{Modules: []app.Module{stubModule{[]bot.Dialog{stubDialog{name: "rival", score: tc.rival}}}}})
			c := newConv(a.Engine, db)
			require.Equal(t, []bot.Reply{tc.want}, c.send(t, "en", tc.text, ""), "%q against a rival scoring %d", tc.text, tc.rival)
		}
	})
}
