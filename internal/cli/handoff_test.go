package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/slack"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
)

func TestHandoffExtras(t *testing.T) {
	t.Parallel()
	var o slack.Options
	handoffExtras(config.Config{})(&o)
	require.Equal(t, booking.Registry{}, o.Registry, "staff see a verified patient's card")
	require.Nil(t, o.Summarizer, "without a chat model: the transcript alone")

	cfg := config.Config{OpenAI: config.OpenAI{BaseURL: "http://127.0.0.1:9/v1", ChatModel: "gpt-test"}}
	o = slack.Options{StaffLang: "es"}
	handoffExtras(cfg)(&o)
	s, ok := o.Summarizer.(handoff.ChatSummarizer)
	require.True(t, ok, "%T", o.Summarizer)
	require.NotNil(t, s.Model)
	require.Equal(t, "es", s.Lang, "summaries in the staff's language")
}

// TestBookingQuotesTheInstalledKnowledgeBase: booking's InfoSource is the
// knowledge module that is installed, after booking, in every mode.
func TestBookingQuotesTheInstalledKnowledgeBase(t *testing.T) {
	t.Parallel()
	for _, mode := range []app.Mode{app.ModeCLI, app.ModeServe} {
		var b *booking.Module
		var kb *faq.Module
		for _, m := range modules(config.Config{}, mode) {
			switch m := m.(type) {
			case *booking.Module:
				b = m
			case *faq.Module:
				require.NotNil(t, b, "booking is installed first")
				kb = m
			}
		}
		require.NotNil(t, kb)
		require.Same(t, kb, b.Info)
	}
}
