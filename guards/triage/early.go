package triage

import "github.com/tend-health/tend/bot"

// earlyKey keeps the classification made before the turn's transaction.
const earlyKey = "triage:classify"

// classified is a message's classification with the text it read.
type classified struct {
	text string
	res  Result
}

// Prepare implements bot.Preparer: the classification is a function of the
// text alone (the detector is fixed when the guard is built), so it is
// made before the turn's transaction, off SQLite's single writer.
func (g *Guard) Prepare(e *bot.Early) {
	if text := e.Text(); text != "" {
		e.Keep(earlyKey, classified{text: text, res: g.detector.Classify(text)})
	}
}

// classify is the message's classification, made before the turn when its
// text is the one classified then.
func (g *Guard) classify(t *bot.Turn, text string) Result {
	if v, ok := t.Prepared(earlyKey, func(v any) bool { return v.(classified).text == text }); ok {
		return v.(classified).res
	}
	return g.detector.Classify(text)
}
