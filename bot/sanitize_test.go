package bot_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

// TestSanitizeInbound: what a channel lets in is valid text of bounded
// size; an unclean or over-long id becomes a digest that a repeat matches;
// the locale is left to the channel.
func TestSanitizeInbound(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", 200)
	in := bot.Inbound{ChatID: "42", SenderID: "a\x00b", MessageID: long, Text: "hi\x00 there\u202e",
		Payload: strings.Repeat("é", bot.MaxPayloadBytes), Locale: "x\x00",
		Meta: map[string]string{bot.MetaFirstName: " Ana\n", "empty": "\x01"}}
	bot.SanitizeInbound(&in)
	require.Equal(t, "42", in.ChatID, "a clean id is kept")
	require.True(t, strings.HasPrefix(in.SenderID, "h:"))
	require.Equal(t, bot.CleanID(long), in.MessageID, "the same id gives the same digest")
	require.Equal(t, "hi there", in.Text)
	require.LessOrEqual(t, len(in.Payload), bot.MaxPayloadBytes)
	require.Equal(t, strings.Repeat("é", bot.MaxPayloadBytes/2), in.Payload, "cut at a character boundary")
	require.Equal(t, "x\x00", in.Locale)
	require.Equal(t, map[string]string{bot.MetaFirstName: "Ana"}, in.Meta)
}
