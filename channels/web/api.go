package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
)

// maxBody bounds a request body; a message is far smaller.
const maxBody = 64 << 10

// Handler serves the web chat.
type Handler struct {
	app     *app.App
	hub     *hub
	limits  *limiter
	ipLimit *limiter
	page    *template.Template
	static  fs.FS
	origins []string
	// PollInterval is how often an event stream checks the database for
	// messages written by another replica.
	PollInterval time.Duration
}

// NewHandler builds the handler from the app's configuration.
func NewHandler(a *app.App) *Handler {
	perMin := a.Config.WebRatePerMinute
	if perMin <= 0 {
		perMin = 30
	}
	return &Handler{
		app:          a,
		hub:          newHub(),
		limits:       newLimiter(float64(perMin)/60, 10),
		ipLimit:      newLimiter(0.5, 20),
		page:         template.Must(template.ParseFS(staticFS, "static/index.html")),
		static:       mustSub(staticFS, "static"),
		origins:      a.Config.WebAllowedOrigins,
		PollInterval: 2 * time.Second,
	}
}

// Routes registers the web chat's endpoints.
func (h *Handler) Routes(s *httpserver.Server) {
	s.HandleFunc("GET /{$}", h.index)
	s.HandleFunc("GET /chat", h.index)
	s.HandleFunc("GET /widget.js", h.widget)
	s.Handle("GET /static/", http.StripPrefix("/static/", h.staticFiles()))
	s.HandleFunc("POST /api/v1/web/sessions", h.newSession)
	s.HandleFunc("POST /api/v1/web/messages", h.postMessage)
	s.HandleFunc("GET /api/v1/web/messages", h.history)
	s.HandleFunc("GET /api/v1/web/events", h.events)
}

type pageData struct {
	Lang  string
	Embed bool
	T     map[string]string
}

var pageMessages = []string{"web.title", "web.intro", "web.placeholder", "web.input_label", "web.send", "web.restart",
	"web.sending", "web.retrying", "web.slow_down", "web.you", "web.assistant", "web.log_label", "web.options_label"}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	h.securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	lang := h.app.Catalog.Match(firstLang(r.Header.Get("Accept-Language")))
	t := make(map[string]string, len(pageMessages))
	for _, id := range pageMessages {
		t[id] = h.app.Catalog.Text(lang, id, nil)
	}
	if err := h.page.Execute(w, pageData{Lang: lang, Embed: r.URL.Query().Get("embed") == "1", T: t}); err != nil {
		h.app.Log.Error("render chat page", "error", err)
	}
}

// securityHeaders allow framing only by the configured clinic sites.
func (h *Handler) securityHeaders(w http.ResponseWriter) {
	ancestors := "'self'"
	for _, o := range h.origins {
		if o == "*" {
			ancestors = "*"
			break
		}
		ancestors += " " + o
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors "+ancestors)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

func (h *Handler) staticFiles() http.Handler {
	fsrv := http.FileServerFS(h.static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsrv.ServeHTTP(w, r)
	})
}

func (h *Handler) widget(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(h.static, "widget.js")
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "widget missing")
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(b)
}

func (h *Handler) newSession(w http.ResponseWriter, r *http.Request) {
	if wait, ok := h.ipLimit.allow(clientIP(r)); !ok {
		tooMany(w, wait)
		return
	}
	httpserver.WriteJSON(w, http.StatusCreated, map[string]string{"session": httpserver.RandomToken(24)})
}

var sessionRe = regexp.MustCompile(`^[0-9a-f]{48}$`)
var clientIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

type messageRequest struct {
	Session string `json:"session"`
	ID      string `json:"id"`
	Text    string `json:"text"`
	Payload string `json:"payload"`
	Locale  string `json:"locale"`
}

type messageResponse struct {
	Duplicate bool         `json:"duplicate"`
	Replies   []bot.Sent   `json:"replies"`
	Messages  []Transcript `json:"messages,omitempty"`
}

func (h *Handler) postMessage(w http.ResponseWriter, r *http.Request) {
	var req messageRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if !sessionRe.MatchString(req.Session) {
		httpserver.WriteError(w, http.StatusUnauthorized, "missing or malformed session")
		return
	}
	if !clientIDRe.MatchString(req.ID) {
		httpserver.WriteError(w, http.StatusBadRequest, "id must be 1-64 letters, digits, - or _")
		return
	}
	if wait, ok := h.limits.allow(req.Session); !ok {
		h.app.Log.Info("web chat rate limited", "retry_after_s", wait.Seconds())
		tooMany(w, wait)
		return
	}
	chat := chatID(req.Session)
	out, err := h.app.Engine.Handle(r.Context(), bot.Inbound{
		Channel: Channel, ChatID: chat, SenderID: chat, MessageID: chat[:16] + ":" + req.ID,
		Text: req.Text, Payload: req.Payload, Locale: req.Locale,
	})
	if err != nil {
		h.app.Log.Error("web message not handled", "error", err)
		// The message was not stored; the browser keeps it and retries with the same id.
		httpserver.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable, please retry")
		return
	}
	if out.Replies == nil {
		out.Replies = []bot.Sent{}
	}
	httpserver.WriteJSON(w, http.StatusOK, messageResponse{Duplicate: out.Duplicate, Replies: out.Replies})
}

// Transcript is one line of the conversation as the widget shows it.
type Transcript struct {
	Role string    `json:"role"` // "patient" or "bot"
	Seq  int64     `json:"seq,omitempty"`
	ID   int64     `json:"id,omitempty"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
	*bot.Reply
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	session := r.URL.Query().Get("session")
	if !sessionRe.MatchString(session) {
		httpserver.WriteError(w, http.StatusUnauthorized, "missing or malformed session")
		return
	}
	conv, err := h.app.DB.Q().FindConversation(r.Context(), Channel, chatID(session))
	if errors.Is(err, store.ErrNotFound) {
		httpserver.WriteJSON(w, http.StatusOK, map[string]any{"messages": []Transcript{}})
		return
	}
	if err != nil {
		httpserver.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable")
		return
	}
	msgs, err := h.transcript(r, conv.ID)
	if err != nil {
		httpserver.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

// transcriptLimit is how much history a reload restores.
const transcriptLimit = 200

func (h *Handler) transcript(r *http.Request, convID int64) ([]Transcript, error) {
	ctx := r.Context()
	q := h.app.DB.Q()
	ins, err := q.RecentInbound(ctx, convID, transcriptLimit)
	if err != nil {
		return nil, err
	}
	outs, err := h.app.Engine.History(ctx, convID, 0, 10000)
	if err != nil {
		return nil, err
	}
	var all []Transcript
	for _, m := range ins {
		text := m.Text
		all = append(all, Transcript{Role: "patient", Text: text, Time: m.ReceivedAt})
	}
	for _, o := range outs {
		rep := o.Reply
		all = append(all, Transcript{Role: "bot", Seq: o.Seq, ID: o.ID, Text: o.Text, Time: o.CreatedAt, Reply: &rep})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Time.Equal(all[j].Time) {
			return all[i].Role == "patient" && all[j].Role == "bot"
		}
		return all[i].Time.Before(all[j].Time)
	})
	if len(all) > transcriptLimit {
		all = all[len(all)-transcriptLimit:]
	}
	return all, nil
}

// events streams the conversation's new bot messages as server-sent events.
// It wakes on this replica's notifications and also polls, so messages
// written by another replica arrive too.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	session := r.URL.Query().Get("session")
	if !sessionRe.MatchString(session) {
		httpserver.WriteError(w, http.StatusUnauthorized, "missing or malformed session")
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > after {
			after = n
		}
	}
	ctx := r.Context()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	fmt.Fprint(w, "retry: 3000\n\n")
	_ = rc.Flush()

	chat := chatID(session)
	var convID int64
	var wake chan struct{}
	poll := time.NewTicker(h.PollInterval)
	defer poll.Stop()
	heartbeat := time.NewTicker(25 * time.Second)
	defer heartbeat.Stop()
	for {
		if convID == 0 {
			if c, err := h.app.DB.Q().FindConversation(ctx, Channel, chat); err == nil {
				convID = c.ID
				var unsub func()
				wake, unsub = h.hub.subscribe(convID)
				defer unsub()
			}
		}
		if convID != 0 {
			msgs, err := h.app.Engine.History(ctx, convID, after, 100)
			if err == nil {
				for _, m := range msgs {
					b, _ := json.Marshal(m)
					fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.Seq, b)
					after = m.Seq
				}
				if len(msgs) > 0 {
					if err := rc.Flush(); err != nil {
						return
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		if h.app.HTTP != nil && h.app.HTTP.Draining() {
			return // the browser reconnects to another replica
		}
	}
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		httpserver.WriteError(w, http.StatusUnsupportedMediaType, "send application/json")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpserver.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", maxBody))
			return false
		}
		httpserver.WriteError(w, http.StatusBadRequest, "invalid JSON")
		return false
	}
	return true
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := int(wait.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	httpserver.WriteError(w, http.StatusTooManyRequests, "too many messages; please wait a moment")
}

func firstLang(acceptLanguage string) string {
	first, _, _ := strings.Cut(acceptLanguage, ",")
	first, _, _ = strings.Cut(first, ";")
	return strings.TrimSpace(first)
}
