package faq

import (
	"strings"
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/knowledge"
)

// maxAnswerRunes is the longest answer text sent in chat; longer passages
// are cut at a sentence end. Telegram and WhatsApp allow 4,096; patients
// read a short message.
const maxAnswerRunes = 900

// sourcesShown is how many passages a reply lists as its sources: the one
// it quotes (or the generator cited) first.
const sourcesShown = 3

// answer replies with the best passage, or a generated answer when a chat
// model is configured and its answer checks out.
func (d Dialog) answer(t *bot.Turn, question string, resp knowledge.Response) error {
	results := resp.Results
	if d.Generator != nil {
		text, order, outcome := d.generate(t, question, results)
		switch outcome {
		case generated:
			t.Reply(bot.Reply{Text: text + "\n\n" + sourceLine(t, results[order[0]]), Action: bot.ActionAnswer,
				Sources: sources(results, order), Confidence: resp.Confidence})
			return nil
		case unsupported:
			return d.abstain(t, question, resp)
		}
	}
	top, intro, err := d.inPatientLanguage(t, results[0])
	if err != nil {
		return err
	}
	shown := append([]knowledge.Result{top}, results[1:]...)
	t.Reply(bot.Reply{
		Text:       intro + focusForChat(d.KB.Analyzer(), question, t.Lang(), top.Text, top.Language, maxAnswerRunes) + "\n\n" + sourceLine(t, top),
		Action:     bot.ActionAnswer,
		Sources:    sources(shown, nil),
		Confidence: resp.Confidence,
	})
	return nil
}

// inPatientLanguage is the passage to quote for the conversation's
// language: the same passage of the document's translation when the
// documents have one (front matter translation_of), or the passage as it
// is, then introduced as being in another language ("Esta información
// está en inglés:") so that the patient is not surprised.
func (d Dialog) inPatientLanguage(t *bot.Turn, r knowledge.Result) (knowledge.Result, string, error) {
	lang := t.Lang()
	if r.Language == "" || r.Language == lang {
		return r, "", nil
	}
	c, ok, err := d.KB.Counterpart(t.Ctx, t.Q(), r, lang)
	if err != nil {
		return r, "", err
	}
	if ok {
		return c, "", nil
	}
	return r, t.T("faq.in_language."+r.Language) + "\n\n", nil
}

// Outcomes of asking the chat model.
const (
	generated   = iota // a verified answer
	unsupported        // the model says the passages do not answer: abstain
	fallback           // error, timeout or failed verification: answer extractively
)

// generate asks the chat model for an answer from the top passages.
func (d Dialog) generate(t *bot.Turn, question string, results []knowledge.Result) (string, []int, int) {
	passages := results[:min(len(results), 3)]
	g, err := d.Generator.Answer(t.Ctx, question, t.Lang(), passages)
	log := d.logger()
	if err != nil {
		log.WarnContext(t.Ctx, "generated answer not used; answering from the passage", "conversation_id", t.ConversationID(), "error", err)
		return "", nil, fallback
	}
	if !g.Supported {
		log.InfoContext(t.Ctx, "chat model found no answer in the passages", "conversation_id", t.ConversationID())
		return "", nil, unsupported
	}
	order := append([]int(nil), g.Citations...)
	for i := range results {
		if !containsInt(order, i) {
			order = append(order, i)
		}
	}
	return TrimForChat(g.Text, maxAnswerRunes), order, generated
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// sources lists the passages a reply relied on, in the given order (nil:
// ranking order).
func sources(results []knowledge.Result, order []int) []bot.Source {
	if order == nil {
		for i := range results {
			order = append(order, i)
		}
	}
	var out []bot.Source
	for _, i := range order {
		if len(out) == sourcesShown {
			break
		}
		r := results[i]
		out = append(out, bot.Source{Document: r.Document, Title: r.Title, Section: r.Section, Updated: r.Updated,
			Score: round3(r.Score)})
	}
	return out
}

func round3(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }

// sourceLine names the passage: "Source: Billing and Costs › Flu shots
// (updated 2026-01-12)".
func sourceLine(t *bot.Turn, r knowledge.Result) string {
	data := map[string]any{"Title": r.Title, "Section": r.Section, "Updated": r.Updated}
	if r.Section == "" {
		return t.T("faq.source_document", data)
	}
	return t.T("faq.source", data)
}

// TrimForChat shortens a passage for a chat message: whole sentences (and
// whole list items) up to limit characters, with "…" when something was
// left out. Line breaks of lists are kept.
func TrimForChat(text string, limit int) string {
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) <= limit {
		return text
	}
	var out strings.Builder
	n := 0
	for _, para := range strings.SplitAfter(text, "\n") {
		for _, unit := range sentenceUnits(para) {
			u := utf8.RuneCountInString(unit)
			if n+u > limit-1 {
				if n == 0 { // one enormous sentence: cut it at a word
					return cutWords(unit, limit-1) + "…"
				}
				return strings.TrimSpace(out.String()) + " …"
			}
			out.WriteString(unit)
			n += u
		}
	}
	return strings.TrimSpace(out.String())
}

// sentenceUnits splits a line after ". ", "! " and "? ", keeping the spaces.
func sentenceUnits(s string) []string {
	var out []string
	start := 0
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && s[i+1] == ' ' {
			out = append(out, s[start:i+2])
			start = i + 2
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func cutWords(s string, limit int) string {
	var b strings.Builder
	for _, w := range strings.Fields(s) {
		if utf8.RuneCountInString(b.String())+utf8.RuneCountInString(w)+1 > limit {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}
