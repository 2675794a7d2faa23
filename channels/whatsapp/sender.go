package whatsapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/store"
)

// Window is WhatsApp's customer-service window: free-form messages are
// allowed for 24 hours after the patient last wrote.
const Window = 24 * time.Hour

// windowMargin keeps a message decided at 23:59:50 from reaching Meta just
// after the window closed: near the end, the template path is taken.
const windowMargin = time.Minute

// InWindow reports whether a free-form message may be sent now.
func InWindow(lastInbound *time.Time, now time.Time) bool {
	return lastInbound != nil && now.Sub(*lastInbound) < Window-windowMargin
}

// heldTTL is how long a reply held by a closed window stays worth sending.
const heldTTL = 7 * 24 * time.Hour

// Sender delivers replies through the Cloud API (bot.Sender).
type Sender struct {
	api       *client
	db        *store.DB
	clock     clock.Clock
	log       *slog.Logger
	metrics   *channelMetrics
	templates *Templates
	catalog   *catalog.Catalog
	clinic    *clinic.Profile
}

// Send implements bot.Sender. Inside the window the reply goes out as
// WhatsApp renders it; outside it (by our clock or by WhatsApp's answer
// 131047) only the template for the reply's purpose is sent, and the reply
// is held until the patient writes again.
func (s *Sender) Send(ctx context.Context, to bot.Recipient, r bot.Reply) (string, error) {
	if !isWaID(to.ChatID) {
		return "", fmt.Errorf("%w: conversation %d has no WhatsApp id", bot.ErrPermanent, to.ConversationID)
	}
	if !InWindow(to.LastInboundAt, s.clock.Now()) {
		return s.sendTemplate(ctx, to, r, "window closed")
	}
	err := s.sendHeld(ctx, to)
	id := ""
	if err == nil {
		id, err = s.sendFree(ctx, to, r)
	}
	if errors.Is(err, errReengage) {
		return s.sendTemplate(ctx, to, r, "re-engagement required (131047)")
	}
	if err != nil {
		return "", s.failed(ctx, to, err)
	}
	return id, nil
}

// sendHeld first delivers what a closed window held back, now that the
// patient has written again: the template told them a message was waiting.
func (s *Sender) sendHeld(ctx context.Context, to bot.Recipient) error {
	held, err := listHeld(ctx, s.db.Q(), to.ConversationID)
	if err != nil {
		return err
	}
	for _, h := range held {
		if s.clock.Now().Sub(h.created) > heldTTL {
			// A week-old reminder or staff note is more confusing than
			// useful; the patient has been told to get in touch.
			s.log.InfoContext(ctx, "whatsapp: dropping a held reply that waited too long", "conversation_id", to.ConversationID)
		} else if _, err := s.sendFree(ctx, to, h.reply); err != nil {
			return err
		}
		if err := deleteHeld(context.WithoutCancel(ctx), s.db.Q(), h.id); err != nil {
			return err
		}
	}
	return nil
}

// sendFree sends the rendered reply. A reply of several parts records each
// part as it goes, so a retry after a failure resumes where it stopped.
func (s *Sender) sendFree(ctx context.Context, to bot.Recipient, r bot.Reply) (string, error) {
	out := render(r, func(id string) string { return s.catalog.Text(to.Lang, id, nil) })
	if len(out.parts) == 0 {
		return "", nil // nothing to show (an empty reply)
	}
	q := s.db.Q()
	digest := ""
	if len(out.parts) > 1 {
		raw, _ := json.Marshal(r)
		sum := sha256.Sum256(raw)
		digest = hex.EncodeToString(sum[:16])
	}
	if len(r.Buttons) > 0 {
		// Remember numbered options before the patient can see them, so a
		// typed "2" means the second; any other buttons replace them.
		if err := saveOptions(ctx, q, to.ConversationID, out.numbered, s.clock.Now()); err != nil {
			return "", err
		}
	}
	var last string
	for i, p := range out.parts {
		if digest != "" {
			id, done, err := sentPart(ctx, q, to.ConversationID, digest, i)
			if err != nil {
				return "", err
			}
			if done {
				last = id
				continue
			}
		}
		p.RecipientType, p.To = "individual", to.ChatID
		id, err := s.api.send(ctx, p)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) {
				return "", classify(ae)
			}
			return "", err
		}
		last = id
		// The part is out: record it even if the job is being cancelled,
		// or a retry would send it again.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		s.afterSend(bctx, to.ConversationID, id)
		if digest != "" {
			if err := putPart(bctx, q, to.ConversationID, digest, i, id, s.clock.Now()); err != nil {
				// Sent but not recorded: a retry may repeat this part, which
				// beats failing the rest of the reply.
				s.log.WarnContext(ctx, "whatsapp: could not record a sent part", "conversation_id", to.ConversationID, "error", err)
			}
		}
		cancel()
	}
	if digest != "" {
		if err := clearParts(ctx, q, to.ConversationID, digest); err != nil {
			s.log.WarnContext(ctx, "whatsapp: could not clear sent parts", "conversation_id", to.ConversationID, "error", err)
		}
	}
	return last, nil
}

// sendTemplate sends the approved template for the reply's purpose, and
// holds the reply itself until the patient writes again. Without a
// template the message fails for good: it is never reported as sent.
func (s *Sender) sendTemplate(ctx context.Context, to bot.Recipient, r bot.Reply, why string) (string, error) {
	purpose := templatePurpose(r)
	spec, ok := s.templates.For(purpose)
	if !ok {
		s.metrics.templates.WithLabelValues(purpose, "missing").Inc()
		s.log.WarnContext(ctx, "whatsapp: 24-hour window closed and no template configured; message not sent",
			"conversation_id", to.ConversationID, "purpose", purpose, "reason", why)
		return "", fmt.Errorf("%w: the WhatsApp 24-hour window is closed (%s) and no template is configured for %q messages (see %s)",
			bot.ErrPermanent, why, purpose, TemplatesEnv)
	}
	if joined, err := s.joinHeld(ctx, to, r, purpose); err != nil || joined {
		return "", err
	}
	name, phone := "", ""
	if s.clinic != nil {
		name, phone = s.clinic.Name, s.clinic.Phone
	}
	tpl, err := spec.build(to.Lang, templateData{Clinic: name, ClinicPhone: phone, Reply: r})
	if err != nil {
		s.metrics.templates.WithLabelValues(purpose, "invalid").Inc()
		s.log.WarnContext(ctx, "whatsapp: template cannot be filled; message not sent",
			"conversation_id", to.ConversationID, "purpose", purpose, "error", err)
		return "", fmt.Errorf("%w: %w", bot.ErrPermanent, err)
	}
	id, err := s.api.send(ctx, outMessage{RecipientType: "individual", To: to.ChatID, Type: "template", Template: tpl})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			err = classify(ae)
		}
		if errors.Is(err, errReengage) {
			err = fmt.Errorf("%w: %w", bot.ErrPermanent, err)
		}
		return "", s.failed(ctx, to, err)
	}
	s.metrics.templates.WithLabelValues(purpose, "sent").Inc()
	s.log.InfoContext(ctx, "whatsapp: sent a template instead of a free-form message",
		"conversation_id", to.ConversationID, "purpose", purpose, "template", spec.Name, "reason", why)
	s.afterSend(ctx, to.ConversationID, id)
	if r.Text != "" || len(r.Buttons) > 0 {
		if err := hold(ctx, s.db.Q(), to.ConversationID, r, s.clock.Now()); err != nil {
			s.log.ErrorContext(ctx, "whatsapp: could not hold a reply for later", "conversation_id", to.ConversationID, "error", err)
		}
	}
	return id, nil
}

// templatePurpose is the template purpose a reply needs outside the window.
func templatePurpose(r bot.Reply) string {
	purpose := r.Kind
	if r.Template != nil && r.Template.Purpose != "" {
		purpose = r.Template.Purpose
	}
	if purpose == bot.KindReply {
		purpose = PurposeReply
	}
	return purpose
}

// templateGap: a reply to a closed window within this long of a held one
// of the same purpose joins it instead of sending the same template again
// (a survey's invitation and its first question, a staff member's few
// lines): the template already sent announces them all. A later one (a
// survey's reminder two days on) sends the template again.
const templateGap = 10 * time.Minute

// joinHeld holds r behind a template just sent for the same purpose and
// reports whether it did so.
func (s *Sender) joinHeld(ctx context.Context, to bot.Recipient, r bot.Reply, purpose string) (bool, error) {
	held, err := listHeld(ctx, s.db.Q(), to.ConversationID)
	if err != nil {
		return false, err
	}
	now := s.clock.Now()
	for _, h := range held {
		if templatePurpose(h.reply) != purpose || now.Sub(h.created) >= templateGap {
			continue
		}
		if r.Text != "" || len(r.Buttons) > 0 {
			if err := hold(ctx, s.db.Q(), to.ConversationID, r, now); err != nil {
				return false, err
			}
		}
		s.log.InfoContext(ctx, "whatsapp: held a reply behind the template already sent",
			"conversation_id", to.ConversationID, "purpose", purpose)
		return true, nil
	}
	return false, nil
}

// afterSend links the wamid to the conversation for status webhooks, and
// acts on a failure status that arrived before this link.
func (s *Sender) afterSend(ctx context.Context, conversationID int64, wamid string) {
	status, code, err := recordSend(ctx, s.db.Q(), wamid, conversationID, s.clock.Now())
	if err != nil {
		s.log.WarnContext(ctx, "whatsapp: could not record a send", "conversation_id", conversationID, "error", err)
		return
	}
	if status == "failed" && code == codeUndeliverable {
		if err := s.db.Q().SetUnreachable(ctx, conversationID, true, s.clock.Now()); err != nil {
			s.log.WarnContext(ctx, "whatsapp: could not mark unreachable", "conversation_id", conversationID, "error", err)
		}
	}
}

// failed logs what needs a person and counts every failure.
func (s *Sender) failed(ctx context.Context, to bot.Recipient, err error) error {
	var ra *bot.RetryAfterError
	switch {
	case errors.Is(err, errAuth):
		s.metrics.sendErrors.WithLabelValues("auth").Inc()
		s.log.ErrorContext(ctx, "whatsapp: the Cloud API refused our credentials; messages wait until WHATSAPP_ACCESS_TOKEN / WHATSAPP_PHONE_NUMBER_ID are fixed",
			"conversation_id", to.ConversationID, "error", err)
	case errors.As(err, &ra):
		s.metrics.sendErrors.WithLabelValues("rate_limited").Inc()
	case errors.Is(err, bot.ErrUnreachable):
		s.metrics.sendErrors.WithLabelValues("unreachable").Inc()
	case errors.Is(err, bot.ErrPermanent):
		s.metrics.sendErrors.WithLabelValues("permanent").Inc()
	default:
		s.metrics.sendErrors.WithLabelValues("temporary").Inc()
	}
	return err
}
