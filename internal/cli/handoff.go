package cli

import (
	"github.com/tend-health/tend/channels/slack"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/knowledge"
)

// handoffExtras gives the Slack handoff what other capabilities know: the
// verified patient's card from the patient registry, and, when a chat model
// is configured, a two-line summary above the transcript.
func handoffExtras(cfg config.Config) func(*slack.Options) {
	return func(o *slack.Options) {
		o.Registry = booking.Registry{}
		if s := summarizer(cfg); s != nil {
			o.Summarizer = handoff.ChatSummarizer{Model: s, Lang: o.StaffLang}
		}
	}
}

// summarizer is the chat model for handoff summaries, or nil without one.
// The handoff message waits for the summary, so its timeout is the LLM
// timeout capped at knowledge.DefaultSummaryTimeout.
func summarizer(cfg config.Config) *knowledge.Summarizer {
	if !cfg.LLMEnabled() {
		return nil
	}
	s, err := knowledge.NewSummarizer(knowledge.GeneratorOptions{
		BaseURL: cfg.OpenAI.BaseURL, APIKey: cfg.OpenAI.APIKey.Reveal(), Model: cfg.OpenAI.ChatModel,
		Timeout: min(cfg.OpenAI.Timeout, knowledge.DefaultSummaryTimeout),
	})
	if err != nil {
		return nil // unreachable: LLMEnabled means a model is named
	}
	return s
}
