package knowledge_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/knowledge/openaifake"
)

func newSummarizer(t *testing.T, srv *openaifake.Server, timeout time.Duration) *knowledge.Summarizer {
	t.Helper()
	s, err := knowledge.NewSummarizer(knowledge.GeneratorOptions{BaseURL: srv.BaseURL(), APIKey: "sk-test", Model: "gpt-test", Timeout: timeout})
	require.NoError(t, err)
	return s
}

var transcript = []knowledge.TranscriptLine{
	{Role: "patient", Text: "Why is my bill   $240?"},
	{Role: "bot", Text: "I'm not sure about that."},
	{Role: "patient", Text: "Can I talk to a person please?"},
}

func TestSummarizerKeepsTwoShortLines(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	srv.Key = "sk-test"
	srv.OnChat(func(openaifake.ChatRequest) (string, *openaifake.Failure) {
		return "- Patient asks why their bill is $240 and wants a person.\n\n* \"The assistant could not answer.\"\nA third line that is dropped.", nil
	})
	got, err := newSummarizer(t, srv, 0).Summarize(context.Background(), "en", transcript)
	require.NoError(t, err)
	require.Equal(t, "Patient asks why their bill is $240 and wants a person.\nThe assistant could not answer.", got)

	calls := srv.ChatCalls()
	require.Len(t, calls, 1)
	require.Equal(t, "gpt-test", calls[0].Model)
	system, user := calls[0].Messages[0].Content, calls[0].Messages[1].Content
	require.Contains(t, system, "Do not diagnose")
	require.Contains(t, system, "in English")
	require.Equal(t, "Conversation:\nPatient: Why is my bill $240?\nAssistant: I'm not sure about that.\nPatient: Can I talk to a person please?\n", user)

	// Spanish-speaking staff get the summary in Spanish; a long line is cut at a word.
	srv.OnChat(func(openaifake.ChatRequest) (string, *openaifake.Failure) {
		return strings.Repeat("palabra ", 60), nil
	})
	got, err = newSummarizer(t, srv, 0).Summarize(context.Background(), "es", transcript)
	require.NoError(t, err)
	require.LessOrEqual(t, utf8.RuneCountInString(got), 200)
	require.True(t, strings.HasSuffix(got, "palabra…"), got)
	require.Contains(t, srv.ChatCalls()[1].Messages[0].Content, "in Spanish")
}

func TestSummarizerFailures(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	ctx := context.Background()
	s := newSummarizer(t, srv, 300*time.Millisecond)

	_, err := s.Summarize(ctx, "en", transcript)
	require.ErrorContains(t, err, "empty summary", "the fake's default answer is empty")

	srv.FailNext(openaifake.Failure{Status: 500})
	_, err = s.Summarize(ctx, "en", transcript)
	require.ErrorContains(t, err, "chat model")

	_, err = s.Summarize(ctx, "en", nil)
	require.Error(t, err)
	require.Len(t, srv.ChatCalls(), 1, "nothing to summarize asks nobody; the failed request is not recorded")

	release := srv.Block()
	t.Cleanup(release)
	began := time.Now()
	_, err = s.Summarize(ctx, "en", transcript)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(began), 5*time.Second)

	_, err = knowledge.NewSummarizer(knowledge.GeneratorOptions{})
	require.Error(t, err, "a model is required")
}
