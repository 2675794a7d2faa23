package campaign

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/outreach"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// Worker sends campaign messages.
type Worker struct {
	river.WorkerDefaults[SendArgs]
	S *Service
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return jobs.RunInTx(ctx, w.S.DB, func(tx *store.Tx) (time.Duration, error) { return w.S.Send(ctx, tx, job.Args) })
}

// Send sends one delivery if it is still due and still allowed: consent,
// reachability and the cap are checked again, since days may have passed
// since the run; outside the window it asks to be run again later.
func (s *Service) Send(ctx context.Context, tx *store.Tx, args SendArgs) (time.Duration, error) {
	d, err := lockDelivery(ctx, tx.Q, args.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil || d.Status != StatusQueued {
		return 0, err
	}
	now := s.Clock.Now()
	c, err := loadDefinition(ctx, tx.Q, d.CampaignID)
	if err != nil {
		return 0, err
	}
	p, err := patients.Get(ctx, tx.Q, d.PatientID)
	if err != nil {
		return 0, err
	}
	loc := p.Location(s.Clinic.Location())
	if !s.allowed(c, now, loc) {
		next := s.sendTime(c, now, loc)
		if next.IsZero() {
			return 0, s.skip(ctx, tx, d, ReasonEnded, now)
		}
		return next.Sub(now), nil
	}
	sent, err := recentSends(ctx, tx.Q, c, now)
	if err != nil {
		return 0, err
	}
	cand, err := s.decide(ctx, tx.Q, c, p, sent[p.ID], now)
	if err != nil {
		return 0, err
	}
	if cand.reason != "" {
		return 0, s.skip(ctx, tx, d, cand.reason, now)
	}
	_, due := c.Audience.matches(p, mustFacts(ctx, tx.Q, now), now, s.Clinic.Location())
	convID, out, err := outreach.Send(ctx, tx, s.Engine, cand.target, cand.lang, s.reply(c, cand.lang, p.FirstName, due, d.ID))
	if err != nil {
		return 0, err
	}
	d.Status, d.Reason, d.SentAt, d.ConversationID, d.Channel = StatusSent, "", &now, &convID, cand.channel
	if len(out) > 0 {
		d.OutboundID = &out[0].ID
	}
	s.Log.InfoContext(ctx, "campaign message sent", "campaign", c.ID, "delivery_id", d.ID, "conversation_id", convID)
	return 0, saveDelivery(ctx, tx.Q, d, now)
}

// mustFacts loads the audience facts for the message's due date; without
// them the message simply has no date.
func mustFacts(ctx context.Context, q store.Q, now time.Time) facts {
	f, _ := loadFacts(ctx, q, now)
	return f
}

func (s *Service) skip(ctx context.Context, tx *store.Tx, d Delivery, reason string, now time.Time) error {
	d.Status, d.Reason = StatusSkipped, reason
	s.Log.InfoContext(ctx, "campaign message not sent", "delivery_id", d.ID, "reason", reason)
	return saveDelivery(ctx, tx.Q, d, now)
}

// cancelFor cancels a patient's (or a conversation's) queued deliveries:
// the patient opted out.
func cancelFor(ctx context.Context, q store.Q, patientID *int64, conversationID int64, now time.Time) error {
	var pid int64 = -1
	if patientID != nil {
		pid = *patientID
	}
	_, err := q.Exec(ctx, `UPDATE campaign_deliveries SET status = 'cancelled', reason = $3, updated_at = $4
		WHERE status = 'queued' AND (patient_id = $1 OR conversation_id = $2)`, pid, conversationID, consent.ReasonOptedOut, now)
	return err
}
