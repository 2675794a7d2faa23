package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"
)

// GeneratorOptions configure answers written by an OpenAI-compatible chat
// model from retrieved passages.
type GeneratorOptions struct {
	BaseURL    string // with /v1; empty means OpenAI's
	APIKey     string
	Model      string
	Timeout    time.Duration // one answer (default 15 s); on timeout the caller answers extractively
	HTTPClient *http.Client
}

// Generator writes an answer from passages only, cites them, and refuses
// when they do not support one. Its output is checked before use (Verify).
type Generator struct{ chatModel }

// NewGenerator returns a generator for an OpenAI-compatible server.
func NewGenerator(o GeneratorOptions) (*Generator, error) {
	c, err := newChatModel(o, 15*time.Second, "generated answers")
	if err != nil {
		return nil, err
	}
	return &Generator{c}, nil
}

// chatModel is an OpenAI-compatible chat model with a deadline per call,
// shared by the generator and the summarizer.
type chatModel struct {
	client  *openai.Client
	model   string
	timeout time.Duration
}

func newChatModel(o GeneratorOptions, defaultTimeout time.Duration, purpose string) (chatModel, error) {
	if o.Model == "" {
		return chatModel{}, fmt.Errorf("knowledge: TEND_CHAT_MODEL is required for %s", purpose)
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	return chatModel{client: newOpenAIClient(o.BaseURL, o.APIKey, o.HTTPClient), model: o.Model, timeout: o.Timeout}, nil
}

// Model is the chat model's name.
func (g *Generator) Model() string { return g.model }

// Generated is a checked answer.
type Generated struct {
	Text string
	// Citations are indexes into the passages given, in the order cited.
	Citations []int
	// Supported is false when the model said the passages do not answer.
	Supported bool
}

// ErrUnverified is returned when the model's answer states something the
// passages do not say, or is malformed; the caller falls back.
var ErrUnverified = errors.New("knowledge: generated answer failed verification")

const generatorPrompt = `You answer questions from patients of a medical clinic, using ONLY the numbered passages from the clinic's documents.
Rules:
- Use only facts stated in the passages. Never add prices, dates, phone numbers, times, coverage or medical advice that the passages do not state.
- If the passages do not answer the question, set "supported" to false and leave "answer" empty.
- Keep the answer short (at most 4 sentences), plain and friendly, in the patient's language (%s).
- Do not combine facts from different passages into one sentence.
- Cite the passages you used by number.
Reply with JSON only: {"supported": true|false, "answer": "...", "citations": [1]}`

// Answer asks the model to answer question from passages and verifies the
// result: every number in the answer (prices, times, phone numbers, days)
// must appear in a cited passage.
func (g *Generator) Answer(ctx context.Context, question, lang string, passages []Result) (Generated, error) {
	var b strings.Builder
	for i, p := range passages {
		fmt.Fprintf(&b, "[%d] %s › %s\n%s\n\n", i+1, p.Title, p.Section, p.Text)
	}
	content, err := g.complete(ctx, fmt.Sprintf(generatorPrompt, languageName(lang)), "Passages:\n\n"+b.String()+"Question: "+question)
	if err != nil {
		return Generated{}, err
	}
	if content == "" {
		return Generated{}, fmt.Errorf("%w: no answer", ErrUnverified)
	}
	return Verify(content, passages)
}

// complete asks the model once, within its timeout, at temperature 0 (the
// same passages give the same answer); "" when it gave no choice.
func (c chatModel) complete(ctx context.Context, system, user string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:       c.model,
		Temperature: 0,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
	})
	if err != nil {
		return "", fmt.Errorf("knowledge: chat model: %w", err)
	}
	if len(resp.Choices) == 0 {
		return "", nil
	}
	return resp.Choices[0].Message.Content, nil
}

// languageName is how the prompts name a reply language.
func languageName(lang string) string {
	if lang == "es" {
		return "Spanish"
	}
	return "English"
}

var jsonObject = regexp.MustCompile(`(?s)\{.*\}`)

// Verify parses a model's reply and checks it against the passages.
func Verify(content string, passages []Result) (Generated, error) {
	var raw struct {
		Supported *bool  `json:"supported"`
		Answer    string `json:"answer"`
		Citations []int  `json:"citations"`
	}
	obj := jsonObject.FindString(content) // local models wrap JSON in prose or fences
	if obj == "" || json.Unmarshal([]byte(obj), &raw) != nil || raw.Supported == nil {
		return Generated{}, fmt.Errorf("%w: not the JSON asked for", ErrUnverified)
	}
	if !*raw.Supported {
		return Generated{Supported: false}, nil
	}
	answer := strings.TrimSpace(raw.Answer)
	if answer == "" || len(raw.Citations) == 0 {
		return Generated{}, fmt.Errorf("%w: an answer without text or citations", ErrUnverified)
	}
	var cited strings.Builder
	var idx []int
	for _, c := range raw.Citations {
		if c < 1 || c > len(passages) {
			return Generated{}, fmt.Errorf("%w: citation [%d] of %d passages", ErrUnverified, c, len(passages))
		}
		idx = append(idx, c-1)
		cited.WriteString(passages[c-1].Text + " " + passages[c-1].Title + " " + passages[c-1].Section + "\n")
	}
	source := factKey(cited.String())
	for _, f := range facts(answer) {
		if !strings.Contains(source, f) {
			return Generated{}, fmt.Errorf("%w: %q is not in the cited passages", ErrUnverified, f)
		}
	}
	return Generated{Text: answer, Citations: idx, Supported: true}, nil
}

// factPattern finds checkable facts: amounts, percentages, times, phone
// numbers and other figures.
var factPattern = regexp.MustCompile(`\$?\d[\d,.:]*\d%?|\$?\d%?`)

func facts(s string) []string {
	var out []string
	for _, m := range factPattern.FindAllString(s, -1) {
		out = append(out, factKey(m))
	}
	return out
}

// factKey reduces text to digits and the few symbols that change a
// figure's meaning, so "$1,650" matches "$1,650.00"'s prefix and "7:30"
// matches "7:30 a.m.".
func factKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '$', r == '%', r == ':':
			b.WriteRune(r)
		case r == ',':
		default:
			b.WriteByte(' ')
		}
	}
	return " " + strings.Join(strings.Fields(b.String()), " ") + " "
}
