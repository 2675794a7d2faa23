package telegram

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

func TestMapUpdate(t *testing.T) {
	t.Parallel()
	const from = `"from":{"id":42,"is_bot":false,"first_name":"Ana","language_code":"es-MX"}`
	const chat = `"chat":{"id":42,"first_name":"Ana","type":"private"}`
	msg := func(body string) string {
		return `{"update_id":7,"message":{"message_id":3,` + from + `,` + chat + `,"date":1700000000` + body + `}}`
	}
	for _, tc := range []struct {
		name    string
		raw     string
		ignored string
		check   func(t *testing.T, ev event)
	}{
		{name: "text", raw: msg(`,"text":"How much is a visit?"`), check: func(t *testing.T, ev event) {
			in := ev.Inbound
			require.Equal(t, bot.Inbound{Channel: "telegram", ChatID: "42", SenderID: "42", MessageID: "9:42:3",
				Text: "How much is a visit?", Locale: "es-MX", Time: time.Unix(1700000000, 0).UTC(),
				Meta: map[string]string{bot.MetaFirstName: "Ana"}}, *in)
		}},
		{name: "start", raw: msg(`,"text":"/start ref123","entities":[{"type":"bot_command","offset":0,"length":6}]`),
			check: func(t *testing.T, ev event) {
				require.Equal(t, payloadStart, ev.Inbound.Payload)
				require.Equal(t, "/start", ev.Inbound.Text)
			}},
		{name: "help with bot name", raw: msg(`,"text":"/help@tend_test_bot"`), check: func(t *testing.T, ev event) {
			require.Equal(t, payloadHelp, ev.Inbound.Payload)
		}},
		{name: "stop", raw: msg(`,"text":"/stop"`), check: func(t *testing.T, ev event) {
			require.Equal(t, "STOP", ev.Inbound.Text)
			require.Empty(t, ev.Inbound.Payload)
		}},
		{name: "other command is text", raw: msg(`,"text":"/prices please"`), check: func(t *testing.T, ev event) {
			require.Equal(t, "/prices please", ev.Inbound.Text)
		}},
		{name: "own contact", raw: msg(`,"contact":{"phone_number":"15551234567","first_name":"Ana","user_id":42}`),
			check: func(t *testing.T, ev event) {
				require.Equal(t, "+15551234567", ev.Inbound.Meta[bot.MetaPhone])
				require.Empty(t, ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "someone else's contact", raw: msg(`,"contact":{"phone_number":"+15550000000","first_name":"Bo","user_id":77}`),
			check: func(t *testing.T, ev event) {
				require.Empty(t, ev.Inbound.Meta[bot.MetaPhone])
				require.Equal(t, "contact", ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "contact without user id", raw: msg(`,"contact":{"phone_number":"+15550000000","first_name":"Bo"}`),
			check: func(t *testing.T, ev event) {
				require.Empty(t, ev.Inbound.Meta[bot.MetaPhone])
			}},
		{name: "photo with caption", raw: msg(`,"photo":[{"file_id":"x","width":1,"height":1}],"caption":"is this covered?"`),
			check: func(t *testing.T, ev event) {
				require.Equal(t, "is this covered?", ev.Inbound.Text, "the caption is the message")
				require.Equal(t, "photo", ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "photo without caption", raw: msg(`,"photo":[{"file_id":"x","width":1,"height":1}]`),
			check: func(t *testing.T, ev event) {
				require.Empty(t, ev.Inbound.Text)
				require.Equal(t, "photo", ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "video with caption", raw: msg(`,"video":{"file_id":"v","duration":3},"caption":"my arm"`),
			check: func(t *testing.T, ev event) {
				require.Equal(t, "my arm", ev.Inbound.Text)
				require.Equal(t, "video", ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "animation with caption", raw: msg(`,"animation":{"file_id":"a"},"document":{"file_id":"a"},"caption":"look"`),
			check: func(t *testing.T, ev event) {
				require.Equal(t, "look", ev.Inbound.Text)
				require.NotEmpty(t, ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "document with caption", raw: msg(`,"document":{"file_id":"d","file_name":"x.pdf"},"caption":"my results"`),
			check: func(t *testing.T, ev event) {
				require.Equal(t, "my results", ev.Inbound.Text)
				require.Equal(t, "document", ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "forwarded text", raw: msg(`,"text":"read this","forward_origin":{"type":"user","sender_user":{"id":5,"is_bot":false,"first_name":"Bo"},"date":1}`),
			check: func(t *testing.T, ev event) {
				require.Equal(t, "read this", ev.Inbound.Text)
				require.Empty(t, ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "caption with bad characters", raw: msg(`,"photo":[{"file_id":"x","width":1,"height":1}],"caption":"a\u0000b\u202ec"`),
			check: func(t *testing.T, ev event) {
				require.Equal(t, "abc", ev.Inbound.Text)
			}},
		{name: "voice", raw: msg(`,"voice":{"file_id":"v","duration":3}`), check: func(t *testing.T, ev event) {
			require.Equal(t, "voice", ev.Inbound.Meta[bot.MetaUnsupported])
		}},
		{name: "sticker", raw: msg(`,"sticker":{"file_id":"s"}`), check: func(t *testing.T, ev event) {
			require.Equal(t, "sticker", ev.Inbound.Meta[bot.MetaUnsupported])
		}},
		{name: "location", raw: msg(`,"location":{"latitude":1.5,"longitude":2.5}`), check: func(t *testing.T, ev event) {
			require.Equal(t, "location", ev.Inbound.Meta[bot.MetaUnsupported])
		}},
		{name: "unknown content", raw: msg(`,"giveaway":{"chats":[]}`), check: func(t *testing.T, ev event) {
			require.Equal(t, "other", ev.Inbound.Meta[bot.MetaUnsupported])
		}},
		{name: "group", raw: `{"update_id":7,"message":{"message_id":3,` + from + `,"chat":{"id":-100,"type":"group"},"date":1,"text":"hi"}}`,
			ignored: "group_message"},
		{name: "supergroup", raw: `{"update_id":7,"message":{"message_id":3,` + from + `,"chat":{"id":-100,"type":"supergroup"},"date":1,"text":"hi"}}`,
			ignored: "group_message"},
		{name: "channel post", raw: `{"update_id":7,"channel_post":{"message_id":3,"chat":{"id":-100,"type":"channel"},"date":1,"text":"hi"}}`,
			ignored: "channel_post"},
		{name: "edited", raw: `{"update_id":7,"edited_message":{"message_id":3,` + from + `,` + chat + `,"date":1,"edit_date":2,"text":"hi"}}`,
			check: func(t *testing.T, ev event) {
				require.Equal(t, "hi", ev.Inbound.Text)
				require.Equal(t, "9:42:3:edit:2", ev.Inbound.MessageID, "each edit is a message of its own")
				require.Equal(t, "true", ev.Inbound.Meta[bot.MetaEdited])
				require.Equal(t, time.Unix(2, 0).UTC(), ev.Inbound.Time)
			}},
		{name: "edited caption", raw: `{"update_id":7,"edited_message":{"message_id":3,` + from + `,` + chat +
			`,"date":1,"edit_date":2,"photo":[{"file_id":"x","width":1,"height":1}],"caption":"worse now"}}`,
			check: func(t *testing.T, ev event) {
				require.Equal(t, "worse now", ev.Inbound.Text)
				require.Equal(t, "true", ev.Inbound.Meta[bot.MetaEdited])
				require.Equal(t, "photo", ev.Inbound.Meta[bot.MetaUnsupported])
			}},
		{name: "edit without words", raw: `{"update_id":7,"edited_message":{"message_id":3,` + from + `,` + chat +
			`,"date":1,"edit_date":2,"photo":[{"file_id":"x","width":1,"height":1}]}}`, ignored: "edited_message"},
		{name: "edited in a group", raw: `{"update_id":7,"edited_message":{"message_id":3,` + from + `,"chat":{"id":-100,"type":"group"},"date":1,"edit_date":2,"text":"hi"}}`,
			ignored: "group_message"},
		{name: "edited channel post", raw: `{"update_id":7,"edited_channel_post":{"message_id":3,"chat":{"id":-100,"type":"channel"},"date":1,"edit_date":2,"text":"hi"}}`,
			ignored: "edited_channel_post"},
		{name: "unknown kind", raw: `{"update_id":7,"message_reaction":{"chat":{"id":1,"type":"private"}}}`, ignored: "message_reaction"},
		{name: "future kind", raw: `{"update_id":7,"hologram":{}}`, ignored: "other"},
		{name: "from a bot", raw: `{"update_id":7,"message":{"message_id":3,"from":{"id":5,"is_bot":true,"first_name":"B"},` + chat + `,"date":1,"text":"hi"}}`,
			ignored: "from_bot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := decodeUpdate([]byte(tc.raw))
			require.NoError(t, err)
			require.EqualValues(t, 7, u.ID)
			ev := mapUpdate(u, "9")
			if tc.ignored != "" {
				require.Equal(t, tc.ignored, ev.Ignored)
				require.Nil(t, ev.Inbound)
				return
			}
			require.Empty(t, ev.Ignored)
			require.NotNil(t, ev.Inbound)
			tc.check(t, ev)
		})
	}
}

func TestMapCallback(t *testing.T) {
	t.Parallel()
	raw := `{"update_id":8,"callback_query":{"id":"cbq1","from":{"id":42,"is_bot":false,"first_name":"Ana","language_code":"en"},
		"chat_instance":"x","data":"menu:topic:costs","message":{"message_id":10,"from":{"id":9,"is_bot":true,"first_name":"T"},
		"chat":{"id":42,"type":"private"},"date":1,"text":"How can I help?",
		"reply_markup":{"inline_keyboard":[[{"text":"Costs","callback_data":"menu:topic:costs"},{"text":"Insurance","callback_data":"menu:topic:insurance"}]]}}}}`
	u, err := decodeUpdate([]byte(raw))
	require.NoError(t, err)
	ev := mapUpdate(u, "9")
	require.Equal(t, "cbq1", ev.CallbackID)
	require.Equal(t, "menu:topic:costs", ev.Inbound.Payload)
	require.Equal(t, "Costs", ev.Inbound.Text)
	require.Equal(t, "42", ev.Inbound.ChatID)
	require.Equal(t, "9:cb:cbq1", ev.Inbound.MessageID)

	// A press in a group is not a conversation, but is still answered.
	groupRaw := `{"update_id":9,"callback_query":{"id":"cbq2","from":{"id":42,"is_bot":false,"first_name":"Ana"},"data":"x",
		"message":{"message_id":1,"chat":{"id":-5,"type":"group"},"date":1}}}`
	u, err = decodeUpdate([]byte(groupRaw))
	require.NoError(t, err)
	ev = mapUpdate(u, "9")
	require.Equal(t, "group_message", ev.Ignored)
	require.Equal(t, "cbq2", ev.CallbackID)

	// Without the message (too old), the chat is the user's own.
	noMsg := `{"update_id":10,"callback_query":{"id":"cbq3","from":{"id":42,"is_bot":false,"first_name":"Ana"},"data":"-"}}`
	u, err = decodeUpdate([]byte(noMsg))
	require.NoError(t, err)
	ev = mapUpdate(u, "9")
	require.Equal(t, "42", ev.Inbound.ChatID)
	require.True(t, ev.Callback.LabelOnly)
	require.Equal(t, "button", ev.Inbound.Meta[bot.MetaUnsupported])
}

func TestDecodeUpdateErrors(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{``, `null`, `[]`, `"x"`, `{}`, `{"update_id":"7"}`, `{"update_id":-1}`, `{"update_id":7`} {
		_, err := decodeUpdate([]byte(raw))
		require.ErrorIs(t, err, errMalformed, raw)
	}
	// The id is readable but the content is not: the caller can step past it.
	for _, raw := range []string{`{"update_id":7,"message":5}`, `{"update_id":7,"message":null}`,
		`{"update_id":7,"callback_query":{"from":{"id":1}}}`, `{"update_id":7,"message":{"chat":{"id":"x"}}}`} {
		u, err := decodeUpdate([]byte(raw))
		require.ErrorIs(t, err, errBadContent, raw)
		require.EqualValues(t, 7, u.ID)
	}
}
