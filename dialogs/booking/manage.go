package booking

import (
	"errors"
	"strings"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

// remindedAppointment is the appointment a typed "C" confirms: the
// conversation's patient's next one that was reminded and not confirmed.
func (tt *turn) remindedAppointment() *scheduling.Appointment {
	if tt.PatientID() == nil {
		return nil
	}
	list, err := scheduling.Upcoming(tt.Ctx, tt.Q(), *tt.PatientID(), tt.Now)
	if err != nil {
		return nil
	}
	for _, a := range list {
		if a.RemindedAt != nil && a.ConfirmedAt == nil {
			return &a
		}
	}
	return nil
}

// list shows the patient's upcoming appointments with buttons to change them.
func (tt *turn) list() error {
	appts, err := scheduling.Upcoming(tt.Ctx, tt.Q(), tt.patient.ID, tt.Now)
	if err != nil {
		return err
	}
	tt.finish()
	if len(appts) == 0 {
		tt.say("booking.none_upcoming", nil, tt.button("booking.button.start", bot.Payload(Name, "start")))
		return nil
	}
	lines := []string{tt.x.T("booking.list_head")}
	var b []bot.Button
	for i, a := range appts {
		data := tt.apptData(a.ProviderID, a.LocationID, a.VisitType, a.Start)
		lines = append(lines, tt.x.T("booking.list_item", data))
		if i < 3 {
			date := map[string]any{"Date": tt.x.date(a.Start.In(tt.loc()))}
			b = append(b, bot.Button{Label: tt.x.T("booking.button.change_date", date), Payload: pendingPayload("mv", a)},
				bot.Button{Label: tt.x.T("booking.button.cancel_date", date), Payload: pendingPayload("cx", a)})
		}
	}
	b = append(b, tt.button("booking.button.start", bot.Payload(Name, "start")))
	tt.Reply(bot.Reply{Text: strings.Join(lines, "\n"), Buttons: b})
	return nil
}

func pendingPayload(action string, a scheduling.Appointment) string {
	return bot.Payload(Name, action, itoa64(a.ID), itoa(a.Version))
}

// pickAppointment asks which appointment to cancel or move (or takes the
// only one).
func (tt *turn) pickAppointment(kind string) error {
	appts, err := scheduling.Upcoming(tt.Ctx, tt.Q(), tt.patient.ID, tt.Now)
	if err != nil {
		return err
	}
	action := "cx"
	if kind == intentResched {
		action = "mv"
	}
	switch len(appts) {
	case 0:
		tt.say("booking.none_upcoming", nil, tt.button("booking.button.start", bot.Payload(Name, "start")))
		tt.finish()
		return nil
	case 1:
		return tt.apptAction(action, appts[0].ID, appts[0].Version)
	}
	var b []bot.Button
	for _, a := range appts {
		b = append(b, bot.Button{Label: tt.x.when(a.Start, tt.loc()), Payload: pendingPayload(action, a)})
	}
	tt.st.Step, tt.st.Pending = stepPick, kind
	tt.say("booking.pick_appointment", nil, b...)
	return nil
}

// apptAction confirms, starts moving, asks to cancel or cancels an
// appointment named by a button (id and the version the button showed).
func (tt *turn) apptAction(kind string, id int64, version int) error {
	a, err := scheduling.GetAppointment(tt.Ctx, tt.Q(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PatientID != tt.patient.ID) {
		tt.say("booking.appt_not_found", nil)
		tt.finish()
		return nil
	}
	if err != nil {
		return err
	}
	if a.Version != version || !a.Upcoming(tt.Now) {
		return tt.stale(a)
	}
	late := a.Start.Sub(tt.Now) < tt.dir.LateCancel()
	data := tt.apptData(a.ProviderID, a.LocationID, a.VisitType, a.Start)
	data["Hours"] = int(tt.dir.LateCancel().Hours())
	switch kind {
	case "ok":
		if _, err := tt.d.svc.Confirm(tt.Ctx, tt.Q(), a.ID, a.Version); err != nil {
			return err
		}
		tt.say("booking.confirmed", data, tt.menuButtons()...)
		tt.finish()
	case "mv":
		*tt.st = state{Visit: a.VisitType, Provider: a.ProviderID, ApptID: a.ID, ApptVer: a.Version}
		if late {
			tt.say("booking.late_move_warning", data)
		}
		return tt.offer(tt.Now)
	case "cx":
		tt.st.ApptID, tt.st.ApptVer, tt.st.Step = a.ID, a.Version, stepCancel
		text := tt.x.T("booking.cancel_confirm", data)
		if late {
			text += "\n\n" + tt.x.T("booking.late_cancel_warning", data)
		}
		tt.Reply(bot.Reply{Text: text, Buttons: []bot.Button{
			tt.button("booking.button.yes_cancel", pendingPayload("cxy", a)),
			tt.button("booking.button.keep", bot.Payload(Name, "keep"))}})
	case "cxy":
		return tt.cancel(a, late, data)
	}
	return nil
}

func (tt *turn) cancel(a scheduling.Appointment, late bool, data map[string]any) error {
	c, err := tt.d.svc.Cancel(tt.Ctx, tt.Q(), a.ID, a.Version)
	var stale *scheduling.StaleError
	if errors.As(err, &stale) {
		return tt.stale(stale.Current)
	}
	if err != nil {
		return err
	}
	tt.d.log.InfoContext(tt.Ctx, "appointment cancelled", "appointment_id", c.ID, "late", c.LateCancel)
	text := tt.x.T("booking.cancelled", data)
	if late {
		text += "\n\n" + tt.x.T("booking.late_cancel_note", data)
	}
	tt.Reply(bot.Reply{Text: text, Buttons: []bot.Button{tt.button("booking.button.book_again", bot.Payload(Name, "start")),
		tt.button("booking.button.menu", bot.Payload("menu", "main"))}})
	tt.finish()
	return nil
}

// stale answers a button from an older message: the appointment changed
// since; say so and show it as it is now.
func (tt *turn) stale(a scheduling.Appointment) error {
	tt.finish()
	data := tt.apptData(a.ProviderID, a.LocationID, a.VisitType, a.Start)
	switch {
	case a.Status == scheduling.StatusCancelled:
		tt.say("booking.changed_cancelled", data, tt.button("booking.button.book_again", bot.Payload(Name, "start")))
	case !a.Upcoming(tt.Now):
		tt.say("booking.changed_past", data, tt.menuButtons()...)
	default:
		tt.say("booking.changed_now", data,
			bot.Button{Label: tt.x.T("booking.button.confirm"), Payload: pendingPayload("ok", a)},
			bot.Button{Label: tt.x.T("booking.button.reschedule"), Payload: pendingPayload("mv", a)},
			bot.Button{Label: tt.x.T("booking.button.cancel"), Payload: pendingPayload("cx", a)})
	}
	return nil
}
