package telegram

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

var testLabels = labels{SharePhone: "Share my phone number", SharePrompt: "Tap to share", Choose: "Choose:"}

func TestSplitText(t *testing.T) {
	t.Parallel()
	para := strings.Repeat("Word ", 150) // 750 characters
	for _, tc := range []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"short", "Hello there.", 100, []string{"Hello there."}},
		{"paragraphs", "First paragraph is here.\n\nSecond one.", 30, []string{"First paragraph is here.", "Second one."}},
		{"sentences", "One two three. Four five six. Seven eight.", 32, []string{"One two three. Four five six.", "Seven eight."}},
		{"words", "alpha beta gamma delta epsilon", 17, []string{"alpha beta gamma", "delta epsilon"}},
		{"long word", strings.Repeat("x", 40), 16, []string{strings.Repeat("x", 16), strings.Repeat("x", 16), strings.Repeat("x", 8)}},
		{"emoji count double", strings.Repeat("😀", 10), 16, []string{strings.Repeat("😀", 8), strings.Repeat("😀", 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, splitText(tc.text, tc.limit))
		})
	}

	long := strings.TrimSpace(strings.Repeat(para+"\n\n", 12)) // ~9,000 characters
	parts := splitText(long, maxMessageLen)
	require.Len(t, parts, 3)
	for _, p := range parts {
		require.LessOrEqual(t, utf16Len(p), maxMessageLen)
		require.True(t, strings.HasSuffix(p, "Word"), "parts end at a word, not inside one")
	}
	require.Equal(t, strings.Fields(long), strings.Fields(strings.Join(parts, " ")), "nothing lost or reordered")
}

func TestRenderReply(t *testing.T) {
	t.Parallel()
	t.Run("escaped text and keyboard", func(t *testing.T) {
		t.Parallel()
		rd := renderReply(bot.Reply{Text: "Fees <$50> & more", Buttons: []bot.Button{
			{Label: "Costs", Payload: "menu:topic:costs"}, {Label: "Insurance", Payload: "menu:topic:insurance"},
			{Label: "Prepare for a visit", Payload: "menu:topic:prep"}, {Label: "Talk to a person", Payload: "handoff:request:asked"},
			{Label: "Español", Payload: "menu:lang:es"},
		}}, testLabels)
		require.Len(t, rd.Messages, 1)
		m := rd.Messages[0]
		require.Equal(t, "Fees &lt;$50&gt; &amp; more", m.HTML)
		kb := m.Markup.(tgbotapi.InlineKeyboardMarkup)
		var shape []int
		for _, row := range kb.InlineKeyboard {
			shape = append(shape, len(row))
		}
		require.Equal(t, []int{2, 1, 2}, shape)
		require.Equal(t, "menu:topic:costs", *kb.InlineKeyboard[0][0].CallbackData)
	})
	t.Run("many buttons stay within eight rows", func(t *testing.T) {
		t.Parallel()
		var bs []bot.Button
		for i := range 20 {
			bs = append(bs, bot.Button{Label: fmt.Sprintf("Slot %d", i), Payload: fmt.Sprintf("booking:slot:%d", i)})
		}
		kb := renderReply(bot.Reply{Text: "Pick one", Buttons: bs}, testLabels).Messages[0].Markup.(tgbotapi.InlineKeyboardMarkup)
		require.LessOrEqual(t, len(kb.InlineKeyboard), maxKeyboardRows)
		n := 0
		for _, row := range kb.InlineKeyboard {
			n += len(row)
		}
		require.Equal(t, 20, n)
	})
	t.Run("long payload stored, empty payload marked", func(t *testing.T) {
		t.Parallel()
		long := "booking:slot:" + strings.Repeat("9", 80)
		rd := renderReply(bot.Reply{Text: "x", Buttons: []bot.Button{{Label: "A", Payload: long}, {Label: "B"}}}, testLabels)
		kb := rd.Messages[0].Markup.(tgbotapi.InlineKeyboardMarkup)
		data := *kb.InlineKeyboard[0][0].CallbackData
		require.LessOrEqual(t, len(data), maxCallbackData)
		cd := parseCallback(data)
		require.Equal(t, long, rd.Stored[cd.StoredKey])
		require.Equal(t, noPayloadData, *kb.InlineKeyboard[0][1].CallbackData)
	})
	t.Run("split reply has buttons on the last part", func(t *testing.T) {
		t.Parallel()
		rd := renderReply(bot.Reply{Text: strings.Repeat("A sentence here. ", 400), Buttons: []bot.Button{{Label: "OK", Payload: "menu:main"}}}, testLabels)
		require.Len(t, rd.Messages, 2)
		require.Nil(t, rd.Messages[0].Markup)
		require.NotNil(t, rd.Messages[1].Markup)
	})
	t.Run("staff prefix", func(t *testing.T) {
		t.Parallel()
		rd := renderReply(bot.Reply{Text: "See you <soon>", From: "Anna & Co", Kind: bot.KindStaff}, testLabels)
		require.Equal(t, "<b>Anna &amp; Co</b>\nSee you &lt;soon&gt;", rd.Messages[0].HTML)
		require.Equal(t, "Anna & Co:\nSee you <soon>", rd.Messages[0].Plain)
	})
	t.Run("links", func(t *testing.T) {
		t.Parallel()
		rd := renderReply(bot.Reply{Text: "Forms", Links: []bot.Link{{Label: "Intake form", URL: "https://clinic.example.org/intake"},
			{Label: "Local", URL: "http://localhost:8080/x"}}}, testLabels)
		m := rd.Messages[0]
		kb := m.Markup.(tgbotapi.InlineKeyboardMarkup)
		require.Equal(t, "https://clinic.example.org/intake", *kb.InlineKeyboard[0][0].URL)
		require.Equal(t, "Forms\n\nLocal: http://localhost:8080/x", m.Plain)
	})
	t.Run("request contact alone", func(t *testing.T) {
		t.Parallel()
		rd := renderReply(bot.Reply{Text: "To check it's you, share your number.", RequestContact: true}, testLabels)
		require.Len(t, rd.Messages, 1)
		kb := rd.Messages[0].Markup.(tgbotapi.ReplyKeyboardMarkup)
		require.True(t, kb.OneTimeKeyboard)
		require.True(t, kb.Keyboard[0][0].RequestContact)
		require.Equal(t, "Share my phone number", kb.Keyboard[0][0].Text)
	})
	t.Run("request contact with buttons", func(t *testing.T) {
		t.Parallel()
		rd := renderReply(bot.Reply{Text: "Share your number or cancel.", RequestContact: true,
			Buttons: []bot.Button{{Label: "Cancel", Payload: "booking:cancel"}}}, testLabels)
		require.Len(t, rd.Messages, 2)
		require.IsType(t, tgbotapi.InlineKeyboardMarkup{}, rd.Messages[0].Markup)
		require.IsType(t, tgbotapi.ReplyKeyboardMarkup{}, rd.Messages[1].Markup)
		require.Equal(t, "Tap to share", rd.Messages[1].Plain)
	})
	t.Run("buttons only", func(t *testing.T) {
		t.Parallel()
		rd := renderReply(bot.Reply{Buttons: []bot.Button{{Label: "Yes", Payload: "survey:yes"}}}, testLabels)
		require.Equal(t, "Choose:", rd.Messages[0].Plain)
	})
	t.Run("nothing", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, renderReply(bot.Reply{Text: "  "}, testLabels).Messages)
	})
}

func TestClassify(t *testing.T) {
	t.Parallel()
	var ra *bot.RetryAfterError
	err := classify(&APIError{Method: "sendMessage", Code: 429, Description: "Too Many Requests: retry after 5", RetryAfter: 5})
	require.ErrorAs(t, err, &ra)
	require.Equal(t, "5s", ra.After.String())

	for _, tc := range []struct {
		err  error
		want error
	}{
		{&APIError{Code: 403, Description: "Forbidden: bot was blocked by the user"}, bot.ErrUnreachable},
		{&APIError{Code: 403, Description: "Forbidden: user is deactivated"}, bot.ErrUnreachable},
		{&APIError{Code: 400, Description: "Bad Request: chat not found"}, bot.ErrUnreachable},
		{&APIError{Code: 400, Description: "Bad Request: message text is empty"}, bot.ErrPermanent},
	} {
		require.ErrorIs(t, classify(tc.err), tc.want, tc.err.Error())
	}
	for _, transient := range []error{&APIError{Code: 502, Description: "Bad Gateway"}, &APIError{Code: 401, Description: "Unauthorized"},
		&transportError{method: "sendMessage", err: errors.New("connection refused")}} {
		got := classify(transient)
		require.False(t, errors.Is(got, bot.ErrPermanent) || errors.Is(got, bot.ErrUnreachable) || errors.As(got, &ra), got.Error())
	}
}

func TestCallbackData(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{"menu:main", "", "-", "~abc", strings.Repeat("x", 64), strings.Repeat("y", 65), "ñ:" + strings.Repeat("é", 40)} {
		data, key, stored := encodeCallback(payload)
		require.NotEmpty(t, data)
		require.LessOrEqual(t, len(data), maxCallbackData, payload)
		cd := parseCallback(data)
		switch {
		case payload == "":
			require.True(t, cd.LabelOnly)
		case stored:
			require.Equal(t, key, cd.StoredKey, payload)
		default:
			require.Equal(t, payload, cd.Payload)
		}
	}
}
