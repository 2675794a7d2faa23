package whatsapp

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/textutil"
)

var webhookSeeds = []string{
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"1"},"contacts":[{"profile":{"name":"Maria Lopez"},"wa_id":"15551234567"}],"messages":[{"from":"15551234567","id":"wamid.A","timestamp":"1700000000","type":"text","text":{"body":"hi"}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"15551234567","id":"wamid.B","timestamp":"1","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"menu:topic:costs","title":"Costs","description":"x"}}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"15551234567","id":"wamid.C","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"","title":""}}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.D","status":"failed","timestamp":"x","errors":[{"code":131026}]}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"+1","id":"","type":"sticker"}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"contacts":[{"profile":{"name":"\u202eMa\u0000ria"},"wa_id":"15551234567"}],"messages":[{"from":"15551234567","id":"wamid.E\u0000","type":"image","image":{"caption":"chest\u0000 pain\u202e"}},{"from":"15551234567","id":"wamid.F","type":"edit","edit":{"original_message_id":"wamid.A","message":{"type":"text","text":{"body":"worse"}}}},{"id":5}]}}]}]}`,
	`{"entry":null}`, `[]`, `null`, `{"object":1}`, ``,
}

// FuzzWebhook: no body makes the decoder or the mapping panic, and what is
// accepted always satisfies the engine's expectations.
func FuzzWebhook(f *testing.F) {
	for _, s := range webhookSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := decodeWebhook(raw)
		if err != nil {
			return
		}
		for _, e := range doc.Entry {
			for _, c := range e.Changes {
				names := map[string]string{}
				for _, ct := range c.Value.Contacts {
					names[ct.WaID] = ct.Profile.Name
				}
				for _, raw := range c.Value.Messages {
					m, _, err := decodeMessage(raw)
					if err != nil {
						continue
					}
					in, skip := toInbound(m, names)
					if skip != "" {
						continue
					}
					for name, v := range map[string]string{"text": in.Text, "payload": in.Payload, "chat": in.ChatID,
						"message id": in.MessageID} {
						if textutil.Clean(v, 0) != v || !utf8.ValidString(v) {
							t.Fatalf("%s not made valid: %q", name, v)
						}
					}
					for k, v := range in.Meta {
						if textutil.CleanLine(v, bot.MaxMetaRunes) != v {
							t.Fatalf("meta %s not made valid: %q", k, v)
						}
					}
					if in.Channel != Channel || in.MessageID == "" || !isWaID(in.ChatID) || in.ChatID != in.SenderID {
						t.Fatalf("bad inbound %+v", in)
					}
					if len(in.Payload) > bot.MaxPayloadBytes {
						t.Fatalf("payload over the limit")
					}
					if in.Text == "" && in.Payload == "" && in.Meta[bot.MetaUnsupported] == "" {
						// Allowed: an empty text is answered "input.empty".
						_ = in
					}
				}
				for _, raw := range c.Value.Statuses {
					var s status
					if json.Unmarshal(raw, &s) == nil {
						_ = unixTime(s.Timestamp)
					}
				}
			}
		}
	})
}

// FuzzInteractive: any reply choice maps to a payload within the engine's
// limit, or is refused.
func FuzzInteractive(f *testing.F) {
	f.Add("button_reply", "menu:main", "Main menu")
	f.Add("list_reply", "booking:slot:2026-05-01T10:00", "Fri 10:00")
	f.Add("list_reply", "", "x")
	f.Add("nfm_reply", "a", "b")
	f.Add("button_reply", "\xff\xfe", "bad")
	f.Fuzz(func(t *testing.T, typ, id, title string) {
		c := &replyChoice{ID: id, Title: title}
		payload, gotTitle, ok := parseInteractive(interactive{Type: typ, ButtonReply: c, ListReply: c})
		if !ok {
			return
		}
		if payload == "" || len(payload) > bot.MaxPayloadBytes || !utf8.ValidString(payload) {
			t.Fatalf("accepted payload %q", payload)
		}
		if gotTitle != title {
			t.Fatalf("title changed")
		}
		raw, _ := json.Marshal(map[string]any{"type": typ, typ: c})
		var back interactive
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzRender: whatever a dialog says, what goes to WhatsApp keeps the API's
// limits.
func FuzzRender(f *testing.F) {
	f.Add("How can I help?", "Costs", "menu:topic:costs", 5, "")
	f.Add("", "A label well beyond twenty-four characters long", "p", 2, "Anna")
	f.Add(string(make([]byte, 5000)), "x", "", 12, "")
	f.Fuzz(func(t *testing.T, text, label, payload string, n int, from string) {
		if n < 0 || n > 20 {
			return
		}
		r := bot.Reply{Text: text, From: from}
		for i := 0; i < n; i++ {
			r.Buttons = append(r.Buttons, bot.Button{Label: label, Payload: payload + string(rune('a'+i))})
		}
		out := render(r, func(id string) string { return id })
		for _, p := range out.parts {
			switch p.Type {
			case "text":
				if c := utf8.RuneCountInString(p.Text.Body); c == 0 || c > maxTextBody {
					t.Fatalf("text of %d characters", c)
				}
			case "interactive":
				checkInteractive(t, p.Interactive)
			default:
				t.Fatalf("type %q", p.Type)
			}
		}
	})
}

func checkInteractive(t *testing.T, in *outInteractive) {
	t.Helper()
	if c := utf8.RuneCountInString(in.Body.Text); c == 0 || c > maxInteractiveBody {
		t.Fatalf("body of %d characters", c)
	}
	for _, b := range in.Action.Buttons {
		if c := utf8.RuneCountInString(b.Reply.Title); c == 0 || c > maxButtonTitle || len(b.Reply.ID) > maxButtonID {
			t.Fatalf("button %+v", b)
		}
	}
	if len(in.Action.Buttons) > maxReplyButtons {
		t.Fatalf("%d buttons", len(in.Action.Buttons))
	}
	for _, s := range in.Action.Sections {
		if len(s.Rows) > maxListRows {
			t.Fatalf("%d rows", len(s.Rows))
		}
		for _, r := range s.Rows {
			if c := utf8.RuneCountInString(r.Title); c == 0 || c > maxRowTitle || len(r.ID) > maxRowID ||
				utf8.RuneCountInString(r.Description) > maxRowDescription {
				t.Fatalf("row %+v", r)
			}
		}
	}
}
