package whatsapp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/metrics"
	"github.com/tend-health/tend/internal/poison"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// MaxWebhookBody is the largest webhook body accepted (413 above). Meta's
// notifications are a few kilobytes even when batched.
const MaxWebhookBody = 1 << 20

// optionsTTL is how long numbered options stay valid for a typed number.
const optionsTTL = 24 * time.Hour

// webhook receives the Cloud API's verification requests and notifications.
type webhook struct {
	// accept records a message: handled in the same transaction when its
	// conversation is free (engine.Receive), else with its handling job
	// (engine.Accept).
	accept      func(context.Context, bot.Inbound) (bot.Outcome, error)
	db          *store.DB
	clock       clock.Clock
	log         *slog.Logger
	metrics     *metrics.Metrics
	cm          *channelMetrics
	appSecret   []byte
	verifyToken []byte
	phoneID     string
	reads       *reader
	// rejects skips for good a poison message (or status): one that cannot
	// be recorded however often Meta delivers it. Answering 500 for it
	// would have Meta resend the whole notification for a week; the rest of
	// the notification is recorded as usual.
	rejects *poison.Recorder
}

// verify answers Meta's subscription check: the challenge, as plain text,
// only to a caller that knows the verify token.
func (h *webhook) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	challenge := q.Get("hub.challenge")
	ok := q.Get("hub.mode") == "subscribe" && len(h.verifyToken) > 0 &&
		subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), h.verifyToken) == 1 &&
		challenge != "" && len(challenge) <= 256
	if !ok {
		h.reject(w, r, http.StatusForbidden, "verify_token", "webhook verification refused")
		return
	}
	h.log.InfoContext(r.Context(), "whatsapp: webhook verified by Meta")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, challenge)
}

// receive checks a notification and records it: messages are stored in
// order, one transaction each (handled in it, or with their handling job),
// statuses merged. The answer is 200 once everything is stored; on a storage failure
// it is 500 so that Meta delivers again (repeats are recognised).
func (h *webhook) receive(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.reject(w, r, http.StatusRequestEntityTooLarge, "too_large", "webhook body over the limit")
			return
		}
		h.reject(w, r, http.StatusBadRequest, "unreadable", "webhook body unreadable")
		return
	}
	sig := r.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		h.reject(w, r, http.StatusUnauthorized, "missing_signature", "webhook without X-Hub-Signature-256")
		return
	}
	if !validSignature(h.appSecret, raw, sig) {
		h.reject(w, r, http.StatusForbidden, "bad_signature", "webhook signature does not match WHATSAPP_APP_SECRET")
		return
	}
	doc, err := decodeWebhook(raw)
	if err != nil {
		h.reject(w, r, http.StatusBadRequest, "bad_json", "webhook body is not valid JSON")
		return
	}
	if err := h.record(r.Context(), doc); err != nil {
		h.metrics.Errors.WithLabelValues("whatsapp_webhook").Inc()
		h.log.ErrorContext(r.Context(), "whatsapp: webhook not recorded; Meta will deliver it again", "error", poison.ErrClass(err))
		http.Error(w, "temporarily unavailable", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *webhook) reject(w http.ResponseWriter, r *http.Request, status int, reason, msg string) {
	h.metrics.WebhookRejections.WithLabelValues(Channel, reason).Inc()
	h.log.WarnContext(r.Context(), "whatsapp: "+msg, "status", status, "reason", reason, "remote", r.RemoteAddr)
	http.Error(w, msg, status)
}

// validSignature checks "sha256=<hex HMAC-SHA256(app secret, raw body)>" in
// constant time.
func validSignature(secret, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok || len(hexSig) != sha256.Size*2 || len(secret) == 0 {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value Meta sends for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// record stores every message and status of a notification. It goes on
// after a failure so that one bad item does not hold back the rest, and
// reports the first failure.
func (h *webhook) record(ctx context.Context, doc webhookBody) error {
	if doc.Object != "whatsapp_business_account" {
		h.unknown("object")
		return nil
	}
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, e := range doc.Entry {
		for _, c := range e.Changes {
			if c.Field != "messages" {
				h.unknown("field")
				continue
			}
			v := c.Value
			if v.Metadata.PhoneNumberID != "" && v.Metadata.PhoneNumberID != h.phoneID {
				// Another number of the same business account: not ours to answer.
				h.unknown(skipOtherPhone)
				continue
			}
			names := make(map[string]string, len(v.Contacts))
			for _, ct := range v.Contacts {
				names[ct.WaID] = ct.Profile.Name
			}
			for _, m := range v.Messages {
				keep(h.message(ctx, m, names))
			}
			for _, s := range v.Statuses {
				keep(h.status(ctx, s))
			}
		}
	}
	return first
}

func (h *webhook) unknown(kind string) {
	h.metrics.UnknownUpdates.WithLabelValues(Channel, kind).Inc()
}

// message records one patient message. It returns an error only when the
// message must come again (the notification is answered 500); a message
// that cannot be read, or that the database refuses for good, is rejected
// and skipped.
func (h *webhook) message(ctx context.Context, raw json.RawMessage, names map[string]string) error {
	m, id, err := decodeMessage(raw)
	if err != nil {
		h.rejects.Reject(ctx, poison.Rejection{What: "message", ID: bot.CleanID(id), Reason: poison.Undecodable, Err: err})
		return nil
	}
	in, skip := toInbound(m, names)
	if skip != "" {
		h.unknown(skip)
		if skip == skipUnknown {
			h.log.InfoContext(ctx, "whatsapp: message type not handled; ignored", "type", textutil.CleanLine(m.Type, 32))
		}
		return nil
	}
	if in.Payload == "" {
		if n := optionNumber(in.Text); n > 0 || strings.TrimSpace(in.Text) == "0" {
			opts, err := loadOptions(ctx, h.db.Q(), in.ChatID, h.clock.Now().Add(-optionsTTL))
			if err != nil {
				return err
			}
			if b, ok := pickOption(opts, in.Text, n); ok {
				in.Payload, in.Text = b.Payload, b.Label
			}
		}
	}
	out, err := h.accept(ctx, in)
	if err != nil {
		// nil when rejected now or before (Meta delivered the notification again)
		return h.rejects.Settle(ctx, in.MessageID, poison.Rejection{What: "message", ID: in.MessageID, ChatID: in.ChatID, Err: err})
	}
	h.rejects.OK(in.MessageID)
	if out.Duplicate {
		h.cm.duplicates.Inc()
		return nil
	}
	if in.MessageID == m.ID {
		h.reads.enqueue(m.ID) // an id Tend had to replace is none Meta knows
	}
	return nil
}

// status merges one delivery status. A status of a message Tend did not
// send (an id that is not clean, an unknown status) is ignored; one the
// database refuses for good is skipped.
func (h *webhook) status(ctx context.Context, raw json.RawMessage) error {
	var s status
	if err := json.Unmarshal(raw, &s); err != nil || s.ID == "" || statusRank[s.Status] == 0 || bot.CleanID(s.ID) != s.ID {
		h.unknown("status")
		return nil
	}
	h.cm.statuses.WithLabelValues(s.Status).Inc()
	for i := range s.Errors {
		s.Errors[i].Title = textutil.CleanLine(s.Errors[i].Title, 200)
	}
	conv, err := recordStatus(ctx, h.db.Q(), s, h.clock.Now())
	if err != nil {
		// A status has no row in inbound_rejections (no ID): a poison one is
		// counted and logged only.
		return h.rejects.Settle(ctx, statusKey(s), poison.Rejection{What: "delivery status", Err: err})
	}
	h.rejects.OK(statusKey(s))
	if s.Status != "failed" || conv == nil {
		return nil
	}
	code := 0
	if len(s.Errors) > 0 {
		code = s.Errors[0].Code
	}
	h.log.WarnContext(ctx, "whatsapp: a sent message was not delivered", "conversation_id", *conv, "code", code)
	if code == codeUndeliverable {
		// Not a WhatsApp user any more, or an app too old: later messages
		// fail fast until the patient writes again.
		return h.db.Q().SetUnreachable(ctx, *conv, true, h.clock.Now())
	}
	return nil
}

// statusKey names a status for the poison judge: one message's statuses
// (sent, delivered, read) are recorded one by one.
func statusKey(s status) string { return "status:" + s.ID + ":" + s.Status }
