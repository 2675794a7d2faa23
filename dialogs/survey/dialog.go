// Package survey runs post-visit surveys in the chat: definitions in the
// shape of FHIR Questionnaire, invitations scheduled after a visit as
// durable jobs (outside quiet hours, with consent), answers by button or
// typed, stored as QuestionnaireResponse items, summaries and exports for
// staff, and an alert to staff for an unhappy answer.
package survey

import (
	"embed"
	"io/fs"
	"strconv"
	"strings"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/textutil"
)

// Name is the dialog's key; its buttons are "survey:…".
const Name = "survey"

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the dialog's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// Dialog is the survey conversation.
type Dialog struct{ S *Service }

// Name implements bot.Dialog.
func (*Dialog) Name() string { return Name }

var (
	skipWords = []string{"skip", "pass", "next", "skip it", "skip this", "saltar", "omitir", "siguiente", "paso", "pasar"}
	endWords  = []string{"stop survey", "end survey", "end the survey", "no more questions", "quit survey", "no thanks",
		"not now", "terminar", "terminar encuesta", "salir de la encuesta", "no gracias", "ahora no", "ya no"}
	// readyWords agree to take the survey: what a patient answers to the
	// invitation (on WhatsApp, to the template that announced it).
	readyWords = []string{"sure", "ok", "okay", "yes", "yes please", "yeah", "yep", "ready", "start", "go ahead", "of course",
		"si", "claro", "vale", "de acuerdo", "listo", "lista", "empezar", "por supuesto"}
)

// Match claims a short typed answer to the current question of the
// conversation's open survey while another dialog is active (or none).
func (d *Dialog) Match(t *bot.Turn) int {
	text := t.Text()
	if len(textutil.Words(text)) > 3 {
		return 0
	}
	r, open, err := openFor(t.Ctx, t.Q(), t.ConversationID(), t.Now)
	if err != nil || !open || r.Current < 0 || r.Current >= len(d.S.Q.Item) {
		return 0
	}
	it := d.S.Q.Item[r.Current]
	if it.Type == TypeString {
		return 0
	}
	if _, ok := ParseAnswer(it, text, t.Lang()); ok {
		return 96
	}
	return 0
}

// Handle implements bot.Dialog.
func (d *Dialog) Handle(t *bot.Turn) (bool, error) {
	if action, args, ok := t.Payload(Name); ok {
		return true, d.button(t, action, args)
	}
	r, open, err := openFor(t.Ctx, t.Q(), t.ConversationID(), t.Now)
	if err != nil {
		return false, err
	}
	if !open {
		if t.Active() == Name {
			t.Finish(Name)
		}
		return false, nil
	}
	return d.text(t, &r)
}

// button handles "survey:a:<response>:<item>:<value>" and
// "survey:skip:<response>:<item>".
func (d *Dialog) button(t *bot.Turn, action string, args []string) error {
	if len(args) < 2 {
		t.Say("survey.closed")
		return nil
	}
	id, _ := strconv.ParseInt(args[0], 10, 64)
	idx, _ := strconv.Atoi(args[1])
	r, err := lockResponse(t.Ctx, t.Q(), id)
	if err != nil || r.ConversationID == nil || *r.ConversationID != t.ConversationID() || !r.Open(t.Now) {
		t.Say("survey.closed")
		return nil
	}
	if idx != r.Current {
		// A button from an earlier question: that one is answered.
		t.Say("survey.already_answered")
		t.Reply(d.S.question(t.Lang(), r, r.Current))
		t.Start(Name)
		return nil
	}
	switch action {
	case "skip":
		return d.skip(t, &r)
	case "a":
		if len(args) == 3 {
			if a, ok := d.S.buttonAnswer(idx, args[2], t.Lang()); ok {
				return d.answer(t, &r, a)
			}
		}
	}
	t.Reply(d.S.question(t.Lang(), r, r.Current))
	return nil
}

// text handles a typed message while a survey is open.
func (d *Dialog) text(t *bot.Turn, r *Response) (bool, error) {
	norm := textutil.Normalize(t.Text())
	switch {
	case contains(skipWords, norm):
		return true, d.skip(t, r)
	case contains(endWords, norm):
		return true, d.stop(t, r)
	}
	it := d.S.Q.Item[r.Current]
	if a, ok := ParseAnswer(it, t.Text(), t.Lang()); ok {
		return true, d.answer(t, r, a)
	}
	if contains(readyWords, norm) && len(r.Answers()) == 0 && r.Current == d.S.Q.Next(0, nil) {
		// Agreeing to the invitation before answering: the question is
		// above (on WhatsApp it was held behind the template and goes out
		// just before this), so it is not asked twice or called an error.
		t.Say("survey.ready")
		t.Start(Name)
		return true, nil
	}
	if looksLikeQuestion(t.Text()) {
		// Another dialog answers (the FAQ); then the survey picks up again.
		t.Start(Name)
		resp := *r
		t.AfterRouting(func() error {
			t.Say("survey.resume")
			t.Reply(d.S.question(t.Lang(), resp, resp.Current))
			return nil
		})
		return false, nil
	}
	if it.Type == TypeInteger {
		if _, ok := parseScale(norm); ok {
			t.Reply(bot.Reply{Text: t.T("survey.out_of_range", map[string]any{"Min": *it.MinValue, "Max": *it.MaxValue})})
			t.Reply(d.S.question(t.Lang(), *r, r.Current))
			t.Start(Name)
			return true, nil
		}
	}
	t.Say("survey.not_understood")
	t.Reply(d.S.question(t.Lang(), *r, r.Current))
	t.Start(Name)
	return true, nil
}

// looksLikeQuestion tells a question for another dialog from an answer
// that did not parse.
func looksLikeQuestion(text string) bool {
	return strings.Contains(text, "?") || strings.Contains(text, "¿") || len(textutil.Words(text)) >= 4
}

// answer records the answer to the current item and asks the next one,
// or finishes.
func (d *Dialog) answer(t *bot.Turn, r *Response, a Answer) error {
	it := d.S.Q.Item[r.Current]
	item := ResponseItem{LinkID: it.LinkID, Text: d.S.fill(it.Text.In(t.Lang())), Answer: []Answer{a}}
	replaced := false
	for i := range r.Items {
		if r.Items[i].LinkID == it.LinkID {
			r.Items[i], replaced = item, true
		}
	}
	if !replaced {
		r.Items = append(r.Items, item)
	}
	if it.LinkID == d.S.Q.ScoreItem && a.ValueInteger != nil {
		v := *a.ValueInteger
		r.Score = &v
	}
	return d.advance(t, r, r.Current+1)
}

func (d *Dialog) skip(t *bot.Turn, r *Response) error {
	if d.S.Q.Item[r.Current].Required {
		t.Say("survey.required")
		t.Reply(d.S.question(t.Lang(), *r, r.Current))
		t.Start(Name)
		return saveResponse(t.Ctx, t.Q(), r, t.Now)
	}
	return d.advance(t, r, r.Current+1)
}

// advance asks the next enabled item, or completes the survey.
func (d *Dialog) advance(t *bot.Turn, r *Response, from int) error {
	r.Status = StatusInProgress
	next := d.S.Q.Next(from, r.Answers())
	if next < 0 {
		return d.finish(t, r, StatusCompleted)
	}
	r.Current = next
	t.Reply(d.S.question(t.Lang(), *r, next))
	t.Start(Name)
	return saveResponse(t.Ctx, t.Q(), r, t.Now)
}

func (d *Dialog) stop(t *bot.Turn, r *Response) error {
	return d.finish(t, r, StatusStopped)
}

// finish closes the survey, thanks the patient and alerts staff to an
// unhappy answer.
func (d *Dialog) finish(t *bot.Turn, r *Response, status string) error {
	now := t.Now
	r.Status, r.FinishedAt = status, &now
	if status == StatusCompleted {
		text := d.S.fill(d.S.Q.Thanks.In(t.Lang()))
		if text == "" {
			text = t.T("survey.thanks")
		}
		t.Reply(bot.Reply{Text: text})
	} else {
		t.Say("survey.stopped")
	}
	t.Finish(Name)
	if err := d.S.raiseAlert(t.Ctx, t.Work(), r); err != nil {
		return err
	}
	return saveResponse(t.Ctx, t.Q(), r, now)
}

// OptedOut implements the consent guard's listener: STOP ends the
// conversation's open survey (kept as stopped, with its answers), and the
// patient's other open ones.
func (d *Dialog) OptedOut(t *bot.Turn, _ bool) error {
	ids, err := openIDs(t.Ctx, t.Q(), t.ConversationID(), t.PatientID())
	if err != nil {
		return err
	}
	for _, id := range ids {
		r, err := lockResponse(t.Ctx, t.Q(), id)
		if err != nil {
			return err
		}
		now := t.Now
		r.Status, r.Reason, r.FinishedAt = StatusStopped, "opted_out", &now
		if err := d.S.raiseAlert(t.Ctx, t.Work(), &r); err != nil {
			return err
		}
		if err := saveResponse(t.Ctx, t.Q(), &r, now); err != nil {
			return err
		}
	}
	if t.Active() == Name {
		t.Finish(Name)
	}
	return nil
}
