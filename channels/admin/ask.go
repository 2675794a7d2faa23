package admin

import (
	"context"
	"net/http"
	"strings"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/knowledge"
)

// Answer is one question's answer as `tend ask --json` prints it and
// POST /api/v1/kb/ask returns it: what the patient would be told, the
// action (answer, abstain, handoff, emergency: triage intervened), the
// sources and the confidence.
type Answer struct {
	Action     string       `json:"action"`
	Answer     string       `json:"answer"`
	Sources    []bot.Source `json:"sources"`
	Confidence float64      `json:"confidence"`
	Buttons    []string     `json:"buttons,omitempty"`
}

// actionRank orders actions when a turn has several replies: an emergency
// outranks everything, then a handoff, then abstaining, then answering.
var actionRank = map[string]int{bot.ActionEmergency: 4, bot.ActionHandoff: 3, bot.ActionAbstain: 2, bot.ActionAnswer: 1}

// Summarize folds a turn's replies into one Answer.
func Summarize(replies []bot.Sent) Answer {
	a := Answer{Action: bot.ActionAnswer, Sources: []bot.Source{}}
	rank := 0
	var texts []string
	for _, r := range replies {
		texts = append(texts, r.Text)
		if actionRank[r.Action] > rank {
			rank, a.Action = actionRank[r.Action], r.Action
		}
		if len(r.Sources) > 0 && len(a.Sources) == 0 {
			a.Sources = r.Sources
		}
		if r.Confidence > a.Confidence {
			a.Confidence = r.Confidence
		}
		for _, b := range r.Buttons {
			a.Buttons = append(a.Buttons, b.Label)
		}
	}
	a.Answer = strings.Join(texts, "\n\n")
	return a
}

// ask puts a question to the bot as a new patient would (a conversation
// of its own on the inline "cli" channel, so nothing is delivered
// anywhere): every guard and dialog runs, triage included.
func (m *Module) ask(ctx context.Context, question, lang string) (Answer, error) {
	chat := "console-try-" + httpserver.RandomToken(8)
	out, err := m.h.Engine.Handle(ctx, bot.Inbound{Channel: "cli", ChatID: chat, SenderID: chat, MessageID: chat,
		Text: question, Locale: lang})
	if err != nil {
		return Answer{}, err
	}
	return Summarize(out.Replies), nil
}

type askRequest struct {
	Question string `json:"question"`
	Lang     string `json:"lang"`
}

func (m *Module) apiAsk(w http.ResponseWriter, r *http.Request) {
	var req askRequest
	if !httpserver.DecodeJSON(w, r, &req, httpserver.JSONOptions{MaxBytes: 16 << 10, KnownFieldsOnly: true}) {
		return
	}
	req.Question = strings.TrimSpace(req.Question)
	if req.Question == "" || len([]rune(req.Question)) > 1000 {
		httpserver.WriteError(w, http.StatusBadRequest, "question: 1 to 1000 characters")
		return
	}
	if req.Lang != "" && req.Lang != "en" && req.Lang != "es" {
		httpserver.WriteError(w, http.StatusBadRequest, "lang: en or es")
		return
	}
	a, err := m.ask(r.Context(), req.Question, req.Lang)
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: ask", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "the question could not be answered; try again")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, a)
}

type tryData struct {
	Question, Lang string
	Asked          bool
	Answer         Answer
	Triage         bool
	Passages       []knowledge.Result
	Threshold      float64
	Error          string
}

// tryPage is "Try a question": the answer as the patient sees it, with
// the ranked passages and their signals.
func (m *Module) tryPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := tryData{Question: strings.TrimSpace(q.Get("q")), Lang: q.Get("lang")}
	if d.Lang != "es" {
		d.Lang = "en"
	}
	if d.Question != "" && len([]rune(d.Question)) <= 1000 {
		d.Asked = true
		a, err := m.ask(r.Context(), d.Question, d.Lang)
		if err != nil {
			m.log.ErrorContext(r.Context(), "console: try a question", "error", err)
			d.Error = "The question could not be answered; try again."
		}
		d.Answer, d.Triage = a, a.Action == bot.ActionEmergency
		if kb := m.kb(); kb != nil {
			resp, err := kb.SearchDB(r.Context(), d.Question, knowledge.SearchOptions{Limit: 5, Lang: d.Lang})
			if err == nil {
				d.Passages, d.Threshold = resp.Results, resp.Threshold
			}
		}
	}
	m.render(w, r, "try", page{Title: "Try a question", Data: d})
}
