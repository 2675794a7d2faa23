// Package faq answers patients' questions from the clinic's knowledge base:
// the best passage itself (extractive), or, with a chat model configured,
// an answer generated from the retrieved passages only and checked against
// them. When the knowledge base does not answer with enough confidence it
// says so, offers a person, and records the question for editors.
package faq

import (
	"embed"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/textutil"
	"github.com/tend-health/tend/knowledge"
)

// Name is the dialog's key.
const Name = "faq"

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the dialog's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// matchScore is how strongly the dialog claims an ordinary question: above
// nothing, below the menu's greetings (80-95) and explicit requests for a
// person (95), so those keep their own dialogs.
const matchScore = 50

// followUpWindow is how long a previous question gives context to a short
// follow-up ("and for Medicare?").
const followUpWindow = 30 * time.Minute

// Dialog answers from the knowledge base.
type Dialog struct {
	KB *knowledge.Base
	// Generator writes answers from passages; nil means extractive answers.
	Generator *knowledge.Generator
	// MinConfidence below which the bot abstains (0 means the knowledge
	// model's threshold).
	MinConfidence float64
	// Mode is the retrieval mode (the evals compare them).
	Mode knowledge.Mode
	// Log gets ids and counts, never what the patient wrote.
	Log *slog.Logger
	// Prices answers cost questions about the services of the clinic's
	// price lists (nil: the documents answer them).
	Prices PriceLists
	// Early searches for a question before the turn's transaction
	// (early.go); set with a local embedder only, since a message the
	// dialog does not answer would cost a remote one a call.
	Early bool
}

func (d Dialog) logger() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// state is what the dialog remembers between turns.
type state struct {
	Question string    `json:"q"`
	At       time.Time `json:"at"`
	// Price is the item of the last price answer (or choice).
	Price *priceState `json:"price,omitempty"`
}

// Name implements bot.Dialog.
func (Dialog) Name() string { return Name }

// Match claims any message with words that could be a question, and
// claims an information question the documents answer confidently above
// the booking dialog's "book" intent: "what number do I call to book a
// mammogram?" asks for a number, "I need to book a follow-up" for a slot.
func (d Dialog) Match(t *bot.Turn) int {
	if d.KB == nil || t.In.Payload != "" {
		return 0
	}
	if len(d.KB.Analyzer().Analyze(t.Text(), t.Lang())) == 0 {
		return 0 // "ok", "thanks": nothing to look up
	}
	if l, err := d.lookupPrice(t); err == nil && l.answers() {
		return confidentScore
	}
	if isQuestion(t.Text()) && !asksForASlot(t.Text()) {
		// A question about appointments ("how early should I arrive for
		// my appointment?") is the FAQ's, answered or referred to staff,
		// not the start of a booking.
		r, err := d.retrieveOnce(t)
		if err == nil && len(r.resp.Results) > 0 && r.resp.Confidence >= d.minConfidence(r.resp) {
			return confidentScore
		}
		return questionScore
	}
	return matchScore
}

// confidentScore claims a question the documents answer, questionScore
// one they may not: both above booking's "book" (75), below its cancel,
// reschedule and "my appointments" (85-90) and explicit requests for a
// person (95).
const (
	confidentScore = 78
	questionScore  = 76
)

// slotRequest is how a patient asks for an appointment in question form:
// "can I book a follow-up?", "could I get in tomorrow?", "¿me pueden dar
// una cita?".
var slotRequest = regexp.MustCompile(`\b(can|could|may) (i|we|my \w+) (please )?(book|schedule|make|get|set up|see) (a |an |my |the )?(appointment|appt|visit|follow|time|slot|in)|` +
	`\b(can|could) you (book|schedule|make|get|set up) (me|us|my \w+) |` +
	`\b(i|we) (need|want|would like|d like|wanna) (to )?(book|schedule|make|get|set up|see|come in)\b|` +
	`\b(puedo|podria|pueden|podrian|me pueden|me podrian|quiero|necesito|quisiera) (sacar|hacer|agendar|programar|reservar|tener) (una |la |mi )?(cita|consulta)|` +
	`\b(when can i|any openings|next available|earliest|soonest|cuando puedo|hay citas|lo antes posible)\b`)

// asksForASlot reports a request for an appointment (booking's), as
// opposed to a question about appointments (the FAQ's).
func asksForASlot(text string) bool { return slotRequest.MatchString(textutil.Normalize(text)) }

// questionStarts open a question in English or Spanish.
var questionStarts = []string{"what", "whats", "how", "where", "when", "which", "who", "why", "is", "are", "do", "does",
	"can", "could", "will", "would", "should", "am", "may", "if", "que", "como", "donde", "cuando", "cual", "cuanto",
	"cuanta", "cuantos", "cuantas", "quien", "por que", "a que", "hay", "puedo", "puede", "pueden", "tienen", "necesito saber"}

// questionPhrases ask something wherever they stand ("followup visit how
// long", "presio de consulta?").
var questionPhrases = []string{"how long", "how much", "how many", "what time", "how do", "how early", "how soon",
	"cuanto", "cuanta", "cuantos", "cuantas", "a que hora", "donde", "hasta que", "que tan"}

// isQuestion reports a message written as a question: a question mark, a
// first word that opens one, or a question phrase anywhere.
func isQuestion(text string) bool {
	if strings.ContainsAny(text, "?¿") {
		return true
	}
	n := textutil.Normalize(text)
	for _, w := range questionStarts {
		if n == w || strings.HasPrefix(n, w+" ") {
			return true
		}
	}
	return textutil.HasAny(n, questionPhrases...)
}

// kbState is the knowledge base's state, read once per turn: every search
// of the turn runs in its transaction and sees the same generation.
func (d Dialog) kbState(t *bot.Turn) (*knowledge.State, error) {
	v, err := t.Memo("faq:kb-state", func() (any, error) {
		st, err := d.KB.State(t.Ctx, t.Q())
		return &st, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*knowledge.State), nil
}

// retrieval is one turn's search, shared by Match and Handle.
type retrieval struct {
	resp  knowledge.Response
	asked string
}

func (d Dialog) retrieveOnce(t *bot.Turn) (retrieval, error) {
	v, err := t.Memo("faq:retrieve", func() (any, error) {
		var prev state
		t.LoadState(Name, &prev)
		resp, asked, err := d.retrieve(t, t.Text(), prev)
		return retrieval{resp, asked}, err
	})
	if err != nil {
		return retrieval{}, err
	}
	return v.(retrieval), nil
}

// Handle answers one question.
func (d Dialog) Handle(t *bot.Turn) (bool, error) {
	if action, args, ok := t.Payload(Name); ok && d.KB != nil && (action == "price" || action == "plan") {
		return d.handlePricePayload(t, action, args)
	}
	if _, _, ok := t.Payload(Name); ok || t.In.Payload != "" || d.KB == nil {
		return false, nil
	}
	question := t.Text()
	if len(d.KB.Analyzer().Analyze(question, t.Lang())) == 0 {
		return false, nil
	}
	if done, err := d.answerPrice(t); done || err != nil {
		return true, err
	}
	r, err := d.retrieveOnce(t)
	if err != nil {
		return true, err
	}
	resp, asked := r.resp, r.asked
	if err := t.SaveState(Name, state{Question: asked, At: t.Now}); err != nil {
		return true, err
	}
	if len(resp.Results) == 0 || resp.Confidence < d.minConfidence(resp) {
		return true, d.abstain(t, question, resp)
	}
	return true, d.answer(t, asked, resp)
}

// minConfidence is the threshold below which the bot does not answer: the
// search's (the knowledge model's, fitted with it: docs/knowledge.md),
// unless overridden.
func (d Dialog) minConfidence(resp knowledge.Response) float64 {
	if d.MinConfidence > 0 {
		return d.MinConfidence
	}
	return resp.Threshold
}

// retrieve searches for the question and, for a short message soon after
// another question, also for it in the light of that question (whose terms
// count at half weight); the better-supported reading wins. It returns the
// question to remember for the next turn.
func (d Dialog) retrieve(t *bot.Turn, question string, prev state) (knowledge.Response, string, error) {
	kb, err := d.kbState(t)
	if err != nil {
		return knowledge.Response{}, question, err
	}
	o := d.searchOptions(t.Lang())
	o.State = kb
	alone, err := d.search(t, earlyAlone, question, o)
	if err != nil {
		return alone, question, err
	}
	if prev.Question == "" || t.Now.Sub(prev.At) > followUpWindow || !isFollowUp(question) {
		return alone, question, nil
	}
	// The follow-up is read as a question of its own with the previous
	// question's topic put in front ("video visits" + "how much is it?"):
	// the search and its confidence then see an ordinary question.
	with, err := d.search(t, earlyWith, d.withContext(prev.Question, question, t.Lang()), o)
	if err != nil {
		return alone, question, err
	}
	// A follow-up that stands on its own ("and where do I park?") keeps
	// its own reading unless the context makes the match clearly better.
	// One that names something the documents lack ("how much is a
	// vasectomy?" after "how much is a flu shot?") is not answered from
	// the previous question's passage, which lacks it too.
	if namesSomethingElse(alone, with) {
		return alone, question, nil
	}
	if alone.Confidence < d.minConfidence(alone) || with.Confidence > alone.Confidence+0.1 {
		return with, prev.Question + " " + question, nil
	}
	return alone, question, nil
}

// mainWordShare: a term with at least this share of a question's weight
// is what the question is about.
const mainWordShare = 0.5

// namesSomethingElse reports whether the question's main word is missing
// from the best passage for it alone and from the best passage read with
// the previous question: the context would answer a different question.
func namesSomethingElse(alone, with knowledge.Response) bool {
	if len(alone.Results) == 0 || len(with.Results) == 0 {
		return false
	}
	a := alone.Results[0].Signals
	if a.MissingTop < mainWordShare {
		return false
	}
	for _, term := range a.Missing {
		if slices.Contains(with.Results[0].Signals.Missing, term) {
			return true
		}
	}
	return false
}

var followUpStarts = []string{"and", "what about", "how about", "also", "same for", "what if",
	"y", "que tal", "tambien"}

// maxFollowUpWords: longer messages are questions of their own.
const maxFollowUpWords = 8

// isFollowUp reports whether a message may continue the previous question:
// short, or opening with "and ...", "what about ...".
func isFollowUp(text string) bool {
	n := textutil.Normalize(text)
	words := strings.Fields(n)
	if len(words) == 0 {
		return false
	}
	for _, s := range followUpStarts {
		if n == s || strings.HasPrefix(n, s+" ") {
			return true
		}
	}
	return len(words) <= maxFollowUpWords
}

func (d Dialog) abstain(t *bot.Turn, question string, resp knowledge.Response) error {
	if err := d.KB.RecordUnanswered(t.Ctx, t.Q(), question, t.Lang(), t.ConversationID(), resp.Confidence, t.Now); err != nil {
		return err
	}
	d.logger().InfoContext(t.Ctx, "faq abstained", "conversation_id", t.ConversationID(), "confidence", resp.Confidence)
	t.Reply(bot.Reply{
		Text:       t.T("faq.not_sure"),
		Action:     bot.ActionAbstain,
		Confidence: resp.Confidence,
		Sources:    sources(resp.Results, nil),
		Buttons: []bot.Button{
			t.Button("faq.button.person", bot.Payload(handoff.Name, "request", handoff.ReasonUnanswered)),
			t.Button("faq.button.menu", bot.Payload("menu", "main")),
		},
	})
	return nil
}
