package telegramtest

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Message is a message the bot sent, as the patient sees it.
type Message struct {
	ChatID    int64
	MessageID int64
	// Text is what the patient reads: tags removed and entities decoded.
	Text string
	// Raw is the text as sent, with its markup.
	Raw       string
	ParseMode string
	Markup    *Markup
	// JSON is the message object the fake returned (and puts in callback queries).
	JSON map[string]any
}

// Markup is a reply_markup as sent.
type Markup struct {
	InlineKeyboard [][]InlineButton   `json:"inline_keyboard,omitempty"`
	Keyboard       [][]KeyboardButton `json:"keyboard,omitempty"`
	OneTime        bool               `json:"one_time_keyboard,omitempty"`
	Resize         bool               `json:"resize_keyboard,omitempty"`
	Remove         bool               `json:"remove_keyboard,omitempty"`
}

// InlineButton is a button under a message.
type InlineButton struct {
	Text         string  `json:"text"`
	CallbackData *string `json:"callback_data,omitempty"`
	URL          *string `json:"url,omitempty"`
}

// KeyboardButton is a reply keyboard button.
type KeyboardButton struct {
	Text           string `json:"text"`
	RequestContact bool   `json:"request_contact,omitempty"`
}

// Labels are the inline buttons' labels, row by row flattened.
func (m Message) Labels() []string {
	if m.Markup == nil {
		return nil
	}
	var out []string
	for _, row := range m.Markup.InlineKeyboard {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// Data are the inline buttons' callback_data, flattened ("" for URL buttons).
func (m Message) Data() []string {
	if m.Markup == nil {
		return nil
	}
	var out []string
	for _, row := range m.Markup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != nil {
				out = append(out, *b.CallbackData)
			} else {
				out = append(out, "")
			}
		}
	}
	return out
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	chatID, err := strconv.ParseInt(r.Form.Get("chat_id"), 10, 64)
	if err != nil {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: chat_id is empty"})
		return
	}
	raw := r.Form.Get("text")
	mode := r.Form.Get("parse_mode")
	text := raw
	if mode != "" {
		if !strings.EqualFold(mode, "HTML") {
			writeErr(w, Failure{Status: 400, Description: "Bad Request: unsupported parse_mode in this fake: " + mode})
			return
		}
		if text, err = parseHTML(raw); err != nil {
			writeErr(w, Failure{Status: 400, Description: "Bad Request: can't parse entities: " + err.Error()})
			return
		}
	}
	if strings.TrimSpace(text) == "" {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: message text is empty"})
		return
	}
	if len(utf16.Encode([]rune(text))) > 4096 {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: message is too long"})
		return
	}
	var markup *Markup
	if rm := r.Form.Get("reply_markup"); rm != "" {
		markup = &Markup{}
		if err := json.Unmarshal([]byte(rm), markup); err != nil {
			writeErr(w, Failure{Status: 400, Description: "Bad Request: can't parse reply keyboard markup JSON object"})
			return
		}
		if desc := checkMarkup(markup); desc != "" {
			writeErr(w, Failure{Status: 400, Description: "Bad Request: " + desc})
			return
		}
	}
	s.mu.Lock()
	switch {
	case s.blocked[chatID]:
		s.mu.Unlock()
		writeErr(w, Blocked)
		return
	case s.gone[chatID] || chatID <= 0:
		s.mu.Unlock()
		writeErr(w, NotFound)
		return
	}
	s.nextMsgID[chatID]++
	msgID := s.nextMsgID[chatID] // one sequence per chat, shared with the patient's messages
	obj := map[string]any{
		"message_id": msgID,
		"from":       map[string]any{"id": BotID, "is_bot": true, "first_name": "Tend Test", "username": BotUsername},
		"chat":       map[string]any{"id": chatID, "type": "private"},
		"date":       time.Now().Unix(),
		"text":       text,
	}
	if markup != nil && len(markup.InlineKeyboard) > 0 {
		obj["reply_markup"] = map[string]any{"inline_keyboard": markup.InlineKeyboard}
	}
	m := Message{ChatID: chatID, MessageID: msgID, Text: text, Raw: raw, ParseMode: mode, Markup: markup, JSON: obj}
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	if s.OnSend != nil {
		s.OnSend(m)
	}
	writeOK(w, obj)
}

// checkMarkup applies Telegram's rules for keyboards ("" when valid).
func checkMarkup(m *Markup) string {
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			switch {
			case b.Text == "":
				return "text buttons are unallowed in the inline keyboard"
			case b.CallbackData != nil && (len(*b.CallbackData) < 1 || len(*b.CallbackData) > 64):
				return "BUTTON_DATA_INVALID"
			case b.URL != nil:
				u, err := url.Parse(*b.URL)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.Contains(u.Host, ".") {
					return fmt.Sprintf("inline keyboard button URL '%s' is invalid: Wrong HTTP URL", *b.URL)
				}
			case b.CallbackData == nil:
				return "can't find field \"callback_data\""
			}
		}
	}
	for _, row := range m.Keyboard {
		for _, b := range row {
			if b.Text == "" {
				return "keyboard button text is empty"
			}
		}
	}
	return ""
}

var (
	tagRe    = regexp.MustCompile(`^<(/?)([a-z-]+)(\s[^<>]*)?>`)
	entityRe = regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});`)
	htmlTags = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true,
		"strike": true, "del": true, "a": true, "code": true, "pre": true, "tg-spoiler": true, "span": true,
		"blockquote": true, "tg-emoji": true}
)

// parseHTML checks text the way Telegram's HTML parse mode does (known
// tags, properly nested; every other <, > and & escaped) and returns what
// the patient reads.
func parseHTML(s string) (string, error) {
	var out strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			m := tagRe.FindStringSubmatch(s[i:])
			if m == nil || !htmlTags[m[2]] {
				return "", fmt.Errorf("unsupported start tag at byte offset %d", i)
			}
			if m[1] == "/" {
				if len(open) == 0 || open[len(open)-1] != m[2] {
					return "", fmt.Errorf("unmatched end tag at byte offset %d, expected \"</%s>\"", i, last(open))
				}
				open = open[:len(open)-1]
			} else {
				open = append(open, m[2])
			}
			i += len(m[0])
		case '>':
			return "", fmt.Errorf("character '>' is reserved and must be escaped, at byte offset %d", i)
		case '&':
			m := entityRe.FindString(s[i:])
			if m == "" {
				return "", fmt.Errorf("character '&' must be escaped, at byte offset %d", i)
			}
			out.WriteString(html.UnescapeString(m))
			i += len(m)
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("can't find end tag corresponding to start tag \"%s\"", last(open))
	}
	return out.String(), nil
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}
