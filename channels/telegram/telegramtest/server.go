// Package telegramtest is a fake Telegram Bot API server for tests. It
// speaks the real wire format: form-encoded POSTs to /bot<token>/<method>,
// reply_markup and allowed_updates as JSON strings inside form fields, and
// answers {"ok":true,"result":...} or {"ok":false,"error_code":...,
// "description":...,"parameters":{"retry_after":...}}. It keeps unconfirmed
// updates the way Telegram does (an update is confirmed by a getUpdates
// call with a higher offset), refuses getUpdates while a webhook is set
// (409), ends a long poll when another one starts (409), and can be told to
// fail: rate limits, blocked users, outages.
package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the fake bot's token; BotID its id (the token's first part).
const (
	Token       = "123456:AAF-fake_token_for_tests_only0123"
	BotID       = 123456
	BotUsername = "tend_test_bot"
)

// Server is the fake Bot API.
type Server struct {
	*httptest.Server

	// OnSend, when set before the first request, sees every message the
	// fake accepts from sendMessage, as it accepts it (benchmarks time
	// replies with it).
	OnSend func(Message)

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced whenever updates arrive or polls change
	updates    []pendingUpdate
	nextUpdate int64
	pollGen    int

	webhookURL    string
	webhookSecret string
	allowed       string

	sent      []Message
	answers   []string
	callbacks map[string]bool
	calls     []Call
	nextMsgID map[int64]int64
	failures  map[string][]Failure
	matchers  []matcher
	down      bool
	downOnly  map[string]bool
	history   []pendingUpdate
	blocked   map[int64]bool
	gone      map[int64]bool
	nextCB    int
}

type matcher struct {
	method string
	left   int
	match  func(url.Values) bool
	f      Failure
}

type pendingUpdate struct {
	id  int64
	raw json.RawMessage
}

// Call is one request the fake received.
type Call struct {
	Method string
	Form   url.Values
	Time   time.Time
}

// Failure is a canned error answer.
type Failure struct {
	Status      int
	Description string
	RetryAfter  int
	// HTML answers with a proxy's HTML page instead of the API's JSON.
	HTML bool
}

// Canned failures as Telegram words them.
var (
	BadGateway = Failure{Status: 502, Description: "Bad Gateway"}
	Blocked    = Failure{Status: 403, Description: "Forbidden: bot was blocked by the user"}
	NotFound   = Failure{Status: 400, Description: "Bad Request: chat not found"}
)

// TooManyRequests is a 429 asking to wait seconds.
func TooManyRequests(seconds int) Failure {
	return Failure{Status: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", seconds), RetryAfter: seconds}
}

// New starts a fake server, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		changed: make(chan struct{}), nextUpdate: 100000, callbacks: map[string]bool{},
		nextMsgID: map[int64]int64{}, failures: map[string][]Failure{}, blocked: map[int64]bool{}, gone: map[int64]bool{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Endpoint is the TELEGRAM_API_ENDPOINT value for this server.
func (s *Server) Endpoint() string { return s.URL + "/bot%s/%s" }

// FailNext makes the next n calls of method fail with f.
func (s *Server) FailNext(method string, n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[method] = append(s.failures[method], f)
	}
}

// FailMatching makes the next n calls of method whose form matches fail with f.
func (s *Server) FailMatching(method string, n int, match func(url.Values) bool, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.matchers = append(s.matchers, matcher{method: method, left: n, match: match, f: f})
}

// SetDown makes calls fail with a proxy's 502 page (true) or work again:
// all calls, or only those of the methods named.
func (s *Server) SetDown(down bool, methods ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down, s.downOnly = down, nil
	if down && len(methods) > 0 {
		s.downOnly = map[string]bool{}
		for _, m := range methods {
			s.downOnly[m] = true
		}
	}
}

// Redeliver queues again every update with an id from fromID on, as
// Telegram does when their confirmation never happened (the bot crashed
// before polling with a higher offset).
func (s *Server) Redeliver(fromID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = nil
	for _, u := range s.history {
		if u.id >= fromID {
			s.updates = append(s.updates, u)
		}
	}
	s.wakeLocked()
}

// Block makes sendMessage to the chat fail as if the user blocked the bot.
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chatID] = true
}

// Unblock undoes Block: the patient wrote to the bot again.
func (s *Server) Unblock(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blocked, chatID)
}

// Forget makes the chat unknown to Telegram (400 chat not found).
func (s *Server) Forget(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone[chatID] = true
}

// SetWebhook registers a webhook as if done by an earlier deployment.
func (s *Server) SetWebhook(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL = u
}

// Webhook is the registered webhook URL and secret ("" when none).
func (s *Server) Webhook() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookSecret
}

// AllowedUpdates is the last allowed_updates value received (a JSON string).
func (s *Server) AllowedUpdates() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allowed
}

// Sent is every message sent so far, in order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// SentTo is the messages sent to one chat, in order.
func (s *Server) SentTo(chatID int64) []Message {
	var out []Message
	for _, m := range s.Sent() {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// Answered is the callback query ids answered so far.
func (s *Server) Answered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.answers...)
}

// Calls is every request for method ("" for all), in order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Pending is the number of updates not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

func (s *Server) wakeLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

var pathRe = regexp.MustCompile(`^/bot([^/]+)/([A-Za-z]+)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := pathRe.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeErr(w, Failure{Status: 404, Description: "Not Found"})
		return
	}
	if m[1] != Token {
		writeErr(w, Failure{Status: 401, Description: "Unauthorized"})
		return
	}
	method := m[2]
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeErr(w, Failure{Status: 405, Description: "Method Not Allowed"})
		return
	}
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			writeErr(w, Failure{Status: 400, Description: "Bad Request: expected a form-encoded body, got " + ct})
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: " + err.Error()})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Form: r.Form, Time: time.Now()})
	if s.down && (s.downOnly == nil || s.downOnly[method]) {
		s.mu.Unlock()
		writeErr(w, Failure{Status: 502, HTML: true})
		return
	}
	for i := range s.matchers {
		m := &s.matchers[i]
		if m.method == method && m.left > 0 && m.match(r.Form) {
			m.left--
			s.mu.Unlock()
			writeErr(w, m.f)
			return
		}
	}
	if q := s.failures[method]; len(q) > 0 {
		f := q[0]
		s.failures[method] = q[1:]
		s.mu.Unlock()
		writeErr(w, f)
		return
	}
	s.mu.Unlock()

	switch method {
	case "getMe":
		writeOK(w, map[string]any{"id": BotID, "is_bot": true, "first_name": "Tend Test", "username": BotUsername,
			"can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false})
	case "getUpdates":
		s.getUpdates(w, r)
	case "sendMessage":
		s.sendMessage(w, r)
	case "answerCallbackQuery":
		s.answerCallbackQuery(w, r)
	case "setWebhook":
		s.setWebhook(w, r)
	case "deleteWebhook":
		s.mu.Lock()
		s.webhookURL, s.webhookSecret = "", ""
		if r.Form.Get("drop_pending_updates") == "true" {
			s.updates = nil
		}
		s.mu.Unlock()
		writeOK(w, true)
	case "getWebhookInfo":
		s.mu.Lock()
		info := map[string]any{"url": s.webhookURL, "has_custom_certificate": false, "pending_update_count": len(s.updates)}
		s.mu.Unlock()
		writeOK(w, info)
	default:
		writeErr(w, Failure{Status: 404, Description: "Not Found: method not found"})
	}
}

func writeOK(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func writeErr(w http.ResponseWriter, f Failure) {
	if f.HTML {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>",
			f.Status, http.StatusText(f.Status), f.Status, http.StatusText(f.Status))
		return
	}
	body := map[string]any{"ok": false, "error_code": f.Status, "description": f.Description}
	if f.RetryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": f.RetryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(body)
}

func formInt(f url.Values, key string, def int64) (int64, error) {
	v := f.Get(key)
	if v == "" {
		return def, nil
	}
	return strconv.ParseInt(v, 10, 64)
}
