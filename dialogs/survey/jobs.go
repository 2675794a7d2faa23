package survey

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/outreach"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// What a survey job does.
const (
	jobInvite = "invite"
	jobRemind = "remind"
	jobExpire = "expire"
)

// JobArgs is a durable survey job for one response: send the invitation,
// the one reminder, or close it when it expires. Unique by its args, so a
// retried transaction never schedules one twice.
type JobArgs struct {
	ResponseID int64  `json:"response_id" river:"unique"`
	What       string `json:"what" river:"unique"`
}

// Kind implements river.JobArgs.
func (JobArgs) Kind() string { return "survey" }

func jobOpts(at time.Time) *river.InsertOpts {
	return &river.InsertOpts{ScheduledAt: at, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Worker runs survey jobs.
type Worker struct {
	river.WorkerDefaults[JobArgs]
	S *Service
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[JobArgs]) error {
	return jobs.RunInTx(ctx, w.S.DB, func(tx *store.Tx) (time.Duration, error) { return w.S.Run(ctx, tx, job.Args) })
}

// Run does one job's work in tx; a positive duration asks to run again
// then (the job came due in quiet hours).
func (s *Service) Run(ctx context.Context, tx *store.Tx, args JobArgs) (time.Duration, error) {
	r, err := lockResponse(ctx, tx.Q, args.ResponseID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	switch args.What {
	case jobExpire:
		if r.Status != StatusInvited && r.Status != StatusInProgress {
			return 0, nil
		}
		r.Status, r.FinishedAt = StatusExpired, &now
		if err := s.raiseAlert(ctx, tx, &r); err != nil {
			return 0, err
		}
		return 0, saveResponse(ctx, tx.Q, &r, now)
	case jobRemind:
		return s.remind(ctx, tx, &r, now)
	case jobInvite:
		return s.invite(ctx, tx, &r, now)
	}
	return 0, nil
}

// invite sends the invitation with the first question, if the patient
// can be reached, agreed to surveys and has no other survey open.
func (s *Service) invite(ctx context.Context, tx *store.Tx, r *Response, now time.Time) (time.Duration, error) {
	if r.Status != StatusScheduled {
		return 0, nil
	}
	p, err := patients.Get(ctx, tx.Q, r.PatientID)
	if err != nil {
		return 0, err
	}
	if wait := s.quietWait(p, now); wait > 0 {
		return wait, nil
	}
	skip := func(reason string) (time.Duration, error) {
		r.Status, r.Reason = StatusSkipped, reason
		s.Log.InfoContext(ctx, "survey not sent", "response_id", r.ID, "reason", reason)
		return 0, saveResponse(ctx, tx.Q, r, now)
	}
	if busy, err := activeForPatient(ctx, tx.Q, r.PatientID, r.ID, now); err != nil || busy {
		if err != nil {
			return 0, err
		}
		return skip(ReasonAnotherSurvey)
	}
	target, ok, err := outreach.Find(ctx, tx.Q, p, nil, r.ConversationID, s.Channels)
	if err != nil {
		return 0, err
	}
	if !ok {
		return skip(outreach.ReasonUnreachable)
	}
	if d, err := consent.Check(ctx, tx.Q, target.Subject(p), &p, consent.Surveys); err != nil || !d.Allowed {
		if err != nil {
			return 0, err
		}
		return skip(d.Reason)
	}
	r.Lang = outreach.Lang(ctx, tx.Q, p, target)
	r.Current = s.Q.Next(0, nil)
	intro := s.proactive(bot.Reply{Text: s.fill(s.Q.Intro.In(r.Lang))})
	if intro.Text == "" {
		intro.Text = s.t(r.Lang, "survey.intro", nil)
	}
	convID, _, err := outreach.Send(ctx, tx, s.Engine, target, r.Lang, intro, s.proactive(s.question(r.Lang, *r, r.Current)))
	if err != nil {
		return 0, err
	}
	exp := now.Add(s.Cfg.ExpireAfter)
	r.Status, r.ConversationID, r.InvitedAt, r.ExpiresAt = StatusInvited, &convID, &now, &exp
	if err := s.claimConversation(ctx, tx, convID); err != nil {
		return 0, err
	}
	if err := s.scheduleFollowUps(ctx, tx, r, p, now); err != nil {
		return 0, err
	}
	s.Log.InfoContext(ctx, "survey invitation sent", "response_id", r.ID, "conversation_id", convID)
	return 0, saveResponse(ctx, tx.Q, r, now)
}

// proactive marks a reply as a survey message, with the template WhatsApp
// sends outside its 24-hour window: the clinic's name and nothing about
// the visit.
func (s *Service) proactive(r bot.Reply) bot.Reply {
	r.Kind = bot.KindSurvey
	r.Template = &bot.Template{Purpose: bot.KindSurvey, Params: []string{s.Clinic.Name}}
	return r
}

// quietWait is how long to wait for the patient's quiet hours to end.
func (s *Service) quietWait(p patients.Patient, now time.Time) time.Duration {
	loc := p.Location(s.Clinic.Location())
	return s.Cfg.Quiet.Next(now, loc).Sub(now)
}

// claimConversation makes the survey the conversation's active dialog when
// nothing else is, so a typed "8" answers it; a patient in the middle of
// something else can still answer by the buttons.
func (s *Service) claimConversation(ctx context.Context, tx *store.Tx, convID int64) error {
	c, err := tx.LockConversation(ctx, convID)
	if err != nil {
		return err
	}
	if c.Dialog != "" {
		return nil
	}
	c.Dialog = Name
	return tx.SaveConversation(ctx, &c, s.Clock.Now())
}

func (s *Service) scheduleFollowUps(ctx context.Context, tx *store.Tx, r *Response, p patients.Patient, now time.Time) error {
	if s.Cfg.RemindAfter > 0 {
		at := s.Cfg.Quiet.Next(now.Add(s.Cfg.RemindAfter), p.Location(s.Clinic.Location()))
		if at.Before(*r.ExpiresAt) {
			if err := tx.Enqueue(ctx, JobArgs{ResponseID: r.ID, What: jobRemind}, jobOpts(at)); err != nil {
				return err
			}
		}
	}
	return tx.Enqueue(ctx, JobArgs{ResponseID: r.ID, What: jobExpire}, jobOpts(*r.ExpiresAt))
}

// remind sends the one reminder to a patient who has not finished, with
// the question they are at.
func (s *Service) remind(ctx context.Context, tx *store.Tx, r *Response, now time.Time) (time.Duration, error) {
	if !r.Open(now) || r.RemindedAt != nil || r.ConversationID == nil {
		return 0, nil
	}
	p, err := patients.Get(ctx, tx.Q, r.PatientID)
	if err != nil {
		return 0, err
	}
	if wait := s.quietWait(p, now); wait > 0 {
		return wait, nil
	}
	conv, err := tx.GetConversation(ctx, *r.ConversationID)
	if err != nil {
		return 0, err
	}
	subject := consent.ConversationSubject(conv)
	subject.PatientID = &p.ID
	if d, err := consent.Check(ctx, tx.Q, subject, &p, consent.Surveys); err != nil || !d.Allowed {
		return 0, err
	}
	note := s.proactive(bot.Reply{Text: s.t(r.Lang, "survey.reminder", nil)})
	if _, err := s.Engine.Send(ctx, tx, conv.ID, note, s.proactive(s.question(r.Lang, *r, r.Current))); err != nil {
		return 0, err
	}
	r.RemindedAt = &now
	if err := s.claimConversation(ctx, tx, conv.ID); err != nil {
		return 0, err
	}
	return 0, saveResponse(ctx, tx.Q, r, now)
}
