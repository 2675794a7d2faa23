package whatsapp

import (
	"strings"
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/textutil"
)

// unsupportedTypes are patient messages the bot cannot read: the patient is
// told politely (the engine's "input.unsupported"), nothing is dropped.
var unsupportedTypes = map[string]bool{
	"image": true, "audio": true, "voice": true, "video": true, "document": true, "sticker": true,
	"location": true, "contacts": true, "order": true, "unsupported": true, "unknown": true,
}

// silentTypes are events that need no answer: a reaction to one of our
// messages, a system notice (the patient changed number), a welcome request.
var silentTypes = map[string]bool{"reaction": true, "system": true, "request_welcome": true, "ephemeral": true}

// skip reasons, as counted in tend_unknown_updates_total{channel="whatsapp"}.
const (
	skipNoSender   = "no_sender"
	skipNoID       = "no_message_id"
	skipUnknown    = "message_type"
	skipOtherPhone = "other_phone_number"
	skipEdit       = "edit" // an edit with no words
)

// toInbound maps one webhook message to the engine's model. skip is
// non-empty when the message is not for the engine (counted by the caller
// under that reason, or under the message type for silent events).
func toInbound(m message, names map[string]string) (in bot.Inbound, skip string) {
	if m.ID == "" {
		return in, skipNoID
	}
	if !isWaID(m.From) {
		return in, skipNoSender
	}
	in = bot.Inbound{
		Channel: Channel, ChatID: m.From, SenderID: m.From, MessageID: m.ID, Time: unixTime(m.Timestamp),
		// WhatsApp vouches for the sender's number: it is the account's own.
		Meta: map[string]string{bot.MetaPhone: "+" + m.From},
	}
	if first := firstName(names[m.From]); first != "" {
		in.Meta[bot.MetaFirstName] = first
	}
	switch {
	case m.Type == "text" && m.Text != nil:
		in.Text = m.Text.Body
	case m.Type == "interactive" && m.Interactive != nil:
		payload, title, ok := parseInteractive(*m.Interactive)
		if !ok {
			in.Meta[bot.MetaUnsupported] = "interactive:" + clip(m.Interactive.Type, 32)
			sanitize(&in)
			return in, ""
		}
		in.Payload, in.Text = payload, title
	case m.Type == "button" && m.Button != nil:
		// A template's quick-reply button: its payload was set when the
		// template was approved, not by a dialog, so only its words count.
		in.Text = m.Button.Text
	case unsupportedTypes[m.Type]:
		in.Meta[bot.MetaUnsupported] = m.Type
		// The caption is what the patient wrote with the photo, video or
		// document: the engine reads it as the message (safety checks
		// first) and says it cannot see the attachment itself.
		in.Text = m.caption()
	case m.Type == "edit":
		// The new words go through the engine's guards (triage first): an
		// edit that turns into an emergency gets the emergency reply;
		// nothing else answers it (the original was answered).
		words, kind := editWords(m.Edit)
		if strings.TrimSpace(textutil.Clean(words, bot.MaxStoredRunes)) == "" {
			return bot.Inbound{}, skipEdit
		}
		in.Text = words
		in.Meta[bot.MetaEdited] = "true"
		if kind != "" {
			in.Meta[bot.MetaUnsupported] = kind
		}
	case silentTypes[m.Type]:
		return bot.Inbound{}, m.Type
	default:
		return bot.Inbound{}, skipUnknown
	}
	sanitize(&in)
	return in, ""
}

// editWords are the words of an edited message, and the kind of its
// attachment when it has one.
func editWords(e *editBody) (words, kind string) {
	if e == nil || e.Message == nil {
		return "", ""
	}
	m := e.Message
	switch {
	case m.Type == "text" && m.Text != nil:
		return m.Text.Body, ""
	case unsupportedTypes[m.Type]:
		return m.caption(), m.Type
	}
	return "", ""
}

// parseInteractive reads a reply button or list row choice: the id is the
// button's payload (as Tend sent it), the title its label.
func parseInteractive(i interactive) (payload, title string, ok bool) {
	var c *replyChoice
	switch i.Type {
	case "button_reply":
		c = i.ButtonReply
	case "list_reply":
		c = i.ListReply
	}
	if c == nil {
		return "", "", false
	}
	payload = strings.TrimSpace(c.ID)
	if payload == "" || len(payload) > bot.MaxPayloadBytes || !utf8.ValidString(payload) {
		return "", "", false
	}
	return payload, c.Title, true
}

// isWaID reports whether s looks like a WhatsApp id: the sender's phone
// number in international form, digits only.
func isWaID(s string) bool {
	if len(s) < 5 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func firstName(profile string) string {
	f := strings.Fields(profile)
	if len(f) == 0 {
		return ""
	}
	return clip(f[0], 64)
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// optionNumber reads a reply like "3", "3." or " 3) " as a choice from a
// numbered list; 0 when the text is anything else.
func optionNumber(text string) int {
	s := strings.TrimSpace(text)
	s = strings.TrimRight(s, ".) ")
	if len(s) == 0 || len(s) > 2 {
		return 0
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// pickOption maps a typed number to one of the numbered options shown. When
// the options are numbers themselves (a 0-10 scale), the number means the
// option with that label, not the one in that position.
func pickOption(opts []bot.Button, text string, n int) (bot.Button, bool) {
	typed := strings.TrimRight(strings.TrimSpace(text), ".) ")
	if numericLabels(opts) {
		for _, b := range opts {
			if strings.TrimSpace(b.Label) == typed {
				return b, true
			}
		}
		return bot.Button{}, false
	}
	if n >= 1 && n <= len(opts) {
		return opts[n-1], true
	}
	return bot.Button{}, false
}

// numericLabels reports whether every option's label is a whole number.
func numericLabels(opts []bot.Button) bool {
	if len(opts) == 0 {
		return false
	}
	for _, b := range opts {
		l := strings.TrimSpace(b.Label)
		if l == "" || len(l) > 3 {
			return false
		}
		for _, r := range l {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}
