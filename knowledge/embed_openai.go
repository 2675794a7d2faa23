package knowledge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"
)

// OpenAIOptions configure an OpenAI-compatible embedding model (OpenAI,
// Azure, Ollama, vLLM, llama.cpp server, LocalAI).
type OpenAIOptions struct {
	// BaseURL includes the /v1 suffix; empty means OpenAI's.
	BaseURL string
	APIKey  string
	Model   string
	// Dimensions asks models that support it for shorter vectors (0: the model's own).
	Dimensions int
	// BatchSize is the most texts sent in one request (default 64).
	BatchSize int
	// Timeout bounds one request (default 30 s).
	Timeout time.Duration
	// MaxRetries is how often a rate-limited, failed or timed-out request is
	// retried (default 4).
	MaxRetries int
	// HTTPClient overrides the HTTP client (tests).
	HTTPClient *http.Client
	// Sleep waits between retries (tests record instead of sleeping).
	Sleep func(ctx context.Context, d time.Duration) error
}

// OpenAI embeds with an OpenAI-compatible /v1/embeddings endpoint.
type OpenAI struct {
	client *openai.Client
	o      OpenAIOptions
}

// NewOpenAI returns an embedder for an OpenAI-compatible server.
func NewOpenAI(o OpenAIOptions) (*OpenAI, error) {
	if o.Model == "" {
		return nil, errors.New("knowledge: TEND_EMBEDDING_MODEL is required for remote embeddings")
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	} else if o.MaxRetries == 0 {
		o.MaxRetries = 4
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	return &OpenAI{client: newOpenAIClient(o.BaseURL, o.APIKey, o.HTTPClient), o: o}, nil
}

func newOpenAIClient(baseURL, key string, hc *http.Client) *openai.Client {
	cfg := openai.DefaultConfig(key)
	if baseURL != "" {
		cfg.BaseURL = strings.TrimRight(baseURL, "/")
	}
	if hc == nil {
		hc = &http.Client{}
	}
	cfg.HTTPClient = retryAfterCapture{hc}
	return openai.NewClientWithConfig(cfg)
}

// Model implements Embedder: the model name, plus the dimensions when set.
func (e *OpenAI) Model() string {
	if e.o.Dimensions > 0 {
		return e.o.Model + "@" + strconv.Itoa(e.o.Dimensions)
	}
	return e.o.Model
}

// Embed implements Embedder, in batches of BatchSize.
func (e *OpenAI) Embed(ctx context.Context, req EmbedRequest) ([][]float32, error) {
	out := make([][]float32, 0, len(req.Texts))
	prefix := ""
	if strings.Contains(e.o.Model, "nomic-embed") {
		// nomic-embed-text is trained with task prefixes.
		prefix = map[Purpose]string{ForDocument: "search_document: ", ForQuery: "search_query: "}[req.Purpose]
	}
	for start := 0; start < len(req.Texts); start += e.o.BatchSize {
		batch := req.Texts[start:min(start+e.o.BatchSize, len(req.Texts))]
		input := make([]string, len(batch))
		for i, t := range batch {
			input[i] = prefix + t
		}
		vecs, err := e.embedBatch(ctx, input)
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func (e *OpenAI) embedBatch(ctx context.Context, input []string) ([][]float32, error) {
	var lastErr error
	for attempt := 0; attempt <= e.o.MaxRetries; attempt++ {
		if attempt > 0 {
			if err := e.o.Sleep(ctx, backoff(attempt, lastErr)); err != nil {
				return nil, err
			}
		}
		vecs, err := e.request(ctx, input)
		if err == nil {
			return vecs, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lastErr = err
		if !retryable(err) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("embeddings: giving up after %d attempts: %w", e.o.MaxRetries+1, lastErr)
}

func (e *OpenAI) request(ctx context.Context, input []string) ([][]float32, error) {
	rctx, cancel := context.WithTimeout(ctx, e.o.Timeout)
	defer cancel()
	var retryAfter string
	rctx = context.WithValue(rctx, retryAfterKey{}, &retryAfter)
	res, err := e.client.CreateEmbeddings(rctx, openai.EmbeddingRequestStrings{
		Input: input, Model: openai.EmbeddingModel(e.o.Model), Dimensions: e.o.Dimensions,
	})
	if err != nil {
		return nil, &requestError{err: err, retryAfter: parseRetryAfter(retryAfter, time.Now())}
	}
	if len(res.Data) != len(input) {
		return nil, fmt.Errorf("embeddings: asked for %d vectors, got %d", len(input), len(res.Data))
	}
	// The API says each item carries its index; do not trust the order.
	sort.Slice(res.Data, func(i, j int) bool { return res.Data[i].Index < res.Data[j].Index })
	out := make([][]float32, len(input))
	dims := len(res.Data[0].Embedding)
	for i, d := range res.Data {
		if d.Index != i {
			return nil, fmt.Errorf("embeddings: response indexes are not 0..%d", len(input)-1)
		}
		if len(d.Embedding) != dims || dims == 0 {
			return nil, errors.New("embeddings: vectors of different sizes in one response")
		}
		v := make([]float64, dims)
		for j, x := range d.Embedding {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, errors.New("embeddings: response holds a non-finite number")
			}
			v[j] = float64(x)
		}
		out[i] = normalize32(v)
	}
	return out, nil
}

// requestError keeps the server's Retry-After with the error.
type requestError struct {
	err        error
	retryAfter time.Duration
}

func (e *requestError) Error() string { return "embeddings: " + e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// retryable: rate limits, server errors, timeouts and connection failures
// may succeed later; a bad request or a bad key will not.
func retryable(err error) bool {
	if status := httpStatus(err); status != 0 {
		return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true // the per-request timeout, not the caller's (checked before)
	}
	var re *requestError
	return errors.As(err, &re) // transport-level failures without a status
}

func httpStatus(err error) int {
	var ae *openai.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatusCode
	}
	var rqe *openai.RequestError
	if errors.As(err, &rqe) {
		return rqe.HTTPStatusCode
	}
	return 0
}

// backoff is exponential with jitter (0.5 s, 1 s, 2 s, ... up to 20 s), or the
// server's Retry-After when it sent one (up to a minute).
func backoff(attempt int, err error) time.Duration {
	var re *requestError
	if errors.As(err, &re) && re.retryAfter > 0 {
		return min(re.retryAfter, time.Minute)
	}
	d := time.Duration(500*(1<<min(attempt-1, 6))) * time.Millisecond
	d = min(d, 20*time.Second)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type retryAfterKey struct{}

// retryAfterCapture records a response's Retry-After header for the caller
// (go-openai's errors do not carry response headers).
type retryAfterCapture struct{ c *http.Client }

func (r retryAfterCapture) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.c.Do(req)
	if resp != nil {
		if p, ok := req.Context().Value(retryAfterKey{}).(*string); ok {
			*p = resp.Header.Get("Retry-After")
		}
	}
	return resp, err
}
