// Package outreach is what surveys and campaigns share to reach a patient
// first: which conversation can carry a proactive message (reachability),
// whether the patient agreed to it (consent), and when it may go out (quiet
// hours in the patient's time zone).
package outreach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// ReasonUnreachable: no channel of this deployment can reach the patient.
const ReasonUnreachable = "unreachable"

// Channels reports whether a channel can carry proactive messages here.
type Channels func(channel string) bool

// ChannelsFromConfig: the web chat always (messages wait in the chat's
// history), Telegram and WhatsApp when configured. The terminal channels
// answer inline and are never reached first.
func ChannelsFromConfig(cfg config.Config) Channels {
	return func(ch string) bool {
		switch ch {
		case "web":
			return true
		case "telegram":
			return cfg.TelegramEnabled()
		case "whatsapp":
			return cfg.WhatsAppEnabled()
		}
		return false
	}
}

// Target is where a proactive message goes: an existing conversation, or
// (ConversationID 0) a WhatsApp chat to open on the registry's number.
type Target struct {
	ConversationID int64
	Channel        string
	ChatID         string
	// PatientID is the registry patient the message is for (set by Find);
	// Send links the conversation to them for consent (consent.Link).
	PatientID int64
}

// Subject is the consent subject of sending to p at the target.
func (t Target) Subject(p patients.Patient) consent.Subject {
	id := p.ID
	return consent.Subject{PatientID: &id, Channel: t.Channel, ChatID: t.ChatID}
}

// Find picks the conversation to reach p on: first (the visit's own
// conversation, where the patient talked about it) when usable, else the
// patient's linked conversations and WhatsApp number, ordered by prefer
// (else the patient's preferred channel, then the most recent). With a
// prefer list, other channels are not used.
func Find(ctx context.Context, q store.Q, p patients.Patient, prefer []string, first *int64, can Channels) (Target, bool, error) {
	var cands []Target
	add := func(c store.Conversation) {
		if c.Unreachable || !can(c.Channel) {
			return
		}
		for _, x := range cands {
			if x.ConversationID == c.ID {
				return
			}
		}
		cands = append(cands, Target{ConversationID: c.ID, Channel: c.Channel, ChatID: c.ChatID, PatientID: p.ID})
	}
	if first != nil {
		c, err := q.GetConversation(ctx, *first)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Target{}, false, err
		}
		if err == nil {
			add(c)
		}
	}
	linked, err := linkedConversations(ctx, q, p.ID)
	if err != nil {
		return Target{}, false, err
	}
	for _, c := range linked {
		add(c)
	}
	if p.Phone != "" && can("whatsapp") {
		c, err := q.FindConversation(ctx, "whatsapp", p.Phone)
		switch {
		case err == nil:
			add(c)
		case errors.Is(err, store.ErrNotFound):
			cands = append(cands, Target{Channel: "whatsapp", ChatID: p.Phone, PatientID: p.ID})
		default:
			return Target{}, false, err
		}
	}
	order := prefer
	if len(order) == 0 && p.Channel != "" {
		order = []string{p.Channel}
	}
	// Rank: the visit's own conversation, then the preferred channels in
	// order, then the rest (most recent first); -1 is a channel not accepted.
	rank := func(t Target) int {
		i := slices.Index(order, t.Channel)
		switch {
		case len(prefer) > 0 && i < 0:
			return -1
		case first != nil && t.ConversationID == *first:
			return 0
		case i >= 0:
			return 1 + i
		}
		return 1 + len(order)
	}
	best, bestRank := Target{}, -1
	for _, c := range cands {
		r := rank(c)
		if r >= 0 && (bestRank < 0 || r < bestRank) {
			best, bestRank = c, r
		}
	}
	return best, bestRank >= 0, nil
}

// linkedConversations are the conversations verified as p, most recent first.
func linkedConversations(ctx context.Context, q store.Q, patientID int64) ([]store.Conversation, error) {
	ids, err := store.IDs(q.Query(ctx, `SELECT id FROM conversations WHERE patient_id = $1
		ORDER BY last_inbound_at DESC, id DESC LIMIT 20`, patientID))
	if err != nil {
		return nil, fmt.Errorf("outreach: linked conversations: %w", err)
	}
	out := make([]store.Conversation, 0, len(ids))
	for _, id := range ids {
		c, err := q.GetConversation(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Open returns the target's conversation id, opening the WhatsApp chat on
// the registry's number when there is none yet.
func Open(ctx context.Context, tx *store.Tx, t Target, lang string, now time.Time) (int64, error) {
	if t.ConversationID != 0 {
		return t.ConversationID, nil
	}
	c, _, err := tx.OpenConversation(ctx, t.Channel, t.ChatID, lang, now)
	if err != nil {
		return 0, err
	}
	return c.ID, nil
}

// Send opens the target if needed and queues replies to it in tx. The
// conversation is then linked to the patient (consent.Link): a STOP typed
// there applies to the patient on every channel.
func Send(ctx context.Context, tx *store.Tx, e *bot.Engine, t Target, lang string, replies ...bot.Reply) (int64, []bot.Sent, error) {
	now := e.Clock().Now()
	id, err := Open(ctx, tx, t, lang, now)
	if err != nil {
		return 0, nil, err
	}
	if t.PatientID != 0 {
		if err := consent.Link(ctx, tx.Q, id, t.PatientID, consent.LinkOutreach, now); err != nil {
			return 0, nil, err
		}
	}
	sent, err := e.Send(ctx, tx, id, replies...)
	return id, sent, err
}

// Lang is the language to write to p in: the conversation's when there is
// one, else the registry's, else English.
func Lang(ctx context.Context, q store.Q, p patients.Patient, t Target) string {
	if t.ConversationID != 0 {
		if c, err := q.GetConversation(ctx, t.ConversationID); err == nil && c.Lang != "" {
			return c.Lang
		}
	}
	if p.Lang != "" {
		return p.Lang
	}
	return "en"
}
