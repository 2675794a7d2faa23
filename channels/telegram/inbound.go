package telegram

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/textutil"
)

// event is what one update asks of the channel: a message to record, a
// callback query to answer, or nothing (ignored, with the reason).
type event struct {
	Inbound    *bot.Inbound
	Callback   callbackData // for a button press: what its callback_data means
	CallbackID string       // answer this callback query, whatever else happens
	Ignored    string       // why nothing is recorded (a metric label)
}

// Payloads and texts that Telegram's standard commands stand for.
const (
	payloadStart = "menu:welcome"
	payloadHelp  = "menu:main"
	textStop     = "STOP"
)

// mapUpdate turns an update into an event. Only private chats with a
// patient are conversations: groups, channels and everything else are
// ignored. botID keeps message ids of different bots apart. Every text of
// the message it returns has been made valid (sanitize).
func mapUpdate(u update, botID string) event {
	var ev event
	switch {
	case u.Message != nil && u.Kind == "edited_message":
		ev = mapEdit(u.Message, botID)
	case u.Message != nil:
		ev = mapMessage(u.Message, botID)
	case u.Callback != nil:
		ev = mapCallback(u.Callback, botID)
	case u.Kind == "message" || u.Kind == "callback_query" || u.Kind == "edited_message":
		ev = event{Ignored: "malformed"}
	default:
		ev = event{Ignored: u.Kind}
	}
	if ev.Inbound != nil {
		sanitize(ev.Inbound)
	}
	return ev
}

// chatOf is the chat an update belongs to, as its messages' ChatID ("" when
// it has none): updates of one chat are recorded in order.
func chatOf(u update) string {
	switch {
	case u.Message != nil:
		return strconv.FormatInt(u.Message.Chat.ID, 10)
	case u.Callback != nil && u.Callback.Message != nil:
		return strconv.FormatInt(u.Callback.Message.Chat.ID, 10)
	case u.Callback != nil:
		return strconv.FormatInt(u.Callback.From.ID, 10)
	}
	return ""
}

func mapMessage(m *wireMessage, botID string) event {
	if ignored := chatIgnored(m.Chat); ignored != "" {
		return event{Ignored: ignored}
	}
	if m.From != nil && m.From.IsBot {
		return event{Ignored: "from_bot"}
	}
	in := baseInbound(m.Chat.ID, m.From, m.Date)
	in.MessageID = botID + ":" + strconv.FormatInt(m.Chat.ID, 10) + ":" + strconv.FormatInt(m.MessageID, 10)
	switch {
	case m.Contact != nil:
		// Only the patient's own number is vouched for by Telegram; a
		// contact card of someone else is just an attachment.
		if m.From != nil && m.Contact.UserID != 0 && m.Contact.UserID == m.From.ID {
			phone := normalizePhone(m.Contact.PhoneNumber)
			if phone != "" {
				in.Meta[bot.MetaPhone] = phone
				// The engine reads an empty message as "nothing sent", so the
				// shared number is also the message text.
				in.Text = phone
				break
			}
		}
		in.Meta[bot.MetaUnsupported] = "contact"
	case strings.HasPrefix(m.Text, "/"):
		mapCommand(&in, m.Text)
	case m.Text != "":
		in.Text = m.Text
	default:
		kind := m.unsupportedKind()
		if kind == "" {
			kind = "other"
		}
		in.Meta[bot.MetaUnsupported] = kind
		// The caption is what the patient wrote with the photo or file: the
		// engine reads it as the message (safety checks first) and says it
		// cannot see the attachment itself.
		in.Text = m.Caption
	}
	return event{Inbound: &in}
}

// mapEdit turns an edited message into a message for the safety checks:
// the engine runs its guards (triage first) on the new words, so an edit
// that turns into an emergency gets the emergency reply, and answers
// nothing else (the bot answered the original). An edit with no words
// (a photo swapped, a caption removed) is ignored.
func mapEdit(m *wireMessage, botID string) event {
	if ignored := chatIgnored(m.Chat); ignored != "" {
		return event{Ignored: ignored}
	}
	if m.From != nil && m.From.IsBot {
		return event{Ignored: "from_bot"}
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if strings.TrimSpace(textutil.Clean(text, bot.MaxStoredRunes)) == "" {
		return event{Ignored: "edited_message"}
	}
	date := m.EditDate
	if date <= 0 {
		date = m.Date
	}
	in := baseInbound(m.Chat.ID, m.From, date)
	// Each edit is a message of its own; a repeat of the same edit has the
	// same id and is dropped.
	in.MessageID = botID + ":" + strconv.FormatInt(m.Chat.ID, 10) + ":" + strconv.FormatInt(m.MessageID, 10) +
		":edit:" + strconv.FormatInt(m.EditDate, 10)
	in.Text = text
	in.Meta[bot.MetaEdited] = "true"
	if kind := m.unsupportedKind(); kind != "" {
		in.Meta[bot.MetaUnsupported] = kind
	}
	return event{Inbound: &in}
}

func mapCallback(cb *wireCallback, botID string) event {
	ev := event{}
	if len(cb.ID) <= maxCallbackData && bot.CleanID(cb.ID) == cb.ID {
		ev.CallbackID = cb.ID // anything else is no query Telegram made
	}
	chatID := cb.From.ID // a private chat's id is the user's
	if cb.Message != nil {
		if ignored := chatIgnored(cb.Message.Chat); ignored != "" {
			ev.Ignored = ignored
			return ev
		}
		chatID = cb.Message.Chat.ID
	}
	if chatID == 0 {
		ev.Ignored = "malformed"
		return ev
	}
	in := baseInbound(chatID, &cb.From, 0)
	in.MessageID = botID + ":cb:" + cb.ID
	ev.Callback = parseCallback(cb.Data)
	in.Payload = ev.Callback.Payload
	// The label is what the patient "said"; transcripts and staff see it.
	in.Text = cb.Message.buttonLabel(cb.Data)
	if ev.Callback.LabelOnly && in.Text == "" {
		in.Meta[bot.MetaUnsupported] = "button"
	}
	ev.Inbound = &in
	return ev
}

// chatIgnored says why a chat is not a patient conversation ("" if it is).
func chatIgnored(c wireChat) string {
	switch c.Type {
	case "private":
		if c.ID == 0 {
			return "malformed"
		}
		return ""
	case "group", "supergroup":
		return "group_message"
	case "channel":
		return "channel_post"
	default:
		return "other_chat"
	}
}

func baseInbound(chatID int64, from *wireUser, date int64) bot.Inbound {
	in := bot.Inbound{Channel: Channel, ChatID: strconv.FormatInt(chatID, 10), Meta: map[string]string{}}
	if from != nil {
		in.SenderID = strconv.FormatInt(from.ID, 10)
		in.Locale = from.LanguageCode
		if from.FirstName != "" {
			in.Meta[bot.MetaFirstName] = from.FirstName
		}
	}
	if in.SenderID == "" || in.SenderID == "0" {
		in.SenderID = in.ChatID
	}
	if date > 0 {
		in.Time = time.Unix(date, 0).UTC()
	}
	return in
}

// mapCommand maps Telegram's standard commands to what the engine knows;
// other commands are passed on as typed text.
func mapCommand(in *bot.Inbound, text string) {
	word, _, _ := strings.Cut(strings.TrimSpace(text), " ")
	word, _, _ = strings.Cut(word, "@") // "/start@clinic_bot" in a menu
	switch strings.ToLower(word) {
	case "/start":
		in.Text, in.Payload = "/start", payloadStart
	case "/help":
		in.Text, in.Payload = "/help", payloadHelp
	case "/stop":
		in.Text = textStop
	default:
		in.Text = text
	}
}

// normalizePhone keeps a leading + and the digits; Telegram sends numbers
// with or without the +, always in international form.
func normalizePhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) && r < 128 {
			b.WriteRune(r)
		}
	}
	if b.Len() < 5 || b.Len() > 15 {
		return ""
	}
	return "+" + b.String()
}
