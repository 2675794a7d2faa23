// Package campaign runs outreach campaigns (flu shots, screenings,
// refills): an audience over the patient registry, a message per language
// with buttons, previewed and then sent through the durable queue with
// consent, quiet hours, a send window, a per-patient cap and per-channel
// throttling; the patients' answers flow into the normal dialogs.
package campaign

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// Name is the dialog's key; its buttons are "campaign:<button>:<delivery>".
const Name = "campaign"

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the dialog's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// Dialog answers campaign buttons and a typed refill request.
type Dialog struct{ S *Service }

// Name implements bot.Dialog.
func (*Dialog) Name() string { return Name }

// LaterAfter is when "remind me later" sends the message again (once).
const LaterAfter = 3 * 24 * time.Hour

var refillWords = []string{"refill", "refills", "renew my prescription", "resurtir", "surtir", "renovar receta",
	"renovar mi receta", "reposicion"}

// Match claims "refill" typed by a patient who was sent a refill campaign
// in the last two weeks.
func (d *Dialog) Match(t *bot.Turn) int {
	if !textutil.HasAny(textutil.Normalize(t.Text()), refillWords...) {
		return 0
	}
	if _, ok, err := d.recentRefill(t); err == nil && ok {
		return 88
	}
	return 0
}

// Handle implements bot.Dialog.
func (d *Dialog) Handle(t *bot.Turn) (bool, error) {
	action, args, ok := t.Payload(Name)
	if !ok {
		del, found, err := d.recentRefill(t)
		if err != nil || !found {
			return false, err
		}
		return true, d.refill(t, del)
	}
	if len(args) != 1 {
		return false, nil
	}
	id, _ := strconv.ParseInt(args[0], 10, 64)
	del, err := lockDelivery(t.Ctx, t.Q(), id)
	if err != nil || del.ConversationID == nil || *del.ConversationID != t.ConversationID() {
		t.Say("campaign.unknown")
		return true, nil
	}
	del.Response = action
	switch action {
	case ButtonBook:
		if err := saveDelivery(t.Ctx, t.Q(), del, t.Now); err != nil {
			return true, err
		}
		if t.Dialog("booking") == nil {
			t.Say("campaign.call")
			return true, nil
		}
		t.In.Payload = bot.Payload("booking", "start")
		return t.Delegate("booking")
	case ButtonLater:
		return true, d.later(t, del)
	case ButtonNo:
		t.Say("campaign.not_interested")
		return true, saveDelivery(t.Ctx, t.Q(), del, t.Now)
	case ButtonRefill:
		return true, d.refill(t, del)
	}
	return false, nil
}

// later sends the message again in a few days, once.
func (d *Dialog) later(t *bot.Turn, del Delivery) error {
	if del.LaterCount > 0 || del.Status != StatusSent {
		t.Say("campaign.not_interested")
		return saveDelivery(t.Ctx, t.Q(), del, t.Now)
	}
	del.LaterCount++
	del.Status, del.SendAt = StatusQueued, t.Now.Add(LaterAfter)
	if err := saveDelivery(t.Ctx, t.Q(), del, t.Now); err != nil {
		return err
	}
	t.Say("campaign.later")
	return t.Enqueue(SendArgs{DeliveryID: del.ID, Attempt: del.LaterCount}, sendOpts(del.SendAt))
}

// refill records a refill request for staff (listed by the staff API).
func (d *Dialog) refill(t *bot.Turn, del Delivery) error {
	del.Response = ButtonRefill
	if err := saveDelivery(t.Ctx, t.Q(), del, t.Now); err != nil {
		return err
	}
	if _, err := t.Q().Exec(t.Ctx, `INSERT INTO campaign_requests (kind, patient_id, conversation_id, delivery_id, created_at)
		VALUES ('refill', $1, $2, $3, $4)`, del.PatientID, t.ConversationID(), del.ID, t.Now); err != nil {
		return fmt.Errorf("campaign: refill request: %w", err)
	}
	d.S.Log.InfoContext(t.Ctx, "refill request recorded", "conversation_id", t.ConversationID(), "delivery_id", del.ID)
	t.Say("campaign.refill_recorded")
	return nil
}

// recentRefill finds a refill campaign message sent to this conversation
// in the last 14 days.
func (d *Dialog) recentRefill(t *bot.Turn) (Delivery, bool, error) {
	rs, err := t.Q().Query(t.Ctx, `SELECT id, campaign_id FROM campaign_deliveries WHERE conversation_id = $1
		AND status = 'sent' AND sent_at > $2 ORDER BY sent_at DESC`, t.ConversationID(), t.Now.Add(-14*24*time.Hour))
	if err != nil {
		return Delivery{}, false, err
	}
	type row struct {
		id       int64
		campaign string
	}
	var rows []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.campaign); err != nil {
			rs.Close()
			return Delivery{}, false, err
		}
		rows = append(rows, r)
	}
	rs.Close()
	for _, r := range rows {
		c, err := loadDefinition(t.Ctx, t.Q(), r.campaign)
		if err != nil {
			continue
		}
		for _, b := range c.Buttons {
			if b == ButtonRefill {
				del, err := lockDelivery(t.Ctx, t.Q(), r.id)
				return del, err == nil, err
			}
		}
	}
	return Delivery{}, false, rs.Err()
}

// OptedOut implements the consent guard's listener: queued messages of
// this patient (or conversation) are cancelled.
func (d *Dialog) OptedOut(t *bot.Turn, _ bool) error {
	return cancelFor(t.Ctx, t.Q(), t.PatientID(), t.ConversationID(), t.Now)
}

// Requests lists open refill requests for staff.
func Requests(ctx context.Context, q store.Q) ([]map[string]any, error) {
	rs, err := q.Query(ctx, `SELECT r.id, r.kind, COALESCE(p.external_id, ''), r.conversation_id, r.created_at
		FROM campaign_requests r LEFT JOIN patients p ON p.id = r.patient_id WHERE r.status = 'open' ORDER BY r.id`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []map[string]any
	for rs.Next() {
		var id, conv int64
		var kind, patient string
		var at time.Time
		if err := rs.Scan(&id, &kind, &patient, &conv, &at); err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"id": id, "kind": kind, "patient": patient, "conversation_id": conv, "created_at": at})
	}
	return out, rs.Err()
}
