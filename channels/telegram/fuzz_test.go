package telegram

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/textutil"
)

// FuzzDecodeUpdate feeds arbitrary bodies to the webhook/poller decoder and
// the mapping after it: they may refuse input, never panic, and whatever
// they accept becomes a well-formed inbound message.
func FuzzDecodeUpdate(f *testing.F) {
	for _, seed := range []string{
		`{"update_id":1,"message":{"message_id":2,"from":{"id":3,"is_bot":false,"first_name":"A","language_code":"en"},"chat":{"id":3,"type":"private"},"date":1,"text":"hi"}}`,
		`{"update_id":1,"message":{"message_id":2,"from":{"id":3},"chat":{"id":3,"type":"private"},"date":1,"contact":{"phone_number":"+1 555","user_id":3}}}`,
		`{"update_id":1,"message":{"message_id":2,"chat":{"id":3,"type":"private"},"photo":[{}]}}`,
		`{"update_id":1,"callback_query":{"id":"q","from":{"id":3},"data":"~AAAAAAAAAAAAAAAAAAAAAA","message":{"chat":{"id":3,"type":"private"},"reply_markup":{"inline_keyboard":[[{"text":"x","callback_data":"a"}]]}}}}`,
		`{"update_id":1,"edited_message":{}}`, `{"update_id":1,"x":1,"y":2}`, `{"update_id":1e3}`, `{"update_id":1,"message":{"text":"/start@"}}`,
		`{"update_id":1,"edited_message":{"message_id":2,"chat":{"id":3,"type":"private"},"edit_date":5,"caption":"a\u0000\u202eb"}}`,
		"{\"update_id\":1,\"message\":{\"message_id\":2,\"from\":{\"id\":3,\"first_name\":\"\xff\\u0000\",\"language_code\":\"e\\u202en\"},\"chat\":{\"id\":3,\"type\":\"private\"},\"text\":\"\\u0000\"}}",
		`[]`, `null`, `{"update_id":99999999999999999999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		u, err := decodeUpdate(raw)
		if err != nil {
			return
		}
		if u.ID < 0 {
			t.Fatalf("negative update id %d accepted", u.ID)
		}
		ev := mapUpdate(u, "1")
		if ev.Ignored != "" {
			if ev.Inbound != nil {
				t.Fatal("an ignored update produced a message")
			}
			return
		}
		if ev.Inbound == nil {
			t.Fatal("neither ignored nor a message")
		}
		in := ev.Inbound
		if in.Channel != Channel || in.ChatID == "" || in.ChatID == "0" || in.MessageID == "" || in.SenderID == "" {
			t.Fatalf("incomplete inbound: %+v", in)
		}
		if in.Meta[bot.MetaPhone] != "" && !strings.HasPrefix(in.Meta[bot.MetaPhone], "+") {
			t.Fatalf("phone not normalized: %q", in.Meta[bot.MetaPhone])
		}
		for name, v := range map[string]string{"text": in.Text, "payload": in.Payload, "locale": in.Locale,
			"chat": in.ChatID, "sender": in.SenderID, "message id": in.MessageID} {
			if textutil.Clean(v, 0) != v || !utf8.ValidString(v) {
				t.Fatalf("%s not made valid: %q", name, v)
			}
		}
		for k, v := range in.Meta {
			if textutil.CleanLine(v, bot.MaxMetaRunes) != v {
				t.Fatalf("meta %s not made valid: %q", k, v)
			}
		}
		sent := "" // the words as sent, before cleaning
		if u.Message != nil {
			sent = u.Message.Text
		}
		if in.Text == "" && in.Payload == "" && in.Meta[bot.MetaUnsupported] == "" && ev.Callback.StoredKey == "" &&
			textutil.Clean(sent, 0) == sent {
			t.Fatalf("an empty message must say what it was: %+v", in)
		}
	})
}

// FuzzCallbackData checks that any payload gets valid callback_data that
// reads back to it, and that any callback_data a client sends is read
// without panicking.
func FuzzCallbackData(f *testing.F) {
	for _, seed := range []string{"menu:main", "", "-", "~", "~AAAAAAAAAAAAAAAAAAAAAA", strings.Repeat("z", 70), "booking:slot:2026-11-20T10:00:dr-lee", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = parseCallback(s)
		data, key, stored := encodeCallback(s)
		if len(data) == 0 || len(data) > maxCallbackData || !utf8.ValidString(data) {
			t.Fatalf("invalid callback_data %q for %q", data, s)
		}
		got := parseCallback(data)
		switch {
		case s == "":
			if !got.LabelOnly {
				t.Fatalf("empty payload read back as %+v", got)
			}
		case stored:
			if got.StoredKey != key {
				t.Fatalf("stored key %q read back as %+v", key, got)
			}
		default:
			if got.Payload != s {
				t.Fatalf("payload %q read back as %+v", s, got)
			}
		}
	})
}
