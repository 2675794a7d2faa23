package booking

import (
	"errors"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/textutil"
)

// offerCount is how many slots are offered at once.
const offerCount = 3

// bookNext asks for what the booking still lacks, then offers slots.
func (tt *turn) bookNext() error {
	st := tt.st
	if st.Visit == "" {
		vts := tt.dir.VisitTypes()
		if len(vts) == 1 {
			st.Visit = vts[0].ID
		} else {
			st.Step = stepVisit
			var b []bot.Button
			for _, v := range vts {
				b = append(b, bot.Button{Label: v.Name.In(tt.Lang()), Payload: bot.Payload(Name, "visit", v.ID)})
			}
			tt.say("booking.ask_visit", nil, b...)
			return nil
		}
	}
	if st.Provider == "" {
		return tt.askProvider()
	}
	return tt.offer(tt.searchFrom())
}

// askProvider offers the providers for the visit type, the one the patient
// saw last first.
func (tt *turn) askProvider() error {
	provs := tt.dir.Providers(tt.st.Visit)
	if len(provs) == 1 {
		tt.st.Provider = provs[0].ID
		return tt.offer(tt.searchFrom())
	}
	last, err := tt.lastProvider()
	if err != nil {
		return err
	}
	var b []bot.Button
	for _, p := range provs {
		label := p.Name
		if p.ID == last {
			label = tt.x.T("booking.provider_last", map[string]any{"Name": p.Name})
			b = append([]bot.Button{{Label: label, Payload: bot.Payload(Name, "prov", p.ID)}}, b...)
			continue
		}
		b = append(b, bot.Button{Label: label, Payload: bot.Payload(Name, "prov", p.ID)})
	}
	b = append(b, tt.button("booking.button.any_provider", bot.Payload(Name, "prov", "any")))
	tt.st.Step = stepProv
	tt.say("booking.ask_provider", nil, b...)
	return nil
}

func (tt *turn) lastProvider() (string, error) {
	if tt.patient == nil {
		return "", nil
	}
	last, err := scheduling.LastProvider(tt.Ctx, tt.Q(), tt.patient.ID, tt.Now)
	if err != nil || last != "" {
		return last, err
	}
	return tt.patient.LastProviderID, nil
}

func (tt *turn) searchFrom() time.Time {
	if tt.st.When != nil && !tt.st.When.From.IsZero() {
		return tt.st.When.From
	}
	return tt.Now
}

// offer shows the next free slots from a time, fitting the patient's
// time-of-day wish, with "later", "another day" and "morning or afternoon".
func (tt *turn) offer(from time.Time) error {
	if tt.st.When != nil && len(tt.st.When.Choices) > 0 {
		return tt.askWhichDay()
	}
	slots, err := tt.findSlots(from)
	if err != nil {
		return err
	}
	if len(slots) == 0 && tt.st.When != nil {
		// Nothing in the window asked for: say so, and show the nearest.
		tt.say("booking.none_then", nil)
		tt.st.When = nil
		if slots, err = tt.findSlots(tt.Now); err != nil {
			return err
		}
	}
	p, _ := tt.dir.Provider(tt.st.Provider)
	if len(slots) == 0 {
		tt.say("booking.none_at_all", map[string]any{"Provider": p.Name},
			tt.button("booking.button.other_provider", bot.Payload(Name, "prov", "")),
			tt.button("booking.button.person", bot.Payload("handoff", "request", "asked")))
		tt.finish()
		return nil
	}
	tt.st.Seq++
	tt.st.Offered = tt.st.Offered[:0]
	var b []bot.Button
	for i, s := range slots {
		tt.st.Offered = append(tt.st.Offered, offer{Provider: s.ProviderID, Location: s.LocationID, Start: s.Start, End: s.End, Ref: s.Ref})
		b = append(b, bot.Button{Label: tt.x.slotLabel(s, tt.loc()), Payload: bot.Payload(Name, "slot", itoa(tt.st.Seq), itoa(i))})
	}
	b = append(b, tt.button("booking.button.later", bot.Payload(Name, "more", itoa(tt.st.Seq))),
		tt.button("booking.button.another_day", bot.Payload(Name, "day")),
		tt.button("booking.button.part_of_day", bot.Payload(Name, "part")))
	tt.st.Step = stepSlot
	tt.say("booking.offer", map[string]any{"Provider": p.Name}, b...)
	return nil
}

// findSlots searches forward from a time for slots fitting the wish.
func (tt *turn) findSlots(from time.Time) ([]scheduling.Slot, error) {
	to, limit := time.Time{}, offerCount
	w := tt.st.When
	if w != nil {
		// A time-of-day wish filters after the search: search a bounded
		// span rather than the whole horizon (a FHIR server pages it).
		limit = 0
		to = from.AddDate(0, 0, 28)
		if !w.To.IsZero() {
			to = w.To
		}
	}
	all, err := tt.d.svc.FreeSlots(tt.Ctx, tt.Q(), tt.st.Provider, tt.st.Visit, from, to, limit)
	if err != nil {
		return nil, err
	}
	var out []scheduling.Slot
	for _, s := range all {
		if w == nil || w.Fits(s.Start, tt.loc()) {
			out = append(out, s)
			if len(out) == offerCount {
				break
			}
		}
	}
	return out, nil
}

func (tt *turn) askWhichDay() error {
	var b []bot.Button
	for _, c := range tt.st.When.Choices {
		b = append(b, bot.Button{Label: tt.x.date(c.From.In(tt.loc())), Payload: bot.Payload(Name, "date", c.From.In(tt.loc()).Format("20060102"))})
	}
	tt.st.Step = stepDay
	tt.say("booking.which_day", nil, b...)
	return nil
}

func (tt *turn) visitText() (bool, error) {
	v, ok := tt.dir.FindVisitType(tt.Text())
	if !ok {
		if looksLikeQuestion(tt.Text()) {
			return false, nil
		}
		return true, tt.bookNext()
	}
	tt.st.Visit = v.ID
	return true, tt.bookNext()
}

var anyWords = []string{"any", "anyone", "anybody", "first available", "whoever", "cualquiera", "quien sea", "el primero", "la primera"}

func (tt *turn) providerText() (bool, error) {
	text := tt.Text()
	if p, ok := tt.dir.FindProvider(text); ok && p.Offers(tt.st.Visit) {
		tt.st.Provider = p.ID
		return true, tt.offer(tt.searchFrom())
	}
	if textutil.HasAny(textutil.Normalize(text), anyWords...) {
		return true, tt.pickProvider("any")
	}
	if looksLikeQuestion(text) {
		return false, nil
	}
	tt.say("booking.unknown_provider", nil)
	return true, tt.askProvider()
}

// pickProvider takes a provider button; "any" means the one with the
// soonest slot.
func (tt *turn) pickProvider(id string) error {
	if id == "" {
		tt.st.Provider = ""
		return tt.askProvider()
	}
	if id != "any" {
		if p, ok := tt.dir.Provider(id); !ok || !p.Offers(tt.st.Visit) {
			tt.say("booking.unknown_provider", nil)
			return tt.askProvider()
		}
		tt.st.Provider = id
		return tt.offer(tt.searchFrom())
	}
	var best scheduling.Slot
	for _, p := range tt.dir.Providers(tt.st.Visit) {
		s, err := tt.d.svc.FreeSlots(tt.Ctx, tt.Q(), p.ID, tt.st.Visit, tt.searchFrom(), time.Time{}, 1)
		if err != nil {
			return err
		}
		if len(s) == 1 && (best.ProviderID == "" || s[0].Start.Before(best.Start)) {
			best = s[0]
		}
	}
	if best.ProviderID == "" {
		best.ProviderID = tt.dir.Providers(tt.st.Visit)[0].ID
	}
	tt.st.Provider = best.ProviderID
	return tt.offer(tt.searchFrom())
}

var laterWords = []string{"later", "more", "next", "other times", "mas tarde", "otras", "otros horarios", "siguientes", "mas"}

// whenText reads a date phrase while slots are shown or a day was asked for.
func (tt *turn) whenText() (bool, error) {
	text := tt.Text()
	if p, ok := tt.dir.FindProvider(text); ok && p.ID != tt.st.Provider && p.Offers(tt.st.Visit) {
		tt.st.Provider = p.ID
	}
	w, found, err := ParseWhen(text, tt.Lang(), tt.Now, tt.loc())
	if errors.Is(err, ErrPastDate) {
		tt.say("booking.past_date", nil)
		return true, nil
	}
	if found {
		tt.st.When = &w
		return true, tt.offer(tt.searchFrom())
	}
	if textutil.HasAny(textutil.Normalize(text), laterWords...) && len(tt.st.Offered) > 0 {
		return true, tt.offer(tt.st.Offered[len(tt.st.Offered)-1].Start.Add(time.Minute))
	}
	if looksLikeQuestion(text) {
		return false, nil
	}
	tt.say("booking.date_not_understood", nil)
	return true, nil
}

var (
	yesWords = []string{"yes", "y", "yeah", "yep", "sure", "ok", "okay", "book it", "si", "claro", "de acuerdo", "vale", "confirm", "confirmo"}
	noWords  = []string{"no", "nope", "not", "other", "another", "otra", "otro", "cambiar"}
)

func (tt *turn) yesNoText() (bool, error) {
	norm := textutil.Normalize(tt.Text())
	yes, no := textutil.HasAny(norm, yesWords...), textutil.HasAny(norm, noWords...)
	switch {
	case yes && !no && tt.st.Step == stepConfirm:
		return true, tt.book(tt.st.Seq)
	case yes && !no:
		return true, tt.apptAction("cxy", tt.st.ApptID, tt.st.ApptVer)
	case no && tt.st.Step == stepConfirm:
		return true, tt.offer(tt.searchFrom())
	case no:
		tt.say("booking.kept", nil, tt.menuButtons()...)
		tt.finish()
		return true, nil
	}
	if looksLikeQuestion(tt.Text()) {
		return false, nil
	}
	tt.say("booking.yes_or_no", nil)
	return true, nil
}

// about tells who a provider is, from the directory; no verification is
// needed for what the clinic publishes anyway.
func (tt *turn) about() error {
	p, _ := tt.dir.FindProvider(tt.Text())
	tt.say("booking.about", map[string]any{"Name": p.Name, "Specialty": p.Specialty.In(tt.Lang()), "Bio": p.Bio.In(tt.Lang())},
		tt.button("booking.button.book_with", bot.Payload(Name, "with", p.ID)))
	tt.finish()
	return nil
}
