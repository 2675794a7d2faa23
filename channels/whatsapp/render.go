package whatsapp

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
)

// Cloud API limits, in characters, for the messages Tend sends.
const (
	maxTextBody        = 4096
	maxInteractiveBody = 1024
	maxReplyButtons    = 3
	maxButtonTitle     = 20
	maxButtonID        = 256
	maxListRows        = 10
	maxRowTitle        = 24
	maxRowDescription  = 72
	maxRowID           = 200
	maxListButton      = 20
)

// rendered is a reply as WhatsApp messages (without the recipient), plus
// the options shown as numbered text, which a typed number maps back to.
type rendered struct {
	parts    []outMessage
	numbered []bot.Button
}

// render turns a reply into WhatsApp messages: text split under the limit,
// buttons as reply buttons (up to 3 short labels), as a list (up to 10), or
// as numbered options in the text beyond that. say looks up the channel's
// own catalog sentences in the patient's language.
func render(r bot.Reply, say func(id string) string) rendered {
	text := composeText(r)
	var out rendered
	switch interactiveKind(r.Buttons) {
	case "":
		out.parts = textParts(text, len(r.Links) > 0)
	case "numbered":
		var b strings.Builder
		b.WriteString(text)
		if text != "" {
			b.WriteString("\n\n")
		}
		if numericLabels(r.Buttons) {
			// A scale: the numbers are the answers, listed as they are.
			labels := make([]string, len(r.Buttons))
			for i, btn := range r.Buttons {
				labels[i] = strings.TrimSpace(btn.Label)
			}
			b.WriteString(strings.Join(labels, " · "))
			b.WriteString("\n")
		} else {
			for i, btn := range r.Buttons {
				fmt.Fprintf(&b, "%d. %s\n", i+1, strings.TrimSpace(btn.Label))
			}
		}
		b.WriteString("\n")
		b.WriteString(say("whatsapp.reply_with_number"))
		out.parts = textParts(b.String(), len(r.Links) > 0)
		out.numbered = r.Buttons
	case "button":
		body := interactiveBody(text, say, &out)
		buttons := make([]outButton, len(r.Buttons))
		for i, btn := range r.Buttons {
			buttons[i] = outButton{Type: "reply", Reply: outReply{ID: btn.Payload, Title: strings.TrimSpace(btn.Label)}}
		}
		out.parts = append(out.parts, outMessage{Type: "interactive", Interactive: &outInteractive{
			Type: "button", Body: outBody{Text: body}, Action: outAction{Buttons: buttons}}})
	case "list":
		body := interactiveBody(text, say, &out)
		rows := make([]outRow, len(r.Buttons))
		for i, btn := range r.Buttons {
			rows[i] = listRow(btn)
		}
		out.parts = append(out.parts, outMessage{Type: "interactive", Interactive: &outInteractive{
			Type: "list", Body: outBody{Text: body},
			Action: outAction{Button: shorten(say("whatsapp.list_button"), maxListButton), Sections: []outSection{{Rows: rows}}}}})
	}
	return out
}

// composeText is the reply's words as the patient reads them: a staff
// member's name first, links after.
func composeText(r bot.Reply) string {
	text := strings.TrimSpace(strings.ToValidUTF8(r.Text, "\uFFFD"))
	if r.From != "" {
		text = "*" + strings.TrimSpace(r.From) + ":* " + text
	}
	for _, l := range r.Links {
		if l.URL == "" {
			continue
		}
		if text != "" {
			text += "\n"
		}
		if l.Label != "" && l.Label != l.URL {
			text += l.Label + ": " + l.URL
		} else {
			text += l.URL
		}
	}
	return text
}

// interactiveKind chooses how buttons are shown.
func interactiveKind(buttons []bot.Button) string {
	n := len(buttons)
	switch {
	case n == 0:
		return ""
	case n <= maxReplyButtons && uniquePayloads(buttons, maxButtonID) && shortLabels(buttons):
		return "button"
	case n <= maxListRows && uniquePayloads(buttons, maxRowID):
		return "list"
	}
	return "numbered"
}

// uniquePayloads: ids must be non-empty, unique and within the limit,
// or a tap could not be told apart; such buttons become numbered text.
func uniquePayloads(buttons []bot.Button, max int) bool {
	seen := make(map[string]bool, len(buttons))
	for _, b := range buttons {
		if b.Payload == "" || len(b.Payload) > max || seen[b.Payload] {
			return false
		}
		seen[b.Payload] = true
	}
	return true
}

// shortLabels: reply buttons show at most 20 characters, and two buttons
// may not share a title.
func shortLabels(buttons []bot.Button) bool {
	seen := make(map[string]bool, len(buttons))
	for _, b := range buttons {
		l := strings.TrimSpace(b.Label)
		if l == "" || utf8.RuneCountInString(l) > maxButtonTitle || seen[l] {
			return false
		}
		seen[l] = true
	}
	return true
}

// listRow fits a button into a list row: a label too long for the title is
// cut at a word and shown whole in the description.
func listRow(b bot.Button) outRow {
	label := strings.TrimSpace(b.Label)
	if label == "" {
		label = "…"
	}
	row := outRow{ID: b.Payload, Title: label}
	if utf8.RuneCountInString(label) > maxRowTitle {
		row.Title = shorten(label, maxRowTitle)
		row.Description = shorten(label, maxRowDescription)
	}
	return row
}

// interactiveBody returns the text that fits an interactive message's
// body; longer text goes out first as text messages of its own.
func interactiveBody(text string, say func(string) string, out *rendered) string {
	if text != "" && utf8.RuneCountInString(text) <= maxInteractiveBody {
		return text
	}
	if text != "" {
		out.parts = append(out.parts, textParts(text, false)...)
	}
	return shorten(say("whatsapp.choose"), maxInteractiveBody)
}

func textParts(text string, preview bool) []outMessage {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	chunks := splitText(text, maxTextBody)
	parts := make([]outMessage, len(chunks))
	for i, c := range chunks {
		parts[i] = outMessage{Type: "text", Text: &outText{Body: c, PreviewURL: preview}}
	}
	return parts
}

// splitText cuts text into pieces of at most max characters, preferring
// paragraph, line, sentence and word boundaries, in that order.
func splitText(text string, max int) []string {
	var out []string
	rest := strings.TrimSpace(text)
	for utf8.RuneCountInString(rest) > max {
		window := rest[:runeOffset(rest, max)]
		cut := -1
		for _, sep := range []string{"\n\n", "\n", ". ", "? ", "! ", " "} {
			if i := strings.LastIndex(window, sep); i > len(window)/2 {
				cut = i + len(sep)
				break
			}
		}
		if cut <= 0 {
			cut = len(window) // one long word: cut it
		}
		if piece := strings.TrimSpace(rest[:cut]); piece != "" {
			out = append(out, piece)
		}
		rest = strings.TrimSpace(rest[cut:])
	}
	if rest != "" {
		out = append(out, rest)
	}
	return out
}

// runeOffset is the byte offset of the n-th rune of s.
func runeOffset(s string, n int) int {
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}

// shorten fits s into max characters, cutting at a word where it can and
// marking the cut with an ellipsis.
func shorten(s string, max int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	cut := string(r)
	if i := strings.LastIndex(cut, " "); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:-") + "…"
}
