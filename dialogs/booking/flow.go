package booking

import (
	"errors"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
)

// flowButton handles the buttons of a booking in progress (verified).
func (tt *turn) flowButton(action string, args []string) error {
	st := tt.st
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch action {
	case "visit":
		if _, ok := tt.dir.VisitType(arg(0)); ok {
			st.Visit = arg(0)
			return tt.bookNext()
		}
	case "prov":
		if st.Visit != "" {
			return tt.pickProvider(arg(0))
		}
	case "slot":
		return tt.chooseSlot(atoi(arg(0)), atoi(arg(1)))
	case "more":
		if atoi(arg(0)) == st.Seq && len(st.Offered) > 0 && st.Provider != "" {
			return tt.offer(st.Offered[len(st.Offered)-1].Start.Add(time.Minute))
		}
	case "day":
		if st.Provider != "" {
			st.Step = stepDay
			tt.say("booking.ask_day", nil)
			return nil
		}
	case "part":
		if st.Provider != "" {
			tt.say("booking.ask_part", nil, tt.button("booking.button.morning", bot.Payload(Name, "tod", "am")),
				tt.button("booking.button.afternoon", bot.Payload(Name, "tod", "pm")))
			return nil
		}
	case "tod":
		if st.Provider != "" {
			w := When{}
			if st.When != nil {
				w = *st.When
			}
			w.AfterMin, w.BeforeMin = 0, 720
			if arg(0) == "pm" {
				w.AfterMin, w.BeforeMin = 720, 0
			}
			st.When = &w
			return tt.offer(tt.searchFrom())
		}
	case "date":
		if d, err := time.ParseInLocation("20060102", arg(0), tt.loc()); err == nil && st.Provider != "" {
			w := When{From: d, To: d.AddDate(0, 0, 1)}
			if st.When != nil {
				w.AfterMin, w.BeforeMin = st.When.AfterMin, st.When.BeforeMin
			}
			st.When = &w
			return tt.offer(d)
		}
	case "book":
		return tt.book(atoi(arg(0)))
	case "other":
		if st.Provider != "" {
			return tt.offer(tt.searchFrom())
		}
	}
	return tt.oldButton()
}

// oldButton answers a button whose flow is gone (expired or finished).
func (tt *turn) oldButton() error {
	tt.say("booking.old_button", nil, tt.button("booking.button.start", bot.Payload(Name, "start")))
	tt.finish()
	return nil
}

// chooseSlot takes a slot button: it must come from the latest offer.
func (tt *turn) chooseSlot(seq, i int) error {
	st := tt.st
	if st.Provider == "" || st.Visit == "" {
		return tt.oldButton()
	}
	if seq != st.Seq || i < 0 || i >= len(st.Offered) {
		tt.say("booking.offer_outdated", nil)
		return tt.offer(tt.searchFrom())
	}
	o := st.Offered[i]
	if o.Start.Before(tt.Now.Add(tt.dir.MinNotice())) {
		tt.say("booking.slot_past", nil)
		return tt.offer(tt.Now)
	}
	st.Chosen, st.Step = &o, stepConfirm
	data := tt.apptData(o.Provider, o.Location, st.Visit, o.Start)
	yes, no := tt.button("booking.button.book_it", bot.Payload(Name, "book", itoa(st.Seq))),
		tt.button("booking.button.other_times", bot.Payload(Name, "other"))
	if st.ApptID != 0 {
		a, err := scheduling.GetAppointment(tt.Ctx, tt.Q(), st.ApptID)
		if err != nil {
			return err
		}
		data["OldWhen"] = tt.x.when(a.Start, tt.loc())
		tt.say("booking.confirm_move", data, tt.button("booking.button.move_it", bot.Payload(Name, "book", itoa(st.Seq))), no)
		return nil
	}
	tt.say("booking.confirm", data, yes, no)
	return nil
}

// apptData is the template data describing a visit.
func (tt *turn) apptData(provider, location, visit string, start time.Time) map[string]any {
	data := map[string]any{"When": tt.x.when(start, tt.loc())}
	if p, ok := tt.dir.Provider(provider); ok {
		data["Provider"] = p.Name
	}
	if l, ok := tt.dir.Location(location); ok {
		data["Location"], data["Address"], data["LocationPhone"] = l.Name, l.Address, l.Phone
	}
	if v, ok := tt.dir.VisitType(visit); ok {
		data["Visit"], data["Bring"] = v.Name.In(tt.Lang()), v.Bring.In(tt.Lang())
	}
	return data
}

// book books the chosen slot, or offers the next ones when it was taken.
func (tt *turn) book(seq int) error {
	st := tt.st
	if st.Chosen == nil || seq != st.Seq {
		return tt.oldButton()
	}
	if st.ApptID != 0 {
		return tt.reschedule()
	}
	conv := tt.ConversationID()
	a, err := tt.d.svc.Book(tt.Ctx, tt.Q(), scheduling.BookRequest{PatientID: tt.patient.ID, ConversationID: &conv,
		VisitType: st.Visit, Slot: st.Chosen.slot()})
	if done, err := tt.bookingFailed(err); done || err != nil {
		return err
	}
	if err := patients.SetLastProvider(tt.Ctx, tt.Q(), tt.patient.ID, a.ProviderID, tt.Now); err != nil {
		return err
	}
	if err := tt.d.scheduleJobs(tt.Turn, a, *tt.patient); err != nil {
		return err
	}
	tt.d.log.InfoContext(tt.Ctx, "appointment booked", "appointment_id", a.ID, "patient_id", a.PatientID, "conversation_id", tt.ConversationID())
	tt.confirmation(a, "booking.booked")
	tt.finish()
	return nil
}

// bookingFailed turns a failed booking into the right answer: a taken slot
// offers the next ones; a slot gone by offers fresh ones.
func (tt *turn) bookingFailed(err error) (bool, error) {
	var stale *scheduling.StaleError
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, scheduling.ErrSlotTaken):
		tt.say("booking.taken", nil)
		return true, tt.offer(tt.st.Chosen.Start)
	case errors.Is(err, scheduling.ErrSlotPast), errors.Is(err, scheduling.ErrNotInSchedule):
		tt.say("booking.slot_past", nil)
		return true, tt.offer(tt.Now)
	case errors.As(err, &stale):
		return true, tt.stale(stale.Current)
	}
	return true, err
}

func (tt *turn) reschedule() error {
	st := tt.st
	a, err := tt.d.svc.Reschedule(tt.Ctx, tt.Q(), st.ApptID, st.ApptVer, st.Chosen.slot())
	if done, err := tt.bookingFailed(err); done || err != nil {
		return err
	}
	if err := tt.d.scheduleJobs(tt.Turn, a, *tt.patient); err != nil {
		return err
	}
	tt.d.log.InfoContext(tt.Ctx, "appointment moved", "appointment_id", a.ID, "version", a.Version)
	tt.confirmation(a, "booking.moved")
	tt.finish()
	return nil
}

// confirmation tells the patient what was booked: who, when, where, what
// to bring, what the knowledge base says about the visit, and a calendar file.
func (tt *turn) confirmation(a scheduling.Appointment, headID string) {
	data := tt.apptData(a.ProviderID, a.LocationID, a.VisitType, a.Start)
	text := tt.x.T(headID, data)
	if v, ok := tt.dir.VisitType(a.VisitType); ok && v.Telehealth {
		text += "\n\n" + tt.x.T("booking.telehealth_note", data)
	}
	if data["Bring"] != "" {
		text += "\n\n" + tt.x.T("booking.bring", data)
	}
	r := bot.Reply{Buttons: tt.menuButtons()}
	if info, src, ok := visitInfo(tt.Ctx, tt.Q(), tt.d.info, a.VisitType, tt.Lang()); ok {
		text += "\n\n" + tt.x.T("booking.info", map[string]any{"Info": info, "Source": src})
		r.Sources = []bot.Source{{Document: src}}
	}
	r.Text = text
	if link := tt.d.links.url(a, tt.Now); link != "" {
		r.Links = []bot.Link{{Label: tt.x.T("booking.calendar_link"), URL: link}}
	}
	tt.Reply(r)
}
