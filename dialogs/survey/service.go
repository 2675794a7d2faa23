package survey

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"text/template"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/outreach"
	"github.com/tend-health/tend/internal/store"
)

// Service is the survey capability: the questionnaire, the invitation jobs,
// the dialog's answers and the staff alerts.
type Service struct {
	DB       *store.DB
	Engine   *bot.Engine
	Catalog  *catalog.Catalog
	Clinic   *clinic.Profile
	Clock    clock.Clock
	Log      *slog.Logger
	Q        *Questionnaire
	Cfg      Config
	Channels outreach.Channels
	// Staff is told of alerts (low scores, complaints); nil when no staff
	// channel is configured.
	Staff handoff.Notifier
}

// fill renders a questionnaire text with the clinic's fields ({{.Clinic}}).
func (s *Service) fill(text string) string {
	tpl, err := template.New("").Option("missingkey=zero").Parse(text)
	if err != nil {
		return text
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, s.Clinic.TemplateData()); err != nil {
		return text
	}
	return b.String()
}

func (s *Service) t(lang, id string, data map[string]any) string {
	return s.Catalog.Text(lang, id, data)
}

// question is the reply that asks item idx: the question, then buttons
// for a scale, the options, yes/no, and Skip where skipping is allowed.
func (s *Service) question(lang string, r Response, idx int) bot.Reply {
	it := s.Q.Item[idx]
	rid := strconv.FormatInt(r.ID, 10)
	pi := strconv.Itoa(idx)
	text := s.displayBefore(lang, r, idx) + s.fill(it.Text.In(lang))
	var buttons []bot.Button
	answer := func(label, value string) {
		buttons = append(buttons, bot.Button{Label: label, Payload: bot.Payload(Name, "a", rid, pi, value)})
	}
	switch it.Type {
	case TypeInteger:
		for v := *it.MinValue; v <= *it.MaxValue; v++ {
			answer(strconv.Itoa(v), strconv.Itoa(v))
		}
		text += "\n" + s.t(lang, "survey.hint.scale", map[string]any{"Min": *it.MinValue, "Max": *it.MaxValue})
	case TypeChoice:
		for i, o := range it.AnswerOption {
			answer(o.ValueCoding.Display.In(lang), strconv.Itoa(i))
		}
	case TypeBoolean:
		answer(s.t(lang, "survey.button.yes", nil), "y")
		answer(s.t(lang, "survey.button.no", nil), "n")
	}
	// A 0-10 scale keeps its eleven buttons alone; "skip" can be typed.
	if !it.Required && it.Type != TypeInteger {
		buttons = append(buttons, bot.Button{Label: s.t(lang, "survey.button.skip", nil), Payload: bot.Payload(Name, "skip", rid, pi)})
	}
	return bot.Reply{Text: text, Buttons: buttons}
}

// displayBefore is the text of the enabled display items just before
// item idx, shown with the question they introduce.
func (s *Service) displayBefore(lang string, r Response, idx int) string {
	answers := r.Answers()
	var parts []string
	for i := idx - 1; i >= 0 && s.Q.Item[i].Type == TypeDisplay; i-- {
		if enabled(s.Q.Item[i], answers) {
			parts = append([]string{s.fill(s.Q.Item[i].Text.In(lang))}, parts...)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "\n") + "\n\n"
}

// buttonAnswer decodes a button's value for item idx.
func (s *Service) buttonAnswer(idx int, value, lang string) (Answer, bool) {
	if idx < 0 || idx >= len(s.Q.Item) {
		return Answer{}, false
	}
	it := s.Q.Item[idx]
	switch it.Type {
	case TypeChoice:
		i, err := strconv.Atoi(value)
		if err != nil || i < 0 || i >= len(it.AnswerOption) {
			return Answer{}, false
		}
		c := it.AnswerOption[i].ValueCoding
		return Answer{ValueCoding: &Coding{Code: c.Code, Display: Text{lang: c.Display.In(lang)}}}, true
	case TypeBoolean:
		b := value == "y"
		if value != "y" && value != "n" {
			return Answer{}, false
		}
		return Answer{ValueBoolean: &b}, true
	case TypeInteger:
		return ParseAnswer(it, value, lang)
	}
	return Answer{}, false
}
