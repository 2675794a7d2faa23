package telegram

import (
	"net"
	"net/url"
	"strings"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/tend-health/tend/bot"
)

// outMessage is one sendMessage call.
type outMessage struct {
	HTML  string // the text in HTML parse mode
	Plain string // the same without markup, sent if Telegram refuses the HTML
	// Markup is a tgbotapi.InlineKeyboardMarkup, a tgbotapi.ReplyKeyboardMarkup or nil.
	Markup any
}

// labels are the channel's own sentences, in the patient's language.
type labels struct {
	SharePhone  string // the request_contact button
	SharePrompt string // the text above it when it needs a message of its own
	Choose      string // the text of a message that is only buttons
}

// rendering is a reply as Telegram messages, plus the long button payloads
// to store (key -> payload) before the buttons are sent.
type rendering struct {
	Messages []outMessage
	Stored   map[string]string
}

// Keyboard layout: phones show about two short labels side by side.
const (
	maxKeyboardRows = 8
	maxFromRunes    = 64
)

// renderReply turns an engine reply into Telegram messages: text escaped
// for HTML and split under the length limit, buttons as an inline keyboard
// on the last part, links as URL buttons (or text when Telegram would
// refuse the URL), and a one-time "share my phone number" keyboard when
// the reply asks for the patient's number.
func renderReply(r bot.Reply, l labels) rendering {
	var out rendering
	text := strings.TrimSpace(r.Text)
	markup, textLinks, stored := inlineKeyboard(r.Buttons, r.Links)
	out.Stored = stored
	for _, lk := range textLinks {
		text += "\n\n" + strings.TrimSpace(lk.Label) + ": " + lk.URL
	}
	text = strings.TrimSpace(text)

	from := strings.TrimSpace(r.From)
	if utf8.RuneCountInString(from) > maxFromRunes {
		from = string([]rune(from)[:maxFromRunes])
	}
	var prefixHTML, prefixPlain string
	if from != "" {
		prefixHTML, prefixPlain = "<b>"+escapeHTML(from)+"</b>\n", from+":\n"
	}

	var contact *tgbotapi.ReplyKeyboardMarkup
	if r.RequestContact {
		kb := tgbotapi.NewOneTimeReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact(l.SharePhone)))
		kb.ResizeKeyboard = true
		contact = &kb
	}
	if text == "" {
		switch {
		case markup != nil:
			text = l.Choose
		case contact != nil:
			text = l.SharePrompt
		case from == "":
			return out // nothing to show
		}
	}

	parts := splitText(text, maxMessageLen-utf16Len(prefixPlain))
	if len(parts) == 0 {
		parts = []string{""}
	}
	for i, p := range parts {
		m := outMessage{HTML: escapeHTML(p), Plain: p}
		if i == 0 {
			m.HTML, m.Plain = strings.TrimSpace(prefixHTML+m.HTML), strings.TrimSpace(prefixPlain+m.Plain)
		}
		out.Messages = append(out.Messages, m)
	}
	last := &out.Messages[len(out.Messages)-1]
	switch {
	case markup != nil:
		last.Markup = *markup
		if contact != nil {
			// One message carries one keyboard: the phone button gets its own.
			out.Messages = append(out.Messages, outMessage{HTML: escapeHTML(l.SharePrompt), Plain: l.SharePrompt, Markup: *contact})
		}
	case contact != nil:
		last.Markup = *contact
	}
	return out
}

// inlineKeyboard lays out the buttons (and the links Telegram accepts as
// URL buttons); links it cannot show as buttons are returned for the text.
func inlineKeyboard(buttons []bot.Button, links []bot.Link) (*tgbotapi.InlineKeyboardMarkup, []bot.Link, map[string]string) {
	var stored map[string]string
	var cells []tgbotapi.InlineKeyboardButton
	for _, b := range buttons {
		label := strings.TrimSpace(b.Label)
		if label == "" {
			label = b.Payload
		}
		if label == "" {
			continue
		}
		data, key, store := encodeCallback(b.Payload)
		if store {
			if stored == nil {
				stored = map[string]string{}
			}
			stored[key] = b.Payload
		}
		cells = append(cells, tgbotapi.NewInlineKeyboardButtonData(label, data))
	}
	rows := layoutRows(cells)
	var textLinks []bot.Link
	for _, lk := range links {
		if !buttonURL(lk.URL) || strings.TrimSpace(lk.Label) == "" {
			if lk.URL != "" {
				textLinks = append(textLinks, lk)
			}
			continue
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonURL(strings.TrimSpace(lk.Label), lk.URL)))
	}
	if len(rows) == 0 {
		return nil, textLinks, stored
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return &kb, textLinks, stored
}

// layoutRows packs buttons into rows: two short labels side by side, long
// ones alone; if that makes more than maxKeyboardRows rows, more per row.
func layoutRows(cells []tgbotapi.InlineKeyboardButton) [][]tgbotapi.InlineKeyboardButton {
	if len(cells) == 0 {
		return nil
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, l := range []struct{ perRow, width int }{{2, 32}, {3, 42}, {4, 1 << 30}, {8, 1 << 30}} {
		rows = packRows(cells, l.perRow, l.width)
		if len(rows) <= maxKeyboardRows {
			break
		}
	}
	return rows
}

func packRows(cells []tgbotapi.InlineKeyboardButton, perRow, width int) [][]tgbotapi.InlineKeyboardButton {
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	used := 0
	for _, c := range cells {
		w := utf8.RuneCountInString(c.Text) + 4 // padding around a label
		if len(row) > 0 && (len(row) >= perRow || used+w > width) {
			rows = append(rows, row)
			row, used = nil, 0
		}
		row = append(row, c)
		used += w
	}
	return append(rows, row)
}

// buttonURL reports whether Telegram will take the URL for a URL button:
// it refuses buttons to hosts it cannot reach (localhost, bare names).
func buttonURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsUnspecified()
	}
	return strings.Contains(host, ".") && !strings.HasSuffix(host, ".localhost") && !strings.HasSuffix(host, ".local")
}
