package booking

import (
	"errors"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/textutil"
)

// turn is one message as booking handles it.
type turn struct {
	*bot.Turn
	d       *Dialog
	st      *state
	x       texts
	dir     *scheduling.Directory
	patient *patients.Patient // set once verified
	done    bool              // the flow ended; state is cleared
}

func (d *Dialog) newTurn(t *bot.Turn, st *state) (*turn, error) {
	tt := &turn{Turn: t, d: d, st: st, x: texts{cat: t.Catalog(), lang: t.Lang()}}
	dir, err := d.svc.Directory(t.Ctx, t.Q())
	if err != nil && !errors.Is(err, scheduling.ErrNoSchedule) {
		return nil, err
	}
	tt.dir = dir
	return tt, nil
}

// loc is the patient's time zone once known, else the clinic's.
func (tt *turn) loc() *time.Location {
	fallback := time.UTC
	if tt.Clinic != nil && tt.Clinic.Location() != nil {
		fallback = tt.Clinic.Location()
	}
	if tt.patient != nil {
		return tt.patient.Location(fallback)
	}
	return fallback
}

// finish ends the flow after this turn.
func (tt *turn) finish() { tt.done = true }

// say replies with a catalog message and buttons.
func (tt *turn) say(id string, data map[string]any, buttons ...bot.Button) {
	tt.Reply(bot.Reply{Text: tt.x.T(id, data), Buttons: buttons})
}

func (tt *turn) button(label, payload string) bot.Button {
	return bot.Button{Label: tt.x.T(label), Payload: payload}
}

// text handles typed text; false passes it to other dialogs.
func (tt *turn) text(expired bool) (bool, error) {
	if tt.dir == nil {
		if tt.intent() == "" {
			return false, nil
		}
		tt.say("booking.unavailable", nil)
		tt.finish()
		return true, nil
	}
	intent := tt.intent()
	switch {
	case intent == intentCancel || intent == intentResched || intent == intentList:
		*tt.st = state{}
		return true, tt.gate(intent)
	case intent == intentConfirm && tt.st.Step == "":
		if a := tt.remindedAppointment(); a != nil {
			return true, tt.gate(pendingFor("ok", a.ID, a.Version))
		}
	case intent == intentAbout && tt.st.Step == "":
		return true, tt.about()
	}
	if tt.st.Step != "" {
		if norm := textutil.Normalize(tt.Text()); len(textutil.Words(norm)) <= 3 && textutil.HasAny(norm, escapeWords...) {
			tt.Finish(Name)
			return false, nil
		}
		return tt.step()
	}
	if intent == intentBook {
		if expired {
			tt.say("booking.expired", nil)
		}
		tt.hints()
		return true, tt.gate(intentBook)
	}
	return false, nil
}

// step handles text typed in answer to the current question.
func (tt *turn) step() (bool, error) {
	switch tt.st.Step {
	case stepContact, stepShare, stepDOB, stepCode:
		return tt.verifyText()
	}
	ok, err := tt.checkVerified()
	if err != nil {
		return true, err
	}
	if !ok {
		// The verification ran out mid-booking: verify again, then carry on
		// from the slots (or the move) with what was chosen so far.
		resume := intentBook
		if tt.st.ApptID != 0 {
			resume = pendingFor("mv", tt.st.ApptID, tt.st.ApptVer)
		}
		tt.st.Step = ""
		return true, tt.gate(resume)
	}
	switch tt.st.Step {
	case stepVisit:
		return tt.visitText()
	case stepProv:
		return tt.providerText()
	case stepSlot, stepDay:
		return tt.whenText()
	case stepConfirm, stepCancel:
		return tt.yesNoText()
	case stepPick:
		if looksLikeQuestion(tt.Text()) {
			return false, nil
		}
		return true, tt.pickAppointment(tt.st.Pending)
	}
	return false, nil
}

// hints takes the visit type, provider and time a first message named
// ("book a follow-up with Dr. Chen next week").
func (tt *turn) hints() {
	text := tt.Text()
	if v, ok := tt.dir.FindVisitType(text); ok {
		tt.st.Visit = v.ID
	}
	if p, ok := tt.dir.FindProvider(text); ok {
		tt.st.Provider = p.ID
	}
	if w, found, err := ParseWhen(text, tt.Lang(), tt.Now, tt.loc()); found && err == nil {
		tt.st.When = &w
	}
}

// onButton handles a booking button.
func (tt *turn) onButton(action string, args []string) error {
	if tt.dir == nil {
		tt.say("booking.unavailable", nil)
		tt.finish()
		return nil
	}
	switch action {
	case "start":
		*tt.st = state{}
		return tt.gate(intentBook)
	case "with":
		if len(args) == 1 {
			*tt.st = state{Provider: args[0]}
			return tt.gate(intentBook)
		}
	case "list", "cancel", "resched":
		*tt.st = state{}
		return tt.gate(map[string]string{"list": intentList, "cancel": intentCancel, "resched": intentResched}[action])
	case "ok", "mv", "cx", "cxy":
		if len(args) == 2 {
			return tt.gate(pendingFor(action, atoi64(args[0]), atoi(args[1])))
		}
	case "keep":
		tt.say("booking.kept", nil, tt.menuButtons()...)
		tt.finish()
		return nil
	case "ask":
		tt.say("booking.ask_more", nil)
		tt.finish()
		return nil
	case "stop":
		tt.say("booking.stopped", nil, tt.menuButtons()...)
		tt.finish()
		return nil
	}
	if !tt.verified() {
		// A flow button (slot, visit type, ...) with no verified flow behind
		// it: an old message, or a verification that has expired.
		tt.say("booking.old_button", nil, tt.button("booking.button.start", bot.Payload(Name, "start")))
		tt.finish()
		return nil
	}
	return tt.flowButton(action, args)
}

func pendingFor(action string, id int64, version int) string {
	return strings.Join([]string{action, itoa64(id), itoa(version)}, ":")
}

func (tt *turn) menuButtons() []bot.Button {
	return []bot.Button{tt.button("booking.button.my_appointments", bot.Payload(Name, "list")),
		tt.button("booking.button.menu", bot.Payload("menu", "main"))}
}
