package telegramtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"time"
	"unicode/utf16"
)

// getUpdates answers with the unconfirmed updates at or above offset,
// waiting up to timeout seconds for one to arrive. A call confirms (and
// forgets) every update below its offset. A newer call ends a waiting one
// with 409, as Telegram does when two processes poll one bot.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request) {
	offset, err1 := formInt(r.Form, "offset", 0)
	limit, err2 := formInt(r.Form, "limit", 100)
	timeout, err3 := formInt(r.Form, "timeout", 0)
	if err1 != nil || err2 != nil || err3 != nil || limit < 1 || limit > 100 || timeout < 0 {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: wrong parameters"})
		return
	}
	if a := r.Form.Get("allowed_updates"); a != "" {
		var kinds []string
		if json.Unmarshal([]byte(a), &kinds) != nil {
			writeErr(w, Failure{Status: 400, Description: "Bad Request: can't parse allowed_updates JSON"})
			return
		}
	}
	deadline := time.Now().Add(time.Duration(timeout) * time.Second)
	s.mu.Lock()
	if s.webhookURL != "" {
		s.mu.Unlock()
		writeErr(w, Failure{Status: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
		return
	}
	s.allowed = r.Form.Get("allowed_updates")
	s.pollGen++
	gen := s.pollGen
	s.wakeLocked()
	for {
		if offset > 0 {
			kept := s.updates[:0]
			for _, u := range s.updates {
				if u.id >= offset {
					kept = append(kept, u)
				}
			}
			s.updates = kept
		}
		var out []json.RawMessage
		for _, u := range s.updates {
			if len(out) < int(limit) {
				out = append(out, u.raw)
			}
		}
		if len(out) > 0 || !time.Now().Before(deadline) {
			s.mu.Unlock()
			if out == nil {
				out = []json.RawMessage{}
			}
			writeOK(w, out)
			return
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-time.After(time.Until(deadline)):
		}
		s.mu.Lock()
		if s.pollGen != gen {
			s.mu.Unlock()
			writeErr(w, Failure{Status: 409, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})
			return
		}
	}
}

var secretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(w http.ResponseWriter, r *http.Request) {
	u := r.Form.Get("url")
	secret := r.Form.Get("secret_token")
	if secret != "" && !secretRe.MatchString(secret) {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: secret token contains unallowed characters"})
		return
	}
	if u != "" && !regexp.MustCompile(`^https?://`).MatchString(u) {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"})
		return
	}
	s.mu.Lock()
	s.webhookURL, s.webhookSecret = u, secret
	s.allowed = r.Form.Get("allowed_updates")
	s.wakeLocked()
	s.mu.Unlock()
	writeOK(w, true)
}

func (s *Server) answerCallbackQuery(w http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("callback_query_id")
	if len(utf16.Encode([]rune(r.Form.Get("text")))) > 200 {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: MESSAGE_TOO_LONG"})
		return
	}
	s.mu.Lock()
	known := s.callbacks[id]
	if known {
		s.answers = append(s.answers, id)
		delete(s.callbacks, id) // a query is answered once
	}
	s.mu.Unlock()
	if !known {
		writeErr(w, Failure{Status: 400, Description: "Bad Request: query is too old and response timeout expired or query ID is invalid"})
		return
	}
	writeOK(w, true)
}
