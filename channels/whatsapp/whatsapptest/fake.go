// Package whatsapptest is a local stand-in for the WhatsApp Business Cloud
// API, for tests: a server that takes POST /{version}/{phone-number-id}/messages
// with Bearer auth, checks each request against the documented shapes and
// limits, answers with real success and error bodies (codes, 429s,
// Retry-After), and records what was sent. It also builds and signs webhook
// notifications the way Meta does (see webhooks.go).
//
// It does not import the channel package: its checks are a second,
// independent reading of the API documentation.
package whatsapptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the Graph API version the fake serves under.
const Version = "v26.0"

// Server is a fake Cloud API.
type Server struct {
	*httptest.Server
	PhoneNumberID string
	Token         string
	// Clock, when set, stamps the messages of Notification (tests that move
	// a fake clock); otherwise they carry the real time.
	Clock func() time.Time

	mu        sync.Mutex
	seq       int
	sent      []Message
	reads     []string
	failures  []Failure
	reengage  map[string]bool
	invalid   map[string]bool
	requests  int
	rejected  []string
	onRequest func(Message)
}

// Message is one accepted send, as the fake understood it.
type Message struct {
	ID          string // the wamid the fake answered with
	To          string
	Type        string // text, interactive, template
	Text        string // the text body, or the interactive body
	PreviewURL  bool
	Interactive string   // button or list
	Choices     []Choice // reply buttons or list rows, in order
	ListButton  string
	Template    string
	Language    string
	Params      []string
	Raw         json.RawMessage
}

// Choice is a reply button or a list row.
type Choice struct {
	ID, Title, Description string
}

// Failure is an error answer the fake gives instead of sending.
type Failure struct {
	Status     int    // HTTP status
	Code       int    // Graph error code (0 for a body-less answer)
	Subcode    int    // error_subcode
	Message    string // error.message
	RetryAfter string // Retry-After header, if any
}

// New starts a fake Cloud API, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{PhoneNumberID: "1098765432101", Token: "EAAtest-token-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		reengage: map[string]bool{}, invalid: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Base is the API base URL for WHATSAPP_API_BASE (version included).
func (s *Server) Base() string { return s.URL + "/" + Version }

// FailNext makes the next len(f) sends fail with these answers, in order.
func (s *Server) FailNext(f ...Failure) {
	s.mu.Lock()
	s.failures = append(s.failures, f...)
	s.mu.Unlock()
}

// Reengage makes free-form sends to waID fail with 131047, as WhatsApp does
// when the 24-hour window has closed; templates still go through.
func (s *Server) Reengage(waID string) {
	s.mu.Lock()
	s.reengage[waID] = true
	s.mu.Unlock()
}

// Invalid makes every send to waID fail with 131026 (not a WhatsApp user).
func (s *Server) Invalid(waID string) {
	s.mu.Lock()
	s.invalid[waID] = true
	s.mu.Unlock()
}

// OnSend is called (outside the fake's lock) with each accepted message.
func (s *Server) OnSend(fn func(Message)) {
	s.mu.Lock()
	s.onRequest = fn
	s.mu.Unlock()
}

// Sent lists the accepted messages, in the order accepted.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// SentTo lists the accepted messages to one recipient.
func (s *Server) SentTo(waID string) []Message {
	var out []Message
	for _, m := range s.Sent() {
		if m.To == waID {
			out = append(out, m)
		}
	}
	return out
}

// Reads lists the message ids marked as read.
func (s *Server) Reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}

// Requests counts every request received, failed ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Rejected lists why malformed requests were refused: a correct client
// never causes one, so tests assert it stays empty.
func (s *Server) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejected...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/"+Version+"/"+s.PhoneNumberID+"/messages" {
		if strings.HasSuffix(r.URL.Path, "/messages") {
			// Graph's answer for an id the token cannot see.
			writeError(w, Failure{Status: 400, Code: 100, Subcode: 33,
				Message: "Unsupported post request. Object with ID does not exist, cannot be loaded due to missing permissions, or does not support this operation."})
			return
		}
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeError(w, Failure{Status: 401, Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.invalidRequest(w, "content type "+ct)
		return
	}
	var raw json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&raw); err != nil {
		s.invalidRequest(w, "body is not JSON")
		return
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.invalidRequest(w, "body does not match the messages schema: "+err.Error())
		return
	}
	if req.Status == "read" {
		s.markRead(w, req)
		return
	}
	m, problem := check(req)
	if problem != "" {
		s.invalidRequest(w, problem)
		return
	}
	m.Raw = raw
	s.mu.Lock()
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		s.mu.Unlock()
		writeError(w, f)
		return
	}
	if s.invalid[m.To] {
		s.mu.Unlock()
		writeError(w, Failure{Status: 400, Code: 131026, Message: "Message undeliverable"})
		return
	}
	if s.reengage[m.To] && m.Type != "template" {
		s.mu.Unlock()
		writeError(w, Failure{Status: 400, Code: 131047,
			Message: "Re-engagement message: More than 24 hours have passed since the recipient last replied to the sender number."})
		return
	}
	s.seq++
	m.ID = fmt.Sprintf("wamid.HBgL%010d", s.seq)
	s.sent = append(s.sent, m)
	hook := s.onRequest
	s.mu.Unlock()
	if hook != nil {
		hook(m)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": m.To, "wa_id": m.To}},
		"messages":          []map[string]string{{"id": m.ID}},
	})
}

func (s *Server) markRead(w http.ResponseWriter, req request) {
	if req.MessagingProduct != "whatsapp" || req.MessageID == "" || req.To != "" || req.Type != "" {
		s.invalidRequest(w, "mark-as-read needs messaging_product, status and message_id only")
		return
	}
	s.mu.Lock()
	s.reads = append(s.reads, req.MessageID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

func (s *Server) invalidRequest(w http.ResponseWriter, problem string) {
	s.mu.Lock()
	s.rejected = append(s.rejected, problem)
	s.mu.Unlock()
	writeError(w, Failure{Status: 400, Code: 100, Message: "(#100) Invalid parameter"}, problem)
}

func writeError(w http.ResponseWriter, f Failure, details ...string) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Code == 0 {
		w.WriteHeader(f.Status)
		return
	}
	e := map[string]any{"message": f.Message, "type": "OAuthException", "code": f.Code,
		"fbtrace_id": "AbCdEfGh" + strconv.Itoa(f.Code)}
	if f.Subcode != 0 {
		e["error_subcode"] = f.Subcode
	}
	if len(details) > 0 {
		e["error_data"] = map[string]string{"messaging_product": "whatsapp", "details": details[0]}
	}
	writeJSON(w, f.Status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
