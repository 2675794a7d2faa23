package booking

import (
	"context"
	"strconv"
	"strings"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/patients"
)

// checkVerified reports whether the conversation is verified now, and
// loads the patient. Nothing about appointments is shown or changed unless
// it is true.
func (tt *turn) checkVerified() (bool, error) {
	if tt.patient != nil {
		return true, nil
	}
	if tt.Conv.PatientID == nil {
		return false, nil
	}
	v, err := patients.LoadVerification(tt.Ctx, tt.Tx.Q, tt.Conv.ID)
	if err != nil {
		return false, err
	}
	if !v.Valid(tt.Now) || *v.PatientID != *tt.Conv.PatientID {
		return false, nil
	}
	p, err := patients.Get(tt.Ctx, tt.Tx.Q, *v.PatientID)
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
	v, err := patients.LoadVerification(tt.Ctx, tt.Tx.Q, tt.Conv.ID)
	if err != nil {
		return err
	}
	if v.Locked(tt.Now) {
		tt.say("booking.verify.locked", nil)
		tt.finish()
		return nil
	}
	method := tt.d.cfg.method(tt.In.Channel)
	phone := patients.NormalizePhone(tt.In.Meta[bot.MetaPhone])
	v.PatientID, v.CodeHash, v.CodeExpiresAt, v.VerifiedAt, v.ExpiresAt = nil, "", nil, nil, nil
	switch {
	case (method == MethodPhone || method == MethodContact) && phone != "":
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
		v.Method = MethodCode
		tt.st.Step = stepContact
		tt.say("booking.verify.intro", nil)
		tt.say("booking.verify.ask_contact", nil)
	}
	return patients.SaveVerification(tt.Ctx, tt.Tx.Q, v, tt.Now)
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
	v, err := patients.LoadVerification(tt.Ctx, tt.Tx.Q, tt.Conv.ID)
	if err != nil {
		return err
	}
	fn(&v)
	return patients.SaveVerification(tt.Ctx, tt.Tx.Q, v, tt.Now)
}

func (tt *turn) checkDOB(dob patients.Date) error {
	v, err := patients.LoadVerification(tt.Ctx, tt.Tx.Q, tt.Conv.ID)
	if err != nil {
		return err
	}
	if v.Method != MethodCode {
		cands, err := patients.FindByPhone(tt.Ctx, tt.Tx.Q, v.Phone)
		if err != nil {
			return err
		}
		if p, ok := patients.MatchDOB(cands, dob); ok {
			return tt.succeed(v, p)
		}
		return tt.fail(v)
	}
	return tt.sendCode(v, dob)
}

// maxOutstandingCodes bounds the live codes one patient can be sent.
const maxOutstandingCodes = 3

// sendCode issues a one-time code to the contact on file when the claimed
// contact and birth date match a patient. The patient is told the same
// thing either way, so the chat does not reveal who is registered.
func (tt *turn) sendCode(v patients.Verification, dob patients.Date) error {
	var cands []patients.Patient
	var err error
	if strings.Contains(tt.st.Claim, "@") {
		cands, err = patients.FindByEmail(tt.Ctx, tt.Tx.Q, tt.st.Claim)
	} else {
		cands, err = patients.FindByPhone(tt.Ctx, tt.Tx.Q, tt.st.Claim)
	}
	if err != nil {
		return err
	}
	code := patients.NewCode()
	exp := tt.Now.Add(tt.d.policy.CodeTTL)
	v.CodeHash, v.CodeExpiresAt, v.PatientID = patients.HashCode(tt.Conv.ID, code), &exp, nil
	if p, ok := patients.MatchDOB(cands, dob); ok {
		v.PatientID = &p.ID
		n, err := patients.OutstandingCodes(tt.Ctx, tt.Tx.Q, p.ID, tt.Now)
		if err != nil {
			return err
		}
		if n >= maxOutstandingCodes {
			// Same answer to the chat; no more messages to the patient's phone.
			tt.d.log.WarnContext(tt.Ctx, "one-time codes rate-limited", "conversation_id", tt.Conv.ID, "patient_id", p.ID)
			code = ""
		}
	}
	if code != "" && v.PatientID != nil {
		p := *v.PatientID
		to := Destination{PatientID: p, Phone: tt.st.Claim}
		if strings.Contains(tt.st.Claim, "@") {
			to = Destination{PatientID: p, Email: tt.st.Claim}
		}
		sender, lang, log, convID := tt.d.codes, tt.Lang(), tt.d.log, tt.Conv.ID
		ctx := context.WithoutCancel(tt.Ctx)
		tt.Tx.AfterCommit(func() {
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
	return patients.SaveVerification(tt.Ctx, tt.Tx.Q, v, tt.Now)
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
	v, err := patients.LoadVerification(tt.Ctx, tt.Tx.Q, tt.Conv.ID)
	if err != nil {
		return true, err
	}
	if v.PatientID != nil && patients.CheckCode(v, code, tt.Now) {
		p, err := patients.Get(tt.Ctx, tt.Tx.Q, *v.PatientID)
		if err != nil {
			return true, err
		}
		return true, tt.succeed(v, p)
	}
	return true, tt.fail(v)
}

func (tt *turn) fail(v patients.Verification) error {
	locked := tt.d.policy.Fail(&v, tt.Now)
	tt.d.log.InfoContext(tt.Ctx, "identity verification failed", "conversation_id", tt.Conv.ID, "locked", locked)
	if err := patients.SaveVerification(tt.Ctx, tt.Tx.Q, v, tt.Now); err != nil {
		return err
	}
	if locked {
		tt.say("booking.verify.locked", nil)
		tt.finish()
		return nil
	}
	left := map[string]any{"Left": tt.d.policy.MaxFailures - v.Failures}
	if v.Method == MethodCode {
		tt.say("booking.verify.wrong_code", left)
		return nil
	}
	tt.st.Step = stepDOB
	tt.say("booking.verify.no_match", left)
	return nil
}

func (tt *turn) succeed(v patients.Verification, p patients.Patient) error {
	tt.d.policy.Succeed(&v, p.ID, tt.Now)
	if err := patients.SaveVerification(tt.Ctx, tt.Tx.Q, v, tt.Now); err != nil {
		return err
	}
	tt.d.log.InfoContext(tt.Ctx, "identity verified", "conversation_id", tt.Conv.ID, "patient_id", p.ID)
	tt.Conv.PatientID = &p.ID
	tt.patient = &p
	tt.st.Step, tt.st.Claim = "", ""
	tt.say("booking.verify.ok", map[string]any{"Name": p.FirstName})
	return tt.run(tt.st.Pending)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
func itoa(n int) string     { return strconv.Itoa(n) }
