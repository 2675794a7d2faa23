package booking

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/patients"
)

// checkVerified reports whether the conversation is verified now, and
// loads the patient. Nothing about appointments is shown or changed unless
// it is true.
func (tt *turn) checkVerified() (bool, error) {
	if tt.patient != nil {
		return true, nil
	}
	if tt.PatientID() == nil {
		return false, nil
	}
	v, err := patients.LoadVerification(tt.Ctx, tt.Q(), tt.ConversationID())
	if err != nil {
		return false, err
	}
	if !v.Valid(tt.Now) || *v.PatientID != *tt.PatientID() {
		return false, nil
	}
	p, err := patients.Get(tt.Ctx, tt.Q(), *v.PatientID)
	if err != nil {
		return false, err
	}
	tt.patient = &p
	return true, nil
}

func (tt *turn) verified() bool {
	ok, err := tt.checkVerified()
	return err == nil && ok
}

// gate runs pending now if the patient is verified, else verifies first
// and runs it afterwards.
func (tt *turn) gate(pending string) error {
	ok, err := tt.checkVerified()
	if err != nil {
		return err
	}
	if ok {
		return tt.run(pending)
	}
	tt.st.Pending = pending
	return tt.startVerify()
}

// run does what the patient asked for, once verified.
func (tt *turn) run(pending string) error {
	tt.st.Pending = ""
	switch pending {
	case intentBook:
		return tt.bookNext()
	case intentList:
		return tt.list()
	case intentCancel, intentResched:
		return tt.pickAppointment(pending)
	}
	if parts := strings.Split(pending, ":"); len(parts) == 3 {
		return tt.apptAction(parts[0], atoi64(parts[1]), atoi(parts[2]))
	}
	tt.finish()
	return nil
}

func (tt *turn) startVerify() error {
	v, err := patients.LoadVerification(tt.Ctx, tt.Q(), tt.ConversationID())
	if err != nil {
		return err
	}
	method := tt.d.cfg.method(tt.In.Channel)
	phone := patients.NormalizePhone(tt.In.Meta[bot.MetaPhone])
	v.PatientID, v.CodeHash, v.CodeExpiresAt, v.VerifiedAt, v.ExpiresAt = nil, "", nil, nil, nil
	switch {
	case (method == MethodPhone || method == MethodContact) && phone != "":
		cands, err := patients.FindByPhone(tt.Ctx, tt.Q(), phone)
		if err != nil {
			return err
		}
		g, err := tt.lockGuard(phone, cands, true)
		if err != nil {
			return err
		}
		if g.locked(tt.Now) {
			return tt.sayLocked()
		}
		v.Method, v.Phone = method, phone
		tt.st.Step = stepDOB
		tt.say("booking.verify.intro", nil)
		tt.say("booking.verify.ask_dob", nil)
	case method == MethodContact:
		v.Method = method
		tt.st.Step = stepShare
		tt.Reply(bot.Reply{Text: tt.x.T("booking.verify.share_contact"), RequestContact: true})
	case tt.d.codes == nil:
		tt.say("booking.verify.no_codes", nil)
		tt.finish()
		return nil
	default:
		g, err := tt.lockGuard("", nil, false)
		if err != nil {
			return err
		}
		if g.locked(tt.Now) {
			return tt.sayLocked()
		}
		v.Method = MethodCode
		tt.st.Step = stepContact
		tt.say("booking.verify.intro", nil)
		tt.say("booking.verify.ask_contact", nil)
	}
	return patients.SaveVerification(tt.Ctx, tt.Q(), v, tt.Now)
}

// verifyText handles an answer during verification.
func (tt *turn) verifyText() (bool, error) {
	text := tt.Text()
	switch tt.st.Step {
	case stepShare:
		phone := patients.NormalizePhone(tt.In.Meta[bot.MetaPhone])
		if phone == "" {
			if looksLikeQuestion(text) {
				return false, nil
			}
			tt.Reply(bot.Reply{Text: tt.x.T("booking.verify.share_again"), RequestContact: true})
			return true, nil
		}
		cands, err := patients.FindByPhone(tt.Ctx, tt.Q(), phone)
		if err != nil {
			return true, err
		}
		g, err := tt.lockGuard(phone, cands, true)
		if err != nil {
			return true, err
		}
		if g.locked(tt.Now) {
			return true, tt.sayLocked()
		}
		return true, tt.updateVerification(func(v *patients.Verification) {
			v.Phone = phone
			tt.st.Step = stepDOB
			tt.say("booking.verify.ask_dob", nil)
		})
	case stepContact:
		claim := patients.NormalizeEmail(text)
		if claim == "" {
			claim = patients.NormalizePhone(text)
		}
		if claim == "" {
			if looksLikeQuestion(text) {
				return false, nil
			}
			tt.say("booking.verify.contact_again", nil)
			return true, nil
		}
		tt.st.Claim, tt.st.Step = claim, stepDOB
		tt.say("booking.verify.ask_dob", nil)
		return true, nil
	case stepDOB:
		dob, err := patients.ParseBirthDate(text, tt.Lang(), tt.Now.In(tt.loc()))
		if err != nil {
			if looksLikeQuestion(text) {
				return false, nil
			}
			tt.say("booking.verify.dob_again", nil)
			return true, nil
		}
		return true, tt.checkDOB(dob)
	case stepCode:
		return tt.checkCode(text)
	}
	return false, nil
}

func (tt *turn) updateVerification(fn func(v *patients.Verification)) error {
	v, err := patients.LoadVerification(tt.Ctx, tt.Q(), tt.ConversationID())
	if err != nil {
		return err
	}
	fn(&v)
	return patients.SaveVerification(tt.Ctx, tt.Q(), v, tt.Now)
}

// guard is what one answer is counted against (patients.Limits): the
// phone number or address it used, the registry patients it was about and,
// for the web's typed claims, the conversation. All of them are locked
// until the turn commits, so answers about one patient are judged one at a
// time, whatever the number of chats, sessions and channels.
type guard struct {
	conv     string // the conversation (typed claims only)
	contact  string // the phone or address, as a keyed hash
	patients []string
	// visible are the subjects whose lock and wait the patient is told of.
	// A number the channel vouched for (WhatsApp, a Telegram contact) is the
	// sender's own, so its patients' locks are theirs to see; on the web,
	// anyone can type anyone's number, so only the conversation's and the
	// typed contact's count show, and the same answers come whether or not
	// the details match a registered patient.
	visible []string
	states  map[string]patients.LimitState
}

func (tt *turn) lockGuard(contact string, cands []patients.Patient, vouched bool) (*guard, error) {
	g := &guard{contact: tt.d.keys.Contact(contact)}
	if !vouched {
		g.conv = patients.LimitConversation(tt.ConversationID())
	}
	for _, p := range cands {
		g.patients = append(g.patients, patients.LimitPatient(p.ID))
	}
	for _, s := range []string{g.conv, g.contact} {
		if s != "" {
			g.visible = append(g.visible, s)
		}
	}
	if vouched {
		g.visible = append(g.visible, g.patients...)
	}
	var err error
	g.states, err = tt.d.limits.Lock(tt.Ctx, tt.Q(), tt.Now, append(slices.Clone(g.visible), g.patients...)...)
	return g, err
}

func (g *guard) locked(now time.Time) bool  { return patients.AnyLocked(g.states, now, g.visible...) }
func (g *guard) waiting(now time.Time) bool { return patients.AnyWaiting(g.states, now, g.visible...) }

func (tt *turn) attempt() patients.Attempt {
	return patients.Attempt{ConversationID: tt.ConversationID(), Channel: tt.In.Channel}
}

func (tt *turn) sayLocked() error {
	tt.say("booking.verify.locked", nil)
	tt.finish()
	return nil
}

// sayWait answers an answer that came too soon after a wrong one; it is
// not judged and does not count.
func (tt *turn) sayWait() error {
	tt.say("booking.verify.wait", nil)
	return nil
}

func (tt *turn) checkDOB(dob patients.Date) error {
	v, err := patients.LoadVerification(tt.Ctx, tt.Q(), tt.ConversationID())
	if err != nil {
		return err
	}
	if v.Method == MethodCode {
		return tt.sendCode(v, dob)
	}
	cands, err := patients.FindByPhone(tt.Ctx, tt.Q(), v.Phone)
	if err != nil {
		return err
	}
	g, err := tt.lockGuard(v.Phone, cands, true)
	if err != nil {
		return err
	}
	switch {
	case g.locked(tt.Now):
		return tt.sayLocked()
	case g.waiting(tt.Now):
		return tt.sayWait()
	}
	if p, ok := patients.MatchDOB(cands, dob); ok {
		return tt.succeed(v, p, g.contact, patients.LimitPatient(p.ID))
	}
	return tt.fail(v, g, g.visible)
}

// sendCode issues a one-time code to the contact on file when the claimed
// contact and birth date match a patient who is not locked and has not had
// too many codes already. The chat is told the same thing in every case, so
// it does not reveal who is registered; a birth date that does not match a
// patient with that contact counts against the patient, silently.
func (tt *turn) sendCode(v patients.Verification, dob patients.Date) error {
	var cands []patients.Patient
	var err error
	if strings.Contains(tt.st.Claim, "@") {
		cands, err = patients.FindByEmail(tt.Ctx, tt.Q(), tt.st.Claim)
	} else {
		cands, err = patients.FindByPhone(tt.Ctx, tt.Q(), tt.st.Claim)
	}
	if err != nil {
		return err
	}
	g, err := tt.lockGuard(tt.st.Claim, cands, false)
	if err != nil {
		return err
	}
	switch {
	case g.locked(tt.Now):
		return tt.sayLocked()
	case g.waiting(tt.Now):
		return tt.sayWait()
	}
	v.CodeHash, v.CodeExpiresAt, v.PatientID = "", nil, nil
	code := ""
	if p, ok := patients.MatchDOB(cands, dob); !ok {
		if _, err := tt.d.limits.Fail(tt.Ctx, tt.Q(), g.states, tt.Now, tt.attempt(), g.patients...); err != nil {
			return err
		}
	} else {
		v.PatientID = &p.ID
		subject := patients.LimitPatient(p.ID)
		allowed, err := tt.d.limits.CodeAllowed(tt.Ctx, tt.Q(), tt.Now, subject, g.contact)
		if err != nil {
			return err
		}
		kind := patients.EventCodeSent
		if !allowed || g.states[subject].Locked(tt.Now) {
			// Same answer to the chat; nothing more to the patient's phone.
			tt.d.log.WarnContext(tt.Ctx, "one-time code held back (limit or lock)", "conversation_id", tt.ConversationID(), "patient_id", p.ID)
			kind = patients.EventCodeWithheld
		} else {
			code = patients.NewCode()
			exp := tt.Now.Add(tt.d.policy.CodeTTL)
			v.CodeHash, v.CodeExpiresAt = tt.d.keys.HashCode(tt.ConversationID(), p.ID, code), &exp
		}
		if err := patients.RecordCode(tt.Ctx, tt.Q(), kind, tt.Now, tt.attempt(), subject, g.contact); err != nil {
			return err
		}
	}
	if code != "" {
		to := Destination{PatientID: *v.PatientID, Phone: tt.st.Claim}
		if strings.Contains(tt.st.Claim, "@") {
			to = Destination{PatientID: *v.PatientID, Email: tt.st.Claim}
		}
		sender, lang, log, convID := tt.d.codes, tt.Lang(), tt.d.log, tt.ConversationID()
		ctx := context.WithoutCancel(tt.Ctx)
		tt.AfterCommit(func() {
			if err := sender.SendCode(ctx, to, code, lang); err != nil {
				log.WarnContext(ctx, "sending a one-time code failed", "conversation_id", convID, "patient_id", to.PatientID, "error", err)
			}
		})
	}
	masked := patients.MaskPhone(tt.st.Claim)
	if strings.Contains(tt.st.Claim, "@") {
		masked = patients.MaskEmail(tt.st.Claim)
	}
	tt.st.Step = stepCode
	tt.say("booking.verify.code_sent", map[string]any{"To": masked})
	return patients.SaveVerification(tt.Ctx, tt.Q(), v, tt.Now)
}

func (tt *turn) checkCode(text string) (bool, error) {
	code := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, text)
	if len(code) != 6 {
		if looksLikeQuestion(text) {
			return false, nil
		}
		tt.say("booking.verify.code_format", nil)
		return true, nil
	}
	v, err := patients.LoadVerification(tt.Ctx, tt.Q(), tt.ConversationID())
	if err != nil {
		return true, err
	}
	g, err := tt.lockGuard(tt.st.Claim, nil, false)
	if err != nil {
		return true, err
	}
	switch {
	case g.locked(tt.Now):
		return true, tt.sayLocked()
	case g.waiting(tt.Now):
		return true, tt.sayWait()
	}
	counted := g.visible
	if v.PatientID != nil {
		subject := patients.LimitPatient(*v.PatientID)
		states, err := tt.d.limits.Lock(tt.Ctx, tt.Q(), tt.Now, subject)
		if err != nil {
			return true, err
		}
		g.states[subject] = states[subject]
		// A patient who is locked, or waiting after a wrong answer in another
		// chat, gets no judgement of the code: it is refused like a wrong one.
		if st := states[subject]; !st.Locked(tt.Now) && !st.Waiting(tt.Now) {
			counted = append(slices.Clone(counted), subject)
			if tt.d.keys.CheckCode(v, code, tt.Now) {
				p, err := patients.Get(tt.Ctx, tt.Q(), *v.PatientID)
				if err != nil {
					return true, err
				}
				return true, tt.succeed(v, p, append(slices.Clone(g.visible), subject)...)
			}
		}
	}
	return true, tt.fail(v, g, counted)
}

// fail counts a wrong answer against counted and tells the patient, from
// the visible subjects only, whether to try again or call the clinic.
func (tt *turn) fail(v patients.Verification, g *guard, counted []string) error {
	if _, err := tt.d.limits.Fail(tt.Ctx, tt.Q(), g.states, tt.Now, tt.attempt(), counted...); err != nil {
		return err
	}
	locked := g.locked(tt.Now)
	tt.d.log.InfoContext(tt.Ctx, "identity verification failed", "conversation_id", tt.ConversationID(), "locked", locked)
	if locked {
		v.PatientID, v.Phone, v.CodeHash, v.CodeExpiresAt = nil, "", "", nil
	}
	if err := patients.SaveVerification(tt.Ctx, tt.Q(), v, tt.Now); err != nil {
		return err
	}
	if locked {
		return tt.sayLocked()
	}
	left := map[string]any{"Left": tt.d.limits.Left(g.states, g.visible...)}
	if v.Method == MethodCode {
		tt.say("booking.verify.wrong_code", left)
		return nil
	}
	tt.st.Step = stepDOB
	tt.say("booking.verify.no_match", left)
	return nil
}

// succeed verifies the conversation as p and clears the counts of the
// subjects the answer was judged against.
func (tt *turn) succeed(v patients.Verification, p patients.Patient, subjects ...string) error {
	if err := tt.d.limits.Succeed(tt.Ctx, tt.Q(), tt.Now, tt.attempt(), subjects...); err != nil {
		return err
	}
	tt.d.policy.Succeed(&v, p.ID, tt.Now)
	if err := patients.SaveVerification(tt.Ctx, tt.Q(), v, tt.Now); err != nil {
		return err
	}
	tt.d.log.InfoContext(tt.Ctx, "identity verified", "conversation_id", tt.ConversationID(), "patient_id", p.ID)
	tt.LinkPatient(p.ID)
	tt.patient = &p
	tt.st.Step, tt.st.Claim = "", ""
	tt.say("booking.verify.ok", map[string]any{"Name": p.FirstName})
	return tt.run(tt.st.Pending)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
func itoa(n int) string     { return strconv.Itoa(n) }
