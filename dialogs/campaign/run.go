package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/store"
)

// Delivery statuses.
const (
	StatusQueued    = "queued"
	StatusSent      = "sent"
	StatusExcluded  = "excluded"  // not sent when run: Reason; a later run looks again
	StatusSkipped   = "skipped"   // found at send time not to be sent: Reason
	StatusCancelled = "cancelled" // the patient opted out before it went
)

// SendArgs is the durable job that sends one campaign message. Unique by
// its args: a run repeated, or a transaction retried, never sends twice.
type SendArgs struct {
	DeliveryID int64 `json:"delivery_id" river:"unique"`
	// Attempt counts "remind me later" re-sends.
	Attempt int `json:"attempt" river:"unique"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "campaign_send" }

func sendOpts(at time.Time) *river.InsertOpts {
	return &river.InsertOpts{ScheduledAt: at, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ErrEnded is returned by Run for a campaign whose end date has passed.
var ErrEnded = errors.New("campaign: the campaign has ended")

// Run records the campaign and, in one transaction, a delivery per patient
// in the audience: queued with a send job (throttled per channel, inside
// the send window) or excluded with the reason. Patients already queued or
// sent by an earlier run are left alone, so running twice sends once.
func (s *Service) Run(ctx context.Context, c *Campaign) (Plan, error) {
	now := s.Clock.Now()
	if c.Ends != "" {
		if end, err := time.ParseInLocation(time.DateOnly, c.Ends, s.Clinic.Location()); err == nil && !now.Before(end.AddDate(0, 0, 1)) {
			return Plan{}, ErrEnded
		}
	}
	var plan Plan
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		plan = Plan{Campaign: c.ID, Excluded: map[string]int{}}
		if err := saveDefinition(ctx, tx.Q, c, now); err != nil {
			return err
		}
		cands, err := s.evaluate(ctx, tx.Q, c, now)
		if err != nil {
			return err
		}
		existing, err := deliveryStatuses(ctx, tx.Q, c.ID)
		if err != nil {
			return err
		}
		perChannel := map[string]int{}
		for _, cand := range cands {
			if st, ok := existing[cand.p.ID]; ok && st != StatusExcluded {
				plan.Matched++
				plan.Already++
				continue
			}
			s.count(&plan, c, cand)
			if cand.reason == "" {
				// Spread each channel's sends at PerSecond.
				n := perChannel[cand.channel]
				perChannel[cand.channel]++
				cand.sendAt = cand.sendAt.Add(time.Duration(float64(n) / c.PerSecond * float64(time.Second)))
			}
			if err := s.record(ctx, tx, c, cand, now); err != nil {
				return err
			}
			if cand.reason == "" {
				plan.Queued++
			}
		}
		return nil
	})
	sortExclusions(plan.Exclusions)
	if err == nil {
		s.Log.InfoContext(ctx, "campaign run", "campaign", c.ID, "queued", plan.Queued, "already", plan.Already,
			"excluded", len(plan.Exclusions))
	}
	return plan, err
}

// record writes a candidate's delivery (an earlier exclusion is updated)
// and enqueues its send job.
func (s *Service) record(ctx context.Context, tx *store.Tx, c *Campaign, cand candidate, now time.Time) error {
	status, sendAt := StatusQueued, cand.sendAt
	if cand.reason != "" {
		status = StatusExcluded
		if sendAt.IsZero() {
			sendAt = now
		}
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO campaign_deliveries (campaign_id, patient_id, channel, status, reason, send_at,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (campaign_id, patient_id) DO UPDATE SET channel = excluded.channel, status = excluded.status,
		reason = excluded.reason, send_at = excluded.send_at, updated_at = excluded.updated_at
		RETURNING id`, c.ID, cand.p.ID, cand.channel, status, cand.reason, sendAt, now).Scan(&id)
	if err != nil {
		return fmt.Errorf("campaign: record delivery: %w", err)
	}
	if status != StatusQueued {
		return nil
	}
	return tx.Enqueue(ctx, SendArgs{DeliveryID: id}, sendOpts(sendAt))
}

func deliveryStatuses(ctx context.Context, q store.Q, campaignID string) (map[int64]string, error) {
	rs, err := q.Query(ctx, `SELECT patient_id, status FROM campaign_deliveries WHERE campaign_id = $1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("campaign: deliveries: %w", err)
	}
	defer rs.Close()
	out := map[int64]string{}
	for rs.Next() {
		var id int64
		var st string
		if err := rs.Scan(&id, &st); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, rs.Err()
}

// Delivery is one patient's message of a campaign.
type Delivery struct {
	ID             int64      `json:"id"`
	CampaignID     string     `json:"campaign"`
	PatientID      int64      `json:"patient_id"`
	ConversationID *int64     `json:"conversation_id,omitempty"`
	OutboundID     *int64     `json:"outbound_id,omitempty"`
	Channel        string     `json:"channel"`
	Status         string     `json:"status"`
	Reason         string     `json:"reason,omitempty"`
	Response       string     `json:"response,omitempty"`
	SendAt         time.Time  `json:"send_at"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
	LaterCount     int        `json:"later_count"`
	// Delivered is the channel's outcome for a sent message (sent, failed, ...).
	Delivered string `json:"delivered,omitempty"`
}

const deliveryCols = `d.id, d.campaign_id, d.patient_id, d.conversation_id, d.outbound_id, d.channel, d.status, d.reason,
	d.response, d.send_at, d.sent_at, d.later_count, COALESCE(o.status, '')`

func scanDelivery(r store.Row) (Delivery, error) {
	var d Delivery
	err := r.Scan(&d.ID, &d.CampaignID, &d.PatientID, &d.ConversationID, &d.OutboundID, &d.Channel, &d.Status, &d.Reason,
		&d.Response, &d.SendAt, &d.SentAt, &d.LaterCount, &d.Delivered)
	return d, err
}

// Deliveries lists a campaign's deliveries with the channel's outcome.
func Deliveries(ctx context.Context, q store.Q, campaignID string) ([]Delivery, error) {
	out, err := store.Collect[Delivery](q.Query(ctx, `SELECT `+deliveryCols+` FROM campaign_deliveries d
		LEFT JOIN outbound_messages o ON o.id = d.outbound_id WHERE d.campaign_id = $1 ORDER BY d.id`, campaignID))(scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("campaign: deliveries: %w", err)
	}
	return out, nil
}

func lockDelivery(ctx context.Context, q store.Q, id int64) (Delivery, error) {
	lock := ""
	if q.ForUpdate() != "" {
		lock = " FOR UPDATE OF d" // not the outer join's nullable side
	}
	return scanDelivery(q.QueryRow(ctx, `SELECT `+deliveryCols+` FROM campaign_deliveries d
		LEFT JOIN outbound_messages o ON o.id = d.outbound_id WHERE d.id = $1`+lock, id))
}

func saveDelivery(ctx context.Context, q store.Q, d Delivery, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE campaign_deliveries SET conversation_id = $2, outbound_id = $3, channel = $4,
		status = $5, reason = $6, response = $7, send_at = $8, sent_at = $9, later_count = $10, updated_at = $11
		WHERE id = $1`, d.ID, d.ConversationID, d.OutboundID, d.Channel, d.Status, d.Reason, d.Response, d.SendAt,
		d.SentAt, d.LaterCount, now)
	if err != nil {
		return fmt.Errorf("campaign: save delivery %d: %w", d.ID, err)
	}
	return nil
}
