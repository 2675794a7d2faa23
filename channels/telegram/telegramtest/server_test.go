package telegramtest_test

import (
	"errors"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram/telegramtest"
)

// The fake answers the real client library the way Telegram does.
func TestFakeSpeaksBotAPI(t *testing.T) {
	t.Parallel()
	fake := telegramtest.New(t)
	api, err := tgbotapi.NewBotAPIWithAPIEndpoint(telegramtest.Token, fake.Endpoint()) // calls getMe
	require.NoError(t, err)
	require.Equal(t, telegramtest.BotUsername, api.Self.UserName)

	_, err = tgbotapi.NewBotAPIWithAPIEndpoint("1:wrong", fake.Endpoint())
	var apiErr *tgbotapi.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 401, apiErr.Code)

	u := telegramtest.User{ID: 42, FirstName: "Ana"}
	first := fake.PushText(u, "one")
	fake.PushText(u, "two")

	// Unconfirmed updates come again; an offset confirms those below it.
	ups, err := api.GetUpdates(tgbotapi.UpdateConfig{Limit: 1})
	require.NoError(t, err)
	require.Len(t, ups, 1)
	require.Equal(t, "one", ups[0].Message.Text)
	ups, err = api.GetUpdates(tgbotapi.UpdateConfig{})
	require.NoError(t, err)
	require.Len(t, ups, 2)
	ups, err = api.GetUpdates(tgbotapi.UpdateConfig{Offset: int(first) + 1})
	require.NoError(t, err)
	require.Len(t, ups, 1)
	require.Equal(t, "two", ups[0].Message.Text)
	require.Equal(t, 1, fake.Pending())

	// Sending: markup arrives as a JSON form field; HTML is checked.
	msg := tgbotapi.NewMessage(42, "<b>Hi</b> &amp; welcome")
	msg.ParseMode = "HTML"
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Costs", "menu:topic:costs")))
	_, err = api.Send(msg)
	require.NoError(t, err)
	sent := fake.SentTo(42)
	require.Len(t, sent, 1)
	require.Equal(t, "Hi & welcome", sent[0].Text)
	require.Equal(t, []string{"Costs"}, sent[0].Labels())
	require.Equal(t, []string{"menu:topic:costs"}, sent[0].Data())

	bad := tgbotapi.NewMessage(42, "1 < 2")
	bad.ParseMode = "HTML"
	_, err = api.Send(bad)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 400, apiErr.Code)
	require.Contains(t, apiErr.Message, "can't parse entities")

	// Canned failures, as the API words them.
	fake.FailNext("sendMessage", 1, telegramtest.TooManyRequests(5))
	_, err = api.Send(tgbotapi.NewMessage(42, "x"))
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 429, apiErr.Code)
	require.Equal(t, 5, apiErr.RetryAfter)
	fake.Block(42)
	_, err = api.Send(tgbotapi.NewMessage(42, "x"))
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 403, apiErr.Code)

	// Callback queries are answered once.
	_, queryID := fake.Press(u, sent[0], "Costs")
	_, err = api.Request(tgbotapi.NewCallback(queryID, ""))
	require.NoError(t, err)
	_, err = api.Request(tgbotapi.NewCallback(queryID, ""))
	require.True(t, errors.As(err, &apiErr) && apiErr.Code == 400)
	require.Equal(t, []string{queryID}, fake.Answered())

	// No polling while a webhook is set.
	fake.SetWebhook("https://clinic.example.org/webhooks/telegram")
	_, err = api.GetUpdates(tgbotapi.UpdateConfig{})
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 409, apiErr.Code)
}
