// Package openaifake is a local OpenAI-compatible server for tests: it speaks
// the documented wire format of POST /v1/embeddings and POST
// /v1/chat/completions (JSON bodies, error objects, status codes,
// Retry-After) so the real go-openai client can be tested against it
// through its base-URL option.
package openaifake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tend-health/tend/knowledge"
)

// Failure is a canned error answer.
type Failure struct {
	Status     int
	RetryAfter string // Retry-After header value, if any
	Message    string
}

// ChatFunc answers one chat completion: the assistant's content, or a
// failure. It sees the request's messages.
type ChatFunc func(req ChatRequest) (string, *Failure)

// ChatRequest is the part of a chat completion request tests look at.
type ChatRequest struct {
	Model    string        `json:"model"`
	Messages []ChatMessage `json:"messages"`
}

// ChatMessage is one message of a chat request.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Server is the fake.
type Server struct {
	*httptest.Server
	// Key, when set, must arrive as "Authorization: Bearer <key>".
	Key string

	mu         sync.Mutex
	embedder   knowledge.Embedder
	failures   []Failure
	batches    [][]string
	chat       ChatFunc
	chatCalls  []ChatRequest
	blockUntil chan struct{}
}

// New starts a fake whose embeddings come from the offline embedder (so
// similar texts get similar vectors) and whose chat model answers "".
func New(t testing.TB) *Server {
	s := &Server{embedder: knowledge.NewOffline(nil)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", s.embeddings)
	mux.HandleFunc("POST /v1/chat/completions", s.chatCompletions)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the value for OPENAI_BASE_URL (with /v1).
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// FailNext makes the next requests (of any kind) fail, in order.
func (s *Server) FailNext(f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f...)
}

// Block makes requests wait until the returned func is called (timeouts).
func (s *Server) Block() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.blockUntil = ch
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// OnChat sets the chat model's behaviour.
func (s *Server) OnChat(f ChatFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat = f
}

// Batches are the inputs of every embeddings request received.
func (s *Server) Batches() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.batches...)
}

// ChatCalls are the chat requests received.
func (s *Server) ChatCalls() []ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatRequest(nil), s.chatCalls...)
}

func (s *Server) begin(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	block := s.blockUntil
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return false
		}
	}
	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		writeError(w, Failure{Status: http.StatusUnauthorized, Message: "Incorrect API key provided."})
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		writeError(w, f)
		return false
	}
	return true
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Input any    `json:"input"`
		Model string `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, Failure{Status: http.StatusBadRequest, Message: "We could not parse the JSON body of your request."})
		return
	}
	var input []string
	switch v := req.Input.(type) {
	case string:
		input = []string{v}
	case []any:
		for _, x := range v {
			str, ok := x.(string)
			if !ok {
				writeError(w, Failure{Status: http.StatusBadRequest, Message: "'input' must be strings"})
				return
			}
			input = append(input, str)
		}
	}
	if req.Model == "" || len(input) == 0 {
		writeError(w, Failure{Status: http.StatusBadRequest, Message: "you must provide a model and input"})
		return
	}
	if !s.begin(w, r) {
		return
	}
	s.mu.Lock()
	s.batches = append(s.batches, input)
	s.mu.Unlock()
	vecs, err := s.embedder.Embed(context.Background(), knowledge.EmbedRequest{Texts: input, Lang: "en"})
	if err != nil {
		writeError(w, Failure{Status: http.StatusInternalServerError, Message: err.Error()})
		return
	}
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	data := make([]item, 0, len(vecs))
	// Newest first: clients must order by index, not by position.
	for i := len(vecs) - 1; i >= 0; i-- {
		data = append(data, item{Object: "embedding", Index: i, Embedding: vecs[i]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": len(input), "total_tokens": len(input)}})
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	var req ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, Failure{Status: http.StatusBadRequest, Message: "We could not parse the JSON body of your request."})
		return
	}
	if !s.begin(w, r) {
		return
	}
	s.mu.Lock()
	s.chatCalls = append(s.chatCalls, req)
	chat := s.chat
	s.mu.Unlock()
	content := ""
	if chat != nil {
		var f *Failure
		if content, f = chat(req); f != nil {
			writeError(w, *f)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1767225600, "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]string{"role": "assistant", "content": content}}},
		"usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
	})
}

func writeError(w http.ResponseWriter, f Failure) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	typ := "invalid_request_error"
	switch {
	case f.Status == http.StatusTooManyRequests:
		typ = "rate_limit_exceeded"
	case f.Status >= 500:
		typ = "server_error"
	}
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("%d %s", f.Status, strings.ToLower(http.StatusText(f.Status)))
	}
	writeJSON(w, f.Status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
