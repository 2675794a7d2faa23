package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

// ReminderArgs is a durable job that reminds a patient of an appointment
// (What "72h0m0s", "24h0m0s", ...) or tells them what to expect ("prep"). It is
// unique per appointment, version and kind; a job for an older version (the
// appointment moved) or a cancelled appointment does nothing when it runs.
type ReminderArgs struct {
	AppointmentID int64  `json:"appointment_id" river:"unique"`
	Version       int    `json:"version" river:"unique"`
	What          string `json:"what" river:"unique"`
}

// Kind implements river.JobArgs.
func (ReminderArgs) Kind() string { return "booking_reminder" }

const kindPrep = "prep"

// scheduleJobs enqueues an appointment's reminders and "what to expect"
// message in the booking's turn, outside quiet hours.
func (d *Dialog) scheduleJobs(t *bot.Turn, a scheduling.Appointment, p patients.Patient) error {
	if !p.ConsentReminders || a.ConversationID == nil {
		return nil
	}
	now := d.svc.Clock.Now()
	loc := p.Location(d.clinicLoc)
	type job struct {
		kind string
		at   time.Time
	}
	var jobs []job
	for _, before := range d.cfg.Reminders {
		jobs = append(jobs, job{before.String(), a.Start.Add(-before)})
	}
	if d.cfg.PrepDays > 0 {
		jobs = append(jobs, job{kindPrep, a.Start.AddDate(0, 0, -d.cfg.PrepDays)})
	}
	for _, j := range jobs {
		at := d.cfg.sendTime(j.at, a.Start, loc)
		if !at.After(now) {
			continue // booked too late for this one
		}
		err := t.Enqueue(ReminderArgs{AppointmentID: a.ID, Version: a.Version, What: j.kind}, reminderOpts(at))
		if err != nil {
			return err
		}
	}
	return nil
}

// reminderOpts schedules a reminder; unique by its args, so booking twice
// in a retried transaction never reminds twice.
func reminderOpts(at time.Time) *river.InsertOpts {
	return &river.InsertOpts{ScheduledAt: at, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ReminderWorker sends reminders and "what to expect" messages.
type ReminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	DB      *store.DB
	Engine  *bot.Engine
	Dialog  *Dialog
	Catalog *catalog.Catalog
	Clinic  *clinic.Profile
	Clock   clock.Clock
}

// Work implements river.Worker.
func (w *ReminderWorker) Work(ctx context.Context, job *river.Job[ReminderArgs]) error {
	return jobs.RunInTx(ctx, w.DB, func(tx *store.Tx) (time.Duration, error) { return w.send(ctx, tx, job.Args) })
}

// send sends one reminder if it is still due; a positive duration asks to
// try again then (quiet hours began since the job was scheduled).
func (w *ReminderWorker) send(ctx context.Context, tx *store.Tx, args ReminderArgs) (time.Duration, error) {
	now := w.Clock.Now()
	a, err := scheduling.LockAppointment(ctx, tx.Q, args.AppointmentID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if a.Version != args.Version || !a.Upcoming(now) || a.ConversationID == nil {
		return 0, nil // moved, cancelled or over: a newer job (or none) applies
	}
	p, err := patients.Get(ctx, tx.Q, a.PatientID)
	if err != nil {
		return 0, err
	}
	conv, err := tx.GetConversation(ctx, *a.ConversationID)
	if err != nil {
		return 0, err
	}
	// The registry's flag, unless the patient said otherwise (STOP ALL).
	subject := consent.ConversationSubject(conv)
	subject.PatientID = &p.ID
	if d, err := consent.Check(ctx, tx.Q, subject, &p, consent.Reminders); err != nil || !d.Allowed {
		return 0, err
	}
	loc := p.Location(w.Clinic.Location())
	if w.Dialog.cfg.quiet(now, loc) && w.Dialog.cfg.quietEnd(now, loc).Before(a.Start) {
		return w.Dialog.cfg.quietEnd(now, loc).Sub(now), nil
	}
	dir, err := w.Dialog.svc.Directory(ctx, tx.Q)
	if err != nil {
		return 0, err
	}
	x := texts{cat: w.Catalog, lang: conv.Lang}
	var r bot.Reply
	if args.What == kindPrep {
		r = w.Dialog.prepReply(ctx, tx.Q, x, dir, a, loc)
	} else {
		r = reminderReply(x, dir, a, loc)
		if err := scheduling.MarkReminded(ctx, tx.Q, a.ID, now); err != nil {
			return 0, err
		}
	}
	r.Kind = bot.KindReminder
	// The template carries no health details: no provider, no visit type.
	lt := a.Start.In(loc)
	r.Template = &bot.Template{Purpose: "reminder", Params: []string{w.Clinic.Name, x.date(lt), x.clock(lt)}}
	if _, err := w.Engine.Send(ctx, tx, conv.ID, r); err != nil {
		return 0, fmt.Errorf("booking: send reminder: %w", err)
	}
	return 0, nil
}

func reminderReply(x texts, dir *scheduling.Directory, a scheduling.Appointment, loc *time.Location) bot.Reply {
	data := map[string]any{"When": x.when(a.Start, loc)}
	if p, ok := dir.Provider(a.ProviderID); ok {
		data["Provider"] = p.Name
	}
	if l, ok := dir.Location(a.LocationID); ok {
		data["Location"], data["Address"] = l.Name, l.Address
	}
	return bot.Reply{Text: x.T("booking.reminder", data), Buttons: []bot.Button{
		{Label: x.T("booking.button.confirm"), Payload: pendingPayload("ok", a)},
		{Label: x.T("booking.button.reschedule"), Payload: pendingPayload("mv", a)},
		{Label: x.T("booking.button.cancel"), Payload: pendingPayload("cx", a)}}}
}

// prepReply is "what to expect": what to bring and the provider from the
// directory, preparation and cost from the knowledge base; nothing typed
// into code but the catalog's connecting words.
func (d *Dialog) prepReply(ctx context.Context, q store.Q, x texts, dir *scheduling.Directory, a scheduling.Appointment, loc *time.Location) bot.Reply {
	data := map[string]any{"When": x.when(a.Start, loc)}
	var about string
	if p, ok := dir.Provider(a.ProviderID); ok {
		data["Provider"], data["Specialty"] = p.Name, p.Specialty.In(x.lang)
		about = p.Bio.In(x.lang)
	}
	if v, ok := dir.VisitType(a.VisitType); ok {
		data["Visit"], data["Bring"] = v.Name.In(x.lang), v.Bring.In(x.lang)
	}
	text := x.T("booking.prep.intro", data)
	if data["Bring"] != "" {
		text += "\n\n" + x.T("booking.bring", data)
	}
	r := bot.Reply{}
	if info, src, ok := visitInfo(ctx, q, d.info, a.VisitType, x.lang); ok {
		text += "\n\n" + x.T("booking.info", map[string]any{"Info": info, "Source": src})
		r.Sources = []bot.Source{{Document: src}}
	}
	if about != "" {
		text += "\n\n" + x.T("booking.prep.provider", map[string]any{"Provider": data["Provider"], "Bio": about})
	}
	r.Text = text
	r.Buttons = []bot.Button{{Label: x.T("booking.button.ask_more"), Payload: bot.Payload(Name, "ask")},
		{Label: x.T("booking.button.reschedule"), Payload: pendingPayload("mv", a)}}
	return r
}
