package faq

import (
	"unicode/utf8"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/knowledge"
)

// The searches of a turn, done before its transaction (bot.Preparer): the
// question alone and, when the chat's last known state makes it a
// follow-up, the question read with the previous one. Each is kept with
// everything it was computed from; in the turn, retrieve uses one only
// when the search it is about to run has the same query, language, mode,
// limit and index state (the turn's kb_state), so a wrong guess (another
// language, another previous question, a sync in between) only means the
// search runs in the turn as before.

// earlySearch is one search done before the turn, with its keys.
type earlySearch struct {
	query string
	o     knowledge.SearchOptions // Lang, Mode, Limit
	state knowledge.State
	resp  knowledge.Response
}

// Early keys: the question alone, and with the previous question.
const (
	earlyAlone = "faq:search"
	earlyWith  = "faq:search-with"
)

// Prepare implements bot.Preparer, for the messages whose Match searches
// (questions that do not ask for a slot). Other messages the dialog ends
// up handling search in the turn: a search for every message would be
// wasted on the booking dialog's steps.
func (d Dialog) Prepare(e *bot.Early) {
	if !d.Early || d.KB == nil || e.In.Payload != "" {
		return
	}
	question := e.Text()
	if utf8.RuneCountInString(question) > bot.MaxTextRunes || !isQuestion(question) || asksForASlot(question) {
		return
	}
	lang := e.Lang()
	if len(d.KB.Analyzer().Analyze(question, lang)) == 0 {
		return
	}
	// The turn reads the index's state (and the price lists' versions) to
	// search: those reads go with its first statement.
	e.ReadAhead(knowledge.StateQuery)
	if d.catalog() != nil {
		e.ReadAhead(prices.ListsVersionQuery) // the catalog's first read of every lookup
	}
	o := d.searchOptions(lang)
	d.searchEarly(e, earlyAlone, question, o)
	var prev state
	if e.LoadState(Name, &prev) && prev.Question != "" && e.Now.Sub(prev.At) <= followUpWindow && isFollowUp(question) {
		d.searchEarly(e, earlyWith, d.withContext(prev.Question, question, lang), o)
	}
}

func (d Dialog) searchEarly(e *bot.Early, key, query string, o knowledge.SearchOptions) {
	if resp, st, ok := d.KB.SearchEarly(e.Ctx, query, o); ok {
		e.Keep(key, earlySearch{query: query, o: o, state: st, resp: resp})
	}
}

// searchOptions are the options of the turn's searches (State aside).
func (d Dialog) searchOptions(lang string) knowledge.SearchOptions {
	return knowledge.SearchOptions{Lang: lang, Mode: d.Mode, Limit: 5}
}

// withContext is a follow-up read with the previous question's topic in
// front ("video visits" + "how much is it?").
func (d Dialog) withContext(prevQuestion, question, lang string) string {
	return d.KB.Analyzer().Topic(prevQuestion, lang) + " " + question
}

// search is the knowledge base's search in the turn, or the same search
// done before the transaction when every key matches.
func (d Dialog) search(t *bot.Turn, key, query string, o knowledge.SearchOptions) (knowledge.Response, error) {
	v, ok := t.Prepared(key, func(v any) bool {
		s := v.(earlySearch)
		return s.query == query && s.o.Lang == o.Lang && s.o.Mode == o.Mode && s.o.Limit == o.Limit &&
			s.o.Context == o.Context && s.state.SameIndex(*o.State)
	})
	if ok {
		return v.(earlySearch).resp, nil
	}
	return d.KB.Search(t.Ctx, t.Q(), query, o)
}
