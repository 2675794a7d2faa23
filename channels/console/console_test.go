package console_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/console"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

const (
	welcomeEN = "Hello! I'm the virtual assistant for Maple Grove Family Clinic. I can answer questions about costs, insurance and getting ready for a visit. What would you like to know? You can type a question or tap a button.\n"
	welcomeES = "¡Hola! Soy el asistente virtual de Maple Grove Family Clinic. Puedo responder preguntas sobre costos, seguros y cómo prepararse para una visita. ¿Qué le gustaría saber? Puede escribir una pregunta o tocar un botón.\n"
	optionsEN = "  1) Costs\n  2) Insurance\n  3) Prepare for a visit\n  4) Talk to a person\n  5) Español\n"
	optionsES = "  1) Costos\n  2) Seguros\n  3) Prepararse\n  4) Hablar con alguien\n  5) English\n"
	costsEN   = "Sure. What would you like to know about costs? For example: \"How much is a visit without insurance?\"\n  1) Main menu\n"
	mainEN    = "How can I help? Type your question, or tap a button.\n"
	fallback  = "Sorry, I didn't understand that. You can ask me about costs, insurance or getting ready for a visit, or tap a button below.\n"
	langSetEN = "I'll write in English from now on. How can I help?\n"
)

// newApp assembles Tend as `tend chat` does.
func newApp(t *testing.T, db *store.DB) *app.App {
	t.Helper()
	return apptest.New(t, db, apptest.Options{Mode: app.ModeCLI})
}

// run feeds input to a session on the real engine and returns what it printed.
func run(t *testing.T, s *console.Session, input string) string {
	t.Helper()
	var out bytes.Buffer
	s.In, s.Out = strings.NewReader(input), &out
	require.NoError(t, s.Run(context.Background()))
	return out.String()
}

// messages lists what the conversation received, in order.
func messages(t *testing.T, db *store.DB, chatID string) []store.Inbound {
	t.Helper()
	ctx := context.Background()
	conv, err := db.Q().FindConversation(ctx, console.Channel, chatID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	require.NoError(t, err)
	ids, err := store.Collect[string](db.Q().Query(ctx, `SELECT external_id FROM inbound_messages WHERE conversation_id = $1 ORDER BY seq`,
		conv.ID))(func(r store.Row) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	require.NoError(t, err)
	var out []store.Inbound
	for _, id := range ids {
		m, err := db.Q().FindInbound(ctx, console.Channel, id)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

// One message per line; blank lines are not messages; replies print with
// their buttons numbered, and a number presses a button of the last reply
// that had any (stored as the button's label and payload, as a tap is on
// other channels); a number no button has is just text.
func TestSessionScript(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		s := &console.Session{Engine: a.Engine, ChatID: "script"}
		out := run(t, s, "hi\n\n   \n 1 \n2\n0\n")
		require.Equal(t, welcomeEN+optionsEN+costsEN+fallback+optionsEN+fallback+optionsEN, out)

		got := messages(t, db, "script")
		require.Len(t, got, 4, "blank lines are not messages")
		for i, c := range []struct{ text, payload string }{
			{"hi", ""},
			{"Costs", "menu:topic:costs"},
			{"2", ""}, // the costs reply has one button: 2 is text
			{"0", ""}, // options start at 1
		} {
			require.Equal(t, c.text, got[i].Text, "message %d", i+1)
			require.Equal(t, c.payload, got[i].Payload, "message %d", i+1)
			require.Equal(t, "script", got[i].SenderID)
		}
		conv, err := db.Q().FindConversation(context.Background(), console.Channel, "script")
		require.NoError(t, err)
		require.Equal(t, "en", conv.Lang)
	})
}

// The session's locale picks the conversation's language; the language
// option switches it.
func TestSessionLocale(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		s := &console.Session{Engine: a.Engine, Locale: "es_MX"}
		out := run(t, s, "hola\n5\nsomething odd\n")
		require.Equal(t, welcomeES+optionsES+langSetEN+optionsEN+fallback+optionsEN, out)
		conv, err := db.Q().FindConversation(context.Background(), console.Channel, s.ChatID)
		require.NoError(t, err)
		require.Equal(t, "en", conv.Lang)
	})
}

// Without a chat id each session is a new conversation of its own.
func TestSessionNamesANewConversation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		s1 := &console.Session{Engine: a.Engine}
		s2 := &console.Session{Engine: a.Engine}
		run(t, s1, "hi\n")
		run(t, s2, "help\n")
		require.Regexp(t, regexp.MustCompile(`^console-[0-9a-f]{16}$`), s1.ChatID)
		require.NotEqual(t, s1.ChatID, s2.ChatID)
		c1, err := db.Q().FindConversation(context.Background(), console.Channel, s1.ChatID)
		require.NoError(t, err)
		c2, err := db.Q().FindConversation(context.Background(), console.Channel, s2.ChatID)
		require.NoError(t, err)
		require.NotEqual(t, c1.ID, c2.ID)
	})
}

// A session given an existing conversation's chat id carries it on: its
// messages are new messages, not repeats of the first session's (which the
// engine would answer with the first session's replies).
func TestSessionResumesAConversation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		require.Equal(t, welcomeEN+optionsEN, run(t, &console.Session{Engine: a.Engine, ChatID: "again"}, "hi\n"))
		require.Equal(t, mainEN+optionsEN, run(t, &console.Session{Engine: a.Engine, ChatID: "again"}, "help\n"))
		got := messages(t, db, "again")
		require.Len(t, got, 2)
		require.Equal(t, "help", got[1].Text)
	})
}

// The prompt is printed before each line is read and the session ends on
// a fresh line; without a prompt (piped input) nothing but replies is printed.
func TestSessionPrompt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		out := run(t, &console.Session{Engine: a.Engine, Prompt: "you> "}, "hi\n\nhelp\n")
		require.Equal(t, "you> "+welcomeEN+optionsEN+"you> you> "+mainEN+optionsEN+"you> \n", out)
		require.Equal(t, "", run(t, &console.Session{Engine: a.Engine}, ""))
	})
}

// The session stops when its context ends: a line read after that is not
// sent, and Run says why it stopped.
func TestSessionStopsWithItsContext(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pr, pw := io.Pipe()
		out := &apptest.SyncBuffer{}
		s := &console.Session{Engine: a.Engine, In: pr, Out: out, ChatID: "stop"}
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()

		_, err := io.WriteString(pw, "hi\n")
		require.NoError(t, err)
		require.Eventually(t, func() bool { return out.String() == welcomeEN+optionsEN }, apptest.WaitFor, 10*time.Millisecond)
		cancel()
		_, err = io.WriteString(pw, "help\n")
		require.NoError(t, err)
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(apptest.WaitFor):
			t.Fatal("Run did not stop")
		}
		_ = pw.Close()
		require.Equal(t, welcomeEN+optionsEN, out.String())
		require.Len(t, messages(t, db, "stop"), 1, "the line after the end was not sent")

		// Ended before the first line: no conversation at all.
		s = &console.Session{Engine: a.Engine, In: strings.NewReader("hi\n"), Out: io.Discard, ChatID: "never"}
		require.ErrorIs(t, s.Run(ctx), context.Canceled)
		require.Empty(t, messages(t, db, "never"), "no conversation at all")
	})
}

// A line longer than the session reads (1 MiB) ends it with an error
// rather than being cut into several messages.
func TestSessionRefusesAnEndlessLine(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		var out bytes.Buffer
		s := &console.Session{Engine: a.Engine, In: strings.NewReader("hi\n" + strings.Repeat("x", 1<<20+1) + "\n"), Out: &out, ChatID: "long"}
		err := s.Run(context.Background())
		require.ErrorIs(t, err, bufio.ErrTooLong)
		require.Equal(t, welcomeEN+optionsEN, out.String())
		require.Len(t, messages(t, db, "long"), 1)
	})
}

// Render is what `tend ask` prints too: the sender of a staff message, the
// text, links indented with their labels, buttons numbered from 1.
func TestRender(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		r    bot.Reply
		want string
	}{
		{"text only", bot.Reply{Text: "Hello."}, "Hello.\n"},
		{"empty", bot.Reply{}, "\n"},
		{"staff sender", bot.Reply{Text: "I'll call you at 3.", From: "Anna from Maple Grove"}, "Anna from Maple Grove: I'll call you at 3.\n"},
		{"buttons", bot.Reply{Text: "Pick one.", Buttons: []bot.Button{{Label: "Yes", Payload: "x:yes"}, {Label: "No", Payload: "x:no"}}},
			"Pick one.\n  1) Yes\n  2) No\n"},
		{"links before buttons", bot.Reply{Text: "Your visit.",
			Links:   []bot.Link{{Label: "Directions", URL: "https://maps.example/1"}, {Label: "Forms", URL: "https://clinic.example/forms"}},
			Buttons: []bot.Button{{Label: "Cancel", Payload: "booking:cancel:1"}}},
			"Your visit.\n  Directions: https://maps.example/1\n  Forms: https://clinic.example/forms\n  1) Cancel\n"},
		{"several lines", bot.Reply{Text: "Line one.\nLine two."}, "Line one.\nLine two.\n"},
	} {
		var b bytes.Buffer
		console.Render(&b, tc.r)
		require.Equal(t, tc.want, b.String(), tc.name)
	}
}
