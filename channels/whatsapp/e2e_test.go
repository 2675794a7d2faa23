package whatsapp_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// A patient's conversation on WhatsApp gets the same words and choices as
// the same conversation in the web chat, with WhatsApp's own buttons.
func TestConversationMatchesWebChat(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		wa := newPatient()
		session := strings.Repeat("ab", 24)

		// "hi": the welcome, with five topics: a list (more than 3 buttons).
		e.say(wa, wamid(), "hi")
		sent := e.waitSent(wa, 1)
		webReplies := e.webChat(session, "1", "hi", "")
		require.Len(t, webReplies, 1)
		requireSame(t, webReplies[0].Reply, sent[0])
		require.Equal(t, "interactive", sent[0].Type)
		require.Equal(t, "list", sent[0].Interactive)
		require.Equal(t, "Options", sent[0].ListButton)

		// A list choice routes back as the row's payload.
		costs := sent[0].Choices[0]
		require.Equal(t, "menu:topic:costs", costs.ID)
		require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(wa, "Maria Lopez",
			whatsapptest.ListReply(wa, wamid(), costs.ID, costs.Title, costs.Description, sent[0].ID)))))
		sent = e.waitSent(wa, 2)
		webReplies = e.webChat(session, "2", "", "menu:topic:costs")
		require.Len(t, webReplies, 1)
		requireSame(t, webReplies[0].Reply, sent[1])
		// One button: a reply button.
		require.Equal(t, "button", sent[1].Interactive)
		require.Len(t, sent[1].Choices, 1)

		// A reply button routes back too.
		main := sent[1].Choices[0]
		require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(wa, "Maria Lopez",
			whatsapptest.ButtonReply(wa, wamid(), main.ID, main.Title, sent[1].ID)))))
		sent = e.waitSent(wa, 3)
		webReplies = e.webChat(session, "3", "", main.ID)
		requireSame(t, webReplies[0].Reply, sent[2])

		// Free text the bot does not understand: the same polite fallback.
		e.say(wa, wamid(), "what is the meaning of life")
		sent = e.waitSent(wa, 4)
		webReplies = e.webChat(session, "4", "what is the meaning of life", "")
		requireSame(t, webReplies[0].Reply, sent[3])

		// The patient's messages were marked as read, and the conversation
		// knows who wrote.
		require.Eventually(t, func() bool { return len(e.api.Reads()) == 4 }, 10*time.Second, 20*time.Millisecond)
		conv := e.conversation(wa)
		require.Equal(t, wa, conv.SenderID)
		in, err := db.Q().RecentInbound(context.Background(), conv.ID, 10)
		require.NoError(t, err)
		require.Len(t, in, 4)
		var meta map[string]string
		require.NoError(t, json.Unmarshal(in[0].Meta, &meta))
		require.Equal(t, map[string]string{bot.MetaPhone: "+" + wa, bot.MetaFirstName: "Maria"}, meta)
		require.Equal(t, "menu:topic:costs", in[1].Payload)
	})
}

const http200 = 200

// requireSame checks that a WhatsApp message shows a reply as the web chat
// does: the same words and the same choices, in order.
func requireSame(t *testing.T, r bot.Reply, m whatsapptest.Message) {
	t.Helper()
	require.Equal(t, r.Text, m.Text)
	require.Len(t, m.Choices, len(r.Buttons))
	for i, b := range r.Buttons {
		require.Equal(t, b.Payload, m.Choices[i].ID)
		if m.Choices[i].Description != "" {
			require.Equal(t, b.Label, m.Choices[i].Description)
		} else {
			require.Equal(t, b.Label, m.Choices[i].Title)
		}
	}
}

// manyDialog offers more choices than a WhatsApp list holds.
type manyDialog struct{}

func (manyDialog) Name() string { return "many" }
func (manyDialog) Match(t *bot.Turn) int {
	if t.Text() == "show me everything" {
		return 100
	}
	return 0
}
func (manyDialog) Handle(t *bot.Turn) (bool, error) {
	if action, args, ok := t.Payload("many"); ok && action == "pick" {
		t.Reply(bot.Reply{Text: "You picked " + args[0]})
		return true, nil
	}
	var b []bot.Button
	for i := 1; i <= 12; i++ {
		b = append(b, bot.Button{Label: "Choice number " + strconv.Itoa(i), Payload: bot.Payload("many", "pick", strconv.Itoa(i))})
	}
	t.Reply(bot.Reply{Text: "Pick one:", Buttons: b})
	return true, nil
}

// Beyond ten choices the buttons become numbered text, and a typed number
// maps back to the button.
func TestNumberedOptions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, withDialog(manyDialog{}))
		wa := newPatient()
		e.say(wa, wamid(), "show me everything")
		sent := e.waitSent(wa, 1)
		require.Equal(t, "text", sent[0].Type)
		require.Contains(t, sent[0].Text, "Pick one:\n\n1. Choice number 1\n")
		require.Contains(t, sent[0].Text, "12. Choice number 12\n")
		require.Contains(t, sent[0].Text, "Reply with the number of your choice.")

		e.say(wa, wamid(), "3")
		sent = e.waitSent(wa, 2)
		require.Equal(t, "You picked 3", sent[1].Text)
		// A number beyond the options is just text.
		e.say(wa, wamid(), "13")
		sent = e.waitSent(wa, 3)
		require.NotEqual(t, "You picked 13", sent[2].Text)
	})
}

// Photos and other media get the engine's polite "text only" answer.
func TestUnsupportedMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	wa := newPatient()
	require.Equal(t, http200, e.post(e.api.Notification(whatsapptest.Inbound(wa, "Ana", whatsapptest.Image(wa, wamid())))))
	sent := e.waitSent(wa, 1)
	require.Equal(t, "Sorry, I can only read text messages here. Please type your question, or tap a button.", sent[0].Text)
	conv := e.conversation(wa)
	in, err := e.db.Q().RecentInbound(context.Background(), conv.ID, 1)
	require.NoError(t, err)
	var meta map[string]string
	require.NoError(t, json.Unmarshal(in[0].Meta, &meta))
	require.Equal(t, "image", meta[bot.MetaUnsupported])
}
