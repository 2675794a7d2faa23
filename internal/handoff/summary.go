package handoff

import (
	"context"

	"github.com/tend-health/tend/knowledge"
)

// ChatSummarizer is the Summarizer backed by the configured chat model. It
// sends the model only the role and text of the lines the handoff message
// already shows staff: no staff names, times or patient details.
type ChatSummarizer struct {
	Model *knowledge.Summarizer
	Lang  string // the staff's language (SLACK_STAFF_LANG)
}

// Summarize implements Summarizer.
func (c ChatSummarizer) Summarize(ctx context.Context, lines []Line) (string, error) {
	tl := make([]knowledge.TranscriptLine, len(lines))
	for i, l := range lines {
		tl[i] = knowledge.TranscriptLine{Role: l.Role, Text: l.Text}
	}
	return c.Model.Summarize(ctx, c.Lang, tl)
}
