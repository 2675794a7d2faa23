package knowledge_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/knowledge/embedtest"
	"github.com/tend-health/tend/knowledge/openaifake"
)

func TestOfflineEmbedderConformance(t *testing.T) {
	t.Parallel()
	embedtest.Run(t, func(t *testing.T) knowledge.Embedder { return knowledge.NewOffline(nil) })
}

func TestOpenAIEmbedderConformance(t *testing.T) {
	t.Parallel()
	embedtest.Run(t, func(t *testing.T) knowledge.Embedder {
		srv := openaifake.New(t)
		e, err := knowledge.NewOpenAI(knowledge.OpenAIOptions{BaseURL: srv.BaseURL(), APIKey: "k", Model: "text-embedding-3-small"})
		require.NoError(t, err)
		return e
	})
}

func TestOfflineModelNameTracksLexicon(t *testing.T) {
	t.Parallel()
	a, err := knowledge.NewAnalyzer([]byte("synonyms:\n  - [cost, price]\n"))
	require.NoError(t, err)
	b, err := knowledge.NewAnalyzer([]byte("synonyms:\n  - [cost, price, fee]\n"))
	require.NoError(t, err)
	require.NotEqual(t, knowledge.NewOffline(a).Model(), knowledge.NewOffline(b).Model(), "a lexicon change re-embeds")
	require.Contains(t, knowledge.NewOffline(nil).Model(), "tend-offline-v2-")
}

func TestOfflineEmbedderToleratesMisspellings(t *testing.T) {
	t.Parallel()
	e := knowledge.NewOffline(nil)
	v, err := e.Embed(context.Background(), knowledge.EmbedRequest{Lang: "en", Texts: []string{
		"what should i wear to my mamogram", "What should I wear to my mammogram?", "What should I wear to my colonoscopy?",
	}})
	require.NoError(t, err)
	require.Greater(t, knowledge.Cosine(v[0], v[1]), knowledge.Cosine(v[0], v[2]))
}

// sleeps records the waits between retries instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func newOpenAI(t *testing.T, srv *openaifake.Server, o knowledge.OpenAIOptions) (*knowledge.OpenAI, *sleeps) {
	t.Helper()
	s := &sleeps{}
	o.BaseURL, o.Sleep = srv.BaseURL(), s.sleep
	if o.Model == "" {
		o.Model = "text-embedding-3-small"
	}
	if o.APIKey == "" {
		o.APIKey = "sk-test"
	}
	e, err := knowledge.NewOpenAI(o)
	require.NoError(t, err)
	return e, s
}

func embedOne(e knowledge.Embedder, texts ...string) ([][]float32, error) {
	return e.Embed(context.Background(), knowledge.EmbedRequest{Texts: texts, Lang: "en"})
}

func TestOpenAIRetriesRateLimitsAndServerErrors(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	e, s := newOpenAI(t, srv, knowledge.OpenAIOptions{})
	srv.FailNext(openaifake.Failure{Status: http.StatusTooManyRequests, RetryAfter: "7"},
		openaifake.Failure{Status: http.StatusServiceUnavailable},
		openaifake.Failure{Status: http.StatusInternalServerError})
	v, err := embedOne(e, "hello flu shot")
	require.NoError(t, err)
	require.Len(t, v, 1)
	waits := s.all()
	require.Len(t, waits, 3)
	require.Equal(t, 7*time.Second, waits[0], "Retry-After is honoured")
	require.Greater(t, waits[2], time.Duration(0))
	require.LessOrEqual(t, waits[2], 2*time.Second)
}

func TestOpenAIRetryAfterAsHTTPDate(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	e, s := newOpenAI(t, srv, knowledge.OpenAIOptions{})
	srv.FailNext(openaifake.Failure{Status: http.StatusTooManyRequests, RetryAfter: time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)})
	_, err := embedOne(e, "hello")
	require.NoError(t, err)
	require.Len(t, s.all(), 1)
	require.InDelta(t, 30, s.all()[0].Seconds(), 2)
}

func TestOpenAIDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusNotFound} {
		srv := openaifake.New(t)
		e, s := newOpenAI(t, srv, knowledge.OpenAIOptions{})
		srv.FailNext(openaifake.Failure{Status: status, Message: "The model `nope` does not exist"})
		_, err := embedOne(e, "hello")
		require.Error(t, err)
		require.Contains(t, err.Error(), "does not exist")
		require.Empty(t, s.all(), "status %d is not retried", status)
	}
	srv := openaifake.New(t)
	srv.Key = "sk-right"
	e, s := newOpenAI(t, srv, knowledge.OpenAIOptions{APIKey: "sk-wrong"})
	_, err := embedOne(e, "hello")
	require.ErrorContains(t, err, "Incorrect API key")
	require.Empty(t, s.all())
}

func TestOpenAIGivesUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	e, s := newOpenAI(t, srv, knowledge.OpenAIOptions{MaxRetries: 2})
	for i := 0; i < 5; i++ {
		srv.FailNext(openaifake.Failure{Status: http.StatusBadGateway})
	}
	_, err := embedOne(e, "hello")
	require.ErrorContains(t, err, "giving up after 3 attempts")
	require.Len(t, s.all(), 2)
}

func TestOpenAITimesOutAndRetries(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	release := srv.Block()
	defer release()
	e, s := newOpenAI(t, srv, knowledge.OpenAIOptions{Timeout: 50 * time.Millisecond, MaxRetries: 1})
	_, err := embedOne(e, "hello")
	require.ErrorContains(t, err, "giving up after 2 attempts")
	require.Len(t, s.all(), 1)
}

func TestOpenAIBatches(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	e, _ := newOpenAI(t, srv, knowledge.OpenAIOptions{BatchSize: 10})
	texts := make([]string, 25)
	for i := range texts {
		texts[i] = strings.Repeat("word ", i+1)
	}
	v, err := embedOne(e, texts...)
	require.NoError(t, err)
	require.Len(t, v, 25)
	var sizes []int
	for _, b := range srv.Batches() {
		sizes = append(sizes, len(b))
	}
	require.Equal(t, []int{10, 10, 5}, sizes)
}

func TestOpenAINomicPrefixes(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	e, _ := newOpenAI(t, srv, knowledge.OpenAIOptions{Model: "nomic-embed-text"})
	_, err := e.Embed(context.Background(), knowledge.EmbedRequest{Texts: []string{"flu"}, Purpose: knowledge.ForQuery})
	require.NoError(t, err)
	_, err = e.Embed(context.Background(), knowledge.EmbedRequest{Texts: []string{"flu"}, Purpose: knowledge.ForDocument})
	require.NoError(t, err)
	b := srv.Batches()
	require.Equal(t, "search_query: flu", b[0][0])
	require.Equal(t, "search_document: flu", b[1][0])
	require.Equal(t, "nomic-embed-text", e.Model())
}
