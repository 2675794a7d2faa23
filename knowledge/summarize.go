package knowledge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Summary limits: staff read the summary above the transcript, so it is
// two short lines at most, whatever the model writes.
const (
	summaryLines     = 2
	summaryLineRunes = 200
)

// DefaultSummaryTimeout bounds one summary: the handoff message waits for
// it, so it is shorter than an answer's.
const DefaultSummaryTimeout = 10 * time.Second

// TranscriptLine is one message of a conversation to summarize.
type TranscriptLine struct {
	Role string // "patient", "bot" or "staff"
	Text string
}

// Summarizer writes a two-line summary of a conversation for clinic staff
// with an OpenAI-compatible chat model.
type Summarizer struct{ chatModel }

// NewSummarizer returns a summarizer for an OpenAI-compatible server; the
// options are the generator's (Timeout defaults to DefaultSummaryTimeout).
func NewSummarizer(o GeneratorOptions) (*Summarizer, error) {
	c, err := newChatModel(o, DefaultSummaryTimeout, "summaries")
	if err != nil {
		return nil, err
	}
	return &Summarizer{c}, nil
}

// The prompt keeps the model to what was said: staff act on the summary,
// and a guessed diagnosis or an invented detail there is worse than none.
const summaryPrompt = `You summarize a chat between a patient and a medical clinic's assistant for the clinic's staff, who are about to take over.
Rules:
- Write at most 2 short lines, in %s: line 1 what the patient wants, line 2 what the assistant already answered or what is still open.
- State only what the messages say. Do not diagnose, guess causes, give medical advice or judge urgency.
- Do not repeat names, dates of birth, phone numbers, addresses or other personal details.
- Plain text only: no greeting, no headings, no bullet points.`

// Summarize asks the model for the summary of lines in lang (the staff's
// language) and returns at most two lines of at most 200 characters each.
// An empty or failed answer is an error: the caller shows the transcript.
func (s *Summarizer) Summarize(ctx context.Context, lang string, lines []TranscriptLine) (string, error) {
	if len(lines) == 0 {
		return "", errors.New("knowledge: nothing to summarize")
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s: %s\n", roleLabel(l.Role), strings.Join(strings.Fields(l.Text), " "))
	}
	content, err := s.complete(ctx, fmt.Sprintf(summaryPrompt, languageName(lang)), "Conversation:\n"+b.String())
	if err != nil {
		return "", err
	}
	summary := clampSummary(content)
	if summary == "" {
		return "", errors.New("knowledge: chat model gave an empty summary")
	}
	return summary, nil
}

func roleLabel(role string) string {
	switch role {
	case "patient":
		return "Patient"
	case "staff":
		return "Staff"
	}
	return "Assistant"
}

// clampSummary keeps the first two non-empty lines, without list markers
// or wrapping quotes, each cut at a word to summaryLineRunes.
func clampSummary(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "-*•#> "))
		line = strings.Trim(line, "\"“”")
		if line == "" {
			continue
		}
		out = append(out, clipWords(strings.Join(strings.Fields(line), " "), summaryLineRunes))
		if len(out) == summaryLines {
			break
		}
	}
	return strings.Join(out, "\n")
}

// clipWords cuts s at a word boundary so it fits in limit runes, "…" included.
func clipWords(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	cut := string([]rune(s)[:limit-1])
	if i := strings.LastIndex(cut, " "); i > limit/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}
