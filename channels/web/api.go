package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// maxBody bounds a request body; a message is far smaller.
const maxBody = 64 << 10

// Lengths the web edge cuts text to (textutil.Clean): a message as long as
// the engine stores (longer than it reads, so an over-long message still
// gets the polite "too long" reply), a button payload as long as the engine
// keeps, a locale as long as a BCP 47 tag in practice.
const (
	maxTextRunes   = 16000
	maxLocaleRunes = 35
)

// Handler serves the web chat.
type Handler struct {
	app       *host.Host
	hub       *hub
	sessions  *sessions
	streams   *streams
	trust     *httpserver.ProxyTrust
	limits    *limiter // messages per session
	addrLimit *limiter // messages per client address, all sessions together
	ipLimit   *limiter // new sessions per client address
	page      *template.Template
	static    fs.FS
	origins   []string
	// sourceSalt keys sourceKey.
	sourceSalt []byte
	// PollInterval is how often an event stream checks the database for
	// messages written by another replica.
	PollInterval time.Duration
	// SessionRecheck is how often an event stream checks that its session
	// is still alive (a session ended on this replica ends its streams at
	// once).
	SessionRecheck time.Duration
	// StreamMaxAge is how long one event stream is held.
	StreamMaxAge time.Duration
}

// NewHandler builds the handler from the app's configuration.
func NewHandler(a *host.Host) *Handler {
	def := config.Defaults()
	perMin := a.Config.WebRatePerMinute
	if perMin <= 0 {
		perMin = def.WebRatePerMinute
	}
	sec := a.Config.Security
	addrPerMin := sec.WebAddressRatePerMinute
	if addrPerMin <= 0 {
		addrPerMin = 10 * perMin
	}
	verifiedIdle, anonIdle := positive(sec.WebSessionIdle, def.Security.WebSessionIdle),
		positive(sec.WebSessionIdleAnonymous, def.Security.WebSessionIdleAnonymous)
	perSession, maxStreams := sec.WebStreamsPerSession, sec.WebStreams
	if perSession <= 0 {
		perSession = def.Security.WebStreamsPerSession
	}
	if maxStreams <= 0 {
		maxStreams = def.Security.WebStreams
	}
	return &Handler{
		app: a,
		hub: newHub(),
		sessions: &sessions{db: a.DB, clock: a.Clock, log: a.Log,
			verifiedIdle: min(verifiedIdle, anonIdle), anonIdle: anonIdle},
		streams:        newStreams(perSession, maxStreams),
		trust:          httpserver.NewProxyTrust(sec.TrustedProxyPrefixes()),
		limits:         newLimiter(float64(perMin)/60, 10, a.Clock.Now),
		addrLimit:      newLimiter(float64(addrPerMin)/60, max(10, addrPerMin/5), a.Clock.Now),
		ipLimit:        newLimiter(0.5, 20, a.Clock.Now),
		page:           template.Must(template.ParseFS(staticFS, "static/index.html")),
		static:         mustSub(staticFS, "static"),
		origins:        a.Config.WebAllowedOrigins,
		sourceSalt:     []byte(httpserver.RandomToken(16)),
		PollInterval:   2 * time.Second,
		SessionRecheck: 15 * time.Second,
		StreamMaxAge:   positive(sec.WebStreamMaxAge, def.Security.WebStreamMaxAge),
	}
}

func positive(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Routes registers the web chat's endpoints.
func (h *Handler) Routes(s *httpserver.Server) {
	s.HandleFunc("GET /{$}", h.index)
	s.HandleFunc("GET /chat", h.index)
	s.HandleFunc("GET /widget.js", h.widget)
	s.Handle("GET /static/", http.StripPrefix("/static/", h.staticFiles()))
	s.HandleFunc("POST /api/v1/web/sessions", h.newSession)
	s.HandleFunc("DELETE /api/v1/web/sessions", h.endSession)
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
	"web.sending", "web.retrying", "web.slow_down", "web.you", "web.assistant", "web.log_label", "web.options_label", "web.expired"}

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

// securityHeaders allow framing only by this server and the configured
// clinic sites (TEND_WEB_ALLOWED_ORIGINS; by default none but 'self').
func (h *Handler) securityHeaders(w http.ResponseWriter) {
	ancestors := "'self'"
	for _, o := range h.origins {
		o = strings.TrimSpace(o)
		if o == "*" {
			ancestors = "*"
			break
		}
		if o != "" && o != "'self'" {
			ancestors += " " + o
		}
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors "+ancestors)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

// staticFiles serves the page's files with the page's own headers; a
// directory is not listed.
func (h *Handler) staticFiles() http.Handler {
	fsrv := http.FileServerFS(h.static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if st, err := fs.Stat(h.static, name); name == "" || err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		h.securityHeaders(w)
		w.Header().Set("Cache-Control", "public, max-age=300")
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

// newSession issues a session (rate limited per client address).
func (h *Handler) newSession(w http.ResponseWriter, r *http.Request) {
	if wait, ok := h.ipLimit.allow(h.trust.ClientIP(r)); !ok {
		tooMany(w, wait)
		return
	}
	token, err := h.sessions.issue(r.Context())
	if err != nil {
		h.app.Log.Error("web session not issued", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable, please retry")
		return
	}
	httpserver.WriteJSON(w, http.StatusCreated, map[string]string{"session": token})
}

// endSession ends the session on the server ("Start a new chat") and its
// event streams on this replica (others notice at their next check).
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) {
	token, ok := h.token(w, r, "")
	if !ok {
		return
	}
	key, err := h.sessions.end(r.Context(), token)
	if err != nil {
		httpserver.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable, please retry")
		return
	}
	h.streams.end(key)
	w.WriteHeader(http.StatusNoContent)
}

// token finds the request's session token: the Authorization header
// (Bearer), or for a message the body's "session" field. A token in the
// URL is refused with 400: URLs end up in logs, histories and Referer
// headers. On failure it has answered.
func (h *Handler) token(w http.ResponseWriter, r *http.Request, body string) (string, bool) {
	if r.URL.Query().Has("session") {
		httpserver.WriteError(w, http.StatusBadRequest, "send the session in the Authorization header (Bearer), never in the URL")
		return "", false
	}
	token, ok := httpserver.Bearer(r)
	if !ok {
		token = body
	}
	if !sessionRe.MatchString(token) {
		sessionError(w, codeMissing, "missing or malformed session")
		return "", false
	}
	return token, true
}

// session accepts the request's session, recording activity when active
// is true. On failure it has answered (401, or 503 without a database).
func (h *Handler) session(w http.ResponseWriter, r *http.Request, body string, active bool) (session, bool) {
	token, ok := h.token(w, r, body)
	if !ok {
		return session{}, false
	}
	var s session
	var err error
	if active {
		s, err = h.sessions.touch(r.Context(), token)
	} else {
		s, err = h.sessions.check(r.Context(), token)
	}
	switch {
	case errors.Is(err, errNoSession):
		sessionError(w, codeExpired, "this chat has ended or is not known; start a new one")
		return session{}, false
	case err != nil:
		h.app.Log.Error("web session not checked", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable, please retry")
		return session{}, false
	}
	return s, true
}

var clientIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// metaSourceAddr is handoff.MetaSourceAddr (pinned by a test): urgent staff
// alerts are grouped per client address as well as per conversation.
const metaSourceAddr = "source_addr"

// sourceKey stands for the client's address in the message's metadata,
// which is stored with the message: a keyed hash (the key is random per
// process, as the alert grouping is), so equal addresses group while no
// address is written to the database.
func (h *Handler) sourceKey(r *http.Request) string {
	m := hmac.New(sha256.New, h.sourceSalt)
	m.Write([]byte(h.trust.ClientIP(r)))
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// localeRe is the shape of a language tag (en, es-MX, zh-Hant-TW).
var localeRe = regexp.MustCompile(`^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$`)

// cleanLocale keeps a locale only when it looks like a language tag.
func cleanLocale(s string) string {
	s = textutil.CleanLine(s, maxLocaleRunes)
	if !localeRe.MatchString(s) {
		return ""
	}
	return s
}

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
	if !httpserver.DecodeJSON(w, r, &req, httpserver.JSONOptions{MaxBytes: maxBody}) {
		return
	}
	// One address's messages are capped before any session is looked up,
	// so neither a flood of forged tokens nor many sessions get past it.
	if wait, ok := h.addrLimit.allow(h.trust.ClientIP(r)); !ok {
		h.app.Log.Info("web chat rate limited (address)", "retry_after_s", wait.Seconds())
		tooMany(w, wait)
		return
	}
	if !clientIDRe.MatchString(req.ID) {
		httpserver.WriteError(w, http.StatusBadRequest, "id must be 1-64 letters, digits, - or _")
		return
	}
	// The session's activity is recorded in the turn's transaction.
	sess, ok := h.session(w, r, req.Session, false)
	if !ok {
		return
	}
	if wait, ok := h.limits.allow(sess.key); !ok {
		h.app.Log.Info("web chat rate limited", "retry_after_s", wait.Seconds())
		tooMany(w, wait)
		return
	}
	chat := sess.chat
	out, err := h.app.Engine.HandleWith(r.Context(), bot.Inbound{
		Channel: Channel, ChatID: chat, SenderID: chat, MessageID: chat[:16] + ":" + req.ID,
		Text:    textutil.Clean(req.Text, maxTextRunes),
		Payload: textutil.CleanLine(req.Payload, bot.MaxPayloadBytes),
		Locale:  cleanLocale(req.Locale),
		Meta:    map[string]string{metaSourceAddr: h.sourceKey(r)},
	}, h.sessions.seenInTurn(sess.key))
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
	sess, ok := h.session(w, r, "", true)
	if !ok {
		return
	}
	conv, err := h.app.DB.Q().FindConversation(r.Context(), Channel, sess.chat)
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
// written by another replica arrive too. The page reads it with fetch()
// (the session goes in the Authorization header, which EventSource cannot
// send). A stream ends when its session does, and after StreamMaxAge; the
// page then reconnects. Streams are capped per session (429) and per
// replica (503).
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.session(w, r, "", false)
	if !ok {
		return
	}
	token, _ := httpserver.Bearer(r)
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > after {
			after = n
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.StreamMaxAge)
	defer cancel()
	release, err := h.streams.add(sess.key, cancel)
	switch {
	case errors.Is(err, errSessionStreams):
		w.Header().Set("Retry-After", "10")
		httpserver.WriteError(w, http.StatusTooManyRequests, "too many open event streams for this chat")
		return
	case err != nil:
		w.Header().Set("Retry-After", "10")
		httpserver.WriteError(w, http.StatusServiceUnavailable, "too many open event streams; retry shortly")
		return
	}
	defer release()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	fmt.Fprint(w, "retry: 3000\n\n")
	_ = rc.Flush()

	chat := sess.chat
	var convID int64
	var wake chan struct{}
	poll := time.NewTicker(h.PollInterval)
	defer poll.Stop()
	recheck := time.NewTicker(h.SessionRecheck)
	defer recheck.Stop()
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
		case <-recheck.C:
			if _, err := h.sessions.check(ctx, token); errors.Is(err, errNoSession) {
				return // the page reconnects, is refused and starts a new chat
			}
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
