package slack

import (
	"errors"
	"io"
	"net/http"
	"net/url"

	slackgo "github.com/slack-go/slack"

	"github.com/tend-health/tend/internal/httpserver"
)

// maxBody bounds a request from Slack; real events are a few kilobytes.
const maxBody = 1 << 20

// readSigned reads the body and checks Slack's signature over it: HMAC-SHA256
// of "v0:{timestamp}:{body}" with the signing secret, compared in constant
// time, with the timestamp within five minutes. ok is false when it has
// already answered.
func (m *Module) readSigned(w http.ResponseWriter, r *http.Request, kind string) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		m.a.Log.Warn("slack request unreadable", "kind", kind, "error", err)
		httpserver.WriteError(w, http.StatusBadRequest, "unreadable body")
		return nil, false
	}
	if len(body) > maxBody {
		m.a.Log.Warn("slack request too large", "kind", kind, "bytes", len(body))
		httpserver.WriteError(w, http.StatusRequestEntityTooLarge, "body too large")
		return nil, false
	}
	sv, err := slackgo.NewSecretsVerifier(r.Header, m.secret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		// The reason (stale, missing headers, bad signature) helps find a
		// wrong secret or a skewed clock; the request itself is not logged.
		m.a.Log.Warn("slack request rejected: bad signature", "kind", kind, "reason", err.Error())
		httpserver.WriteError(w, http.StatusUnauthorized, "invalid signature")
		return nil, false
	}
	return body, true
}

// events serves POST /webhooks/slack/events: the URL check, and message
// events stored for a job and acknowledged at once (Slack wants a 2xx
// within 3 seconds and otherwise retries).
func (m *Module) events(w http.ResponseWriter, r *http.Request) {
	body, ok := m.readSigned(w, r, "event")
	if !ok {
		return
	}
	env, err := decodeEnvelope(body)
	if err != nil {
		m.a.Log.Warn("slack event malformed", "error", err)
		httpserver.WriteError(w, http.StatusBadRequest, "malformed event")
		return
	}
	switch env.Type {
	case "url_verification":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, env.Challenge)
		return
	case "event_callback":
	default:
		m.a.Log.Info("slack event ignored", "type", env.Type)
		w.WriteHeader(http.StatusOK)
		return
	}
	stored, err := m.acceptEvent(r.Context(), env)
	switch {
	case errors.Is(err, errMalformed):
		m.a.Log.Warn("slack event malformed", "error", err)
		httpserver.WriteError(w, http.StatusBadRequest, "malformed event")
		return
	case err != nil:
		// Not stored: a 5xx makes Slack retry, so nothing is lost.
		m.a.Log.Error("slack event not stored", "event_id", env.EventID, "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "try again")
		return
	}
	if retry := r.Header.Get("X-Slack-Retry-Num"); retry != "" && !stored {
		m.a.Log.Info("slack retry dropped", "event_id", env.EventID, "retry", retry,
			"reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	w.WriteHeader(http.StatusOK)
}

// interactions serves POST /webhooks/slack/interactions: button presses,
// form-encoded as payload=<json>, stored for a job and acknowledged at once.
func (m *Module) interactions(w http.ResponseWriter, r *http.Request) {
	body, ok := m.readSigned(w, r, "interaction")
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	payload := form.Get("payload")
	if err != nil || payload == "" {
		m.a.Log.Warn("slack interaction malformed", "error", "no payload field")
		httpserver.WriteError(w, http.StatusBadRequest, "missing payload")
		return
	}
	if _, err := m.acceptInteraction(r.Context(), []byte(payload)); err != nil {
		if errors.Is(err, errMalformed) {
			m.a.Log.Warn("slack interaction malformed", "error", err)
			httpserver.WriteError(w, http.StatusBadRequest, "malformed payload")
			return
		}
		m.a.Log.Error("slack interaction not stored", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "try again")
		return
	}
	w.WriteHeader(http.StatusOK)
}
