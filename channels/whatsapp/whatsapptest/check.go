package whatsapptest

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// request is the documented body of POST /{phone-number-id}/messages.
type request struct {
	MessagingProduct string          `json:"messaging_product"`
	RecipientType    string          `json:"recipient_type"`
	To               string          `json:"to"`
	Type             string          `json:"type"`
	Context          *struct{}       `json:"context"`
	Text             *textObj        `json:"text"`
	Interactive      *interactiveObj `json:"interactive"`
	Template         *templateObj    `json:"template"`
	Status           string          `json:"status"`
	MessageID        string          `json:"message_id"`
}

type textObj struct {
	Body       *string `json:"body"`
	PreviewURL bool    `json:"preview_url"`
}

type interactiveObj struct {
	Type   string `json:"type"`
	Header any    `json:"header"`
	Body   *struct {
		Text string `json:"text"`
	} `json:"body"`
	Footer *struct {
		Text string `json:"text"`
	} `json:"footer"`
	Action struct {
		Button  string `json:"button"`
		Buttons []struct {
			Type  string `json:"type"`
			Reply struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"reply"`
		} `json:"buttons"`
		Sections []struct {
			Title string `json:"title"`
			Rows  []struct {
				ID          string `json:"id"`
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"rows"`
		} `json:"sections"`
	} `json:"action"`
}

type templateObj struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []struct {
		Type       string `json:"type"`
		Parameters []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"parameters"`
	} `json:"components"`
}

var (
	waIDRe     = regexp.MustCompile(`^\+?[0-9]{5,20}$`)
	tplNameRe  = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	langCodeRe = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
)

func runes(s string) int { return utf8.RuneCountInString(s) }

// check validates a send against the documented limits; problem is "" when
// the request is well formed.
func check(r request) (Message, string) {
	m := Message{To: r.To, Type: r.Type}
	switch {
	case r.MessagingProduct != "whatsapp":
		return m, "messaging_product must be whatsapp"
	case r.RecipientType != "" && r.RecipientType != "individual":
		return m, "recipient_type must be individual"
	case !waIDRe.MatchString(r.To):
		return m, "to must be a phone number"
	}
	switch r.Type {
	case "text":
		if r.Text == nil || r.Text.Body == nil {
			return m, "text.body is required"
		}
		if n := runes(*r.Text.Body); n == 0 || n > 4096 {
			return m, fmt.Sprintf("text.body must be 1-4096 characters, got %d", n)
		}
		m.Text, m.PreviewURL = *r.Text.Body, r.Text.PreviewURL
		if r.Interactive != nil || r.Template != nil {
			return m, "only the object named by type may be present"
		}
	case "interactive":
		if r.Interactive == nil {
			return m, "interactive is required"
		}
		if p := checkInteractive(r.Interactive, &m); p != "" {
			return m, p
		}
	case "template":
		if r.Template == nil {
			return m, "template is required"
		}
		if p := checkTemplate(r.Template, &m); p != "" {
			return m, p
		}
	default:
		return m, fmt.Sprintf("unsupported type %q", r.Type)
	}
	return m, ""
}

func checkInteractive(in *interactiveObj, m *Message) string {
	m.Interactive = in.Type
	if in.Body == nil || in.Body.Text == "" {
		return "interactive.body.text is required"
	}
	if n := runes(in.Body.Text); n > 1024 {
		return fmt.Sprintf("interactive.body.text must be at most 1024 characters, got %d", n)
	}
	m.Text = in.Body.Text
	switch in.Type {
	case "button":
		b := in.Action.Buttons
		if len(b) < 1 || len(b) > 3 {
			return fmt.Sprintf("action.buttons must have 1-3 buttons, got %d", len(b))
		}
		ids, titles := map[string]bool{}, map[string]bool{}
		for _, x := range b {
			if x.Type != "reply" {
				return "button type must be reply"
			}
			if n := len(x.Reply.ID); n == 0 || n > 256 || ids[x.Reply.ID] {
				return fmt.Sprintf("button id must be unique and 1-256 characters: %q", x.Reply.ID)
			}
			if n := runes(x.Reply.Title); n == 0 || n > 20 || titles[x.Reply.Title] {
				return fmt.Sprintf("button title must be unique and 1-20 characters: %q", x.Reply.Title)
			}
			ids[x.Reply.ID], titles[x.Reply.Title] = true, true
			m.Choices = append(m.Choices, Choice{ID: x.Reply.ID, Title: x.Reply.Title})
		}
	case "list":
		if n := runes(in.Action.Button); n == 0 || n > 20 {
			return fmt.Sprintf("action.button must be 1-20 characters, got %d", n)
		}
		m.ListButton = in.Action.Button
		s := in.Action.Sections
		if len(s) < 1 || len(s) > 10 {
			return "action.sections must have 1-10 sections"
		}
		ids, rows := map[string]bool{}, 0
		for _, sec := range s {
			if len(s) > 1 && sec.Title == "" {
				return "section title is required with more than one section"
			}
			if runes(sec.Title) > 24 {
				return "section title must be at most 24 characters"
			}
			for _, row := range sec.Rows {
				rows++
				if n := len(row.ID); n == 0 || n > 200 || ids[row.ID] {
					return fmt.Sprintf("row id must be unique and 1-200 characters: %q", row.ID)
				}
				if n := runes(row.Title); n == 0 || n > 24 {
					return fmt.Sprintf("row title must be 1-24 characters: %q", row.Title)
				}
				if runes(row.Description) > 72 {
					return fmt.Sprintf("row description must be at most 72 characters: %q", row.Description)
				}
				ids[row.ID] = true
				m.Choices = append(m.Choices, Choice{ID: row.ID, Title: row.Title, Description: row.Description})
			}
		}
		if rows < 1 || rows > 10 {
			return fmt.Sprintf("a list must have 1-10 rows in all, got %d", rows)
		}
	default:
		return fmt.Sprintf("interactive.type %q is not one the fake knows", in.Type)
	}
	return ""
}

func checkTemplate(t *templateObj, m *Message) string {
	if !tplNameRe.MatchString(t.Name) {
		return fmt.Sprintf("template.name %q is not a template name", t.Name)
	}
	if !langCodeRe.MatchString(t.Language.Code) {
		return fmt.Sprintf("template.language.code %q is not a language code", t.Language.Code)
	}
	m.Template, m.Language = t.Name, t.Language.Code
	for _, c := range t.Components {
		if c.Type != "body" && c.Type != "header" && c.Type != "button" {
			return fmt.Sprintf("template component type %q", c.Type)
		}
		for _, p := range c.Parameters {
			if p.Type != "text" {
				return "the fake knows text parameters only"
			}
			// Error 132018 in the real API.
			if p.Text == "" || strings.ContainsAny(p.Text, "\n\t") || strings.Contains(p.Text, "     ") {
				return fmt.Sprintf("template parameter %q is empty or has new lines, tabs or more than 4 consecutive spaces", p.Text)
			}
			m.Params = append(m.Params, p.Text)
		}
	}
	return ""
}
