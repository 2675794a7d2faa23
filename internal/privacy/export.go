package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// ExportFormat names the shape of an export.
const ExportFormat = "tend-patient-export/1"

// Export is everything Tend holds about one patient, decrypted.
type Export struct {
	Format     string    `json:"format"`
	ExportedAt time.Time `json:"exported_at"`
	// Patient is the registry record; ErasedAt is set once erased.
	Patient  patients.Patient `json:"patient"`
	ErasedAt *time.Time       `json:"erased_at,omitempty"`
	// Conversations are the patient's conversations (see linked) with
	// every message, what the dialogs remember, the identity check, the
	// handoffs with the copy kept for Slack, and replies held for WhatsApp.
	Conversations []ExportConversation `json:"conversations"`
	// SharedConversations counts conversations linked to the patient but
	// verified as another patient (a family phone): not exported here.
	SharedConversations int                 `json:"shared_conversations,omitempty"`
	Appointments        []ExportAppointment `json:"appointments"`
	SurveyResponses     []ExportSurvey      `json:"survey_responses"`
	Consent             ExportConsent       `json:"consent"`
	Verification        ExportVerification  `json:"verification"`
	DueItems            []ExportDueItem     `json:"due_items"`
	CampaignDeliveries  []ExportDelivery    `json:"campaign_deliveries"`
	CampaignRequests    []ExportRequest     `json:"campaign_requests"`
	// AccessLog is the audit trail's rows about the patient: who read or
	// changed their data, and when (newest first, at most 1,000).
	AccessLog []audit.Row `json:"access_log"`
}

// ExportConversation is one conversation with all it holds.
type ExportConversation struct {
	ID           int64              `json:"id"`
	Channel      string             `json:"channel"`
	ChatID       string             `json:"chat_id"`
	SenderID     string             `json:"sender_id,omitempty"`
	Lang         string             `json:"lang"`
	Mode         string             `json:"mode"`
	Dialog       string             `json:"dialog,omitempty"`
	State        json.RawMessage    `json:"state,omitempty"`
	LinkedBy     []string           `json:"linked_by"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
	Messages     []ExportMessage    `json:"messages"`
	Verification *ExportIdentity    `json:"identity_check,omitempty"`
	Handoffs     []ExportHandoff    `json:"handoffs"`
	WhatsAppHeld []json.RawMessage  `json:"whatsapp_held,omitempty"`
	Unanswered   []ExportUnanswered `json:"unanswered_questions,omitempty"`
	Rejections   []ExportRejection  `json:"rejected_updates,omitempty"`
}

// ExportMessage is one message, in either direction, in the order of the
// conversation.
type ExportMessage struct {
	Direction string          `json:"direction"` // "in" from the patient, "out" to them
	Seq       int64           `json:"seq"`
	At        time.Time       `json:"at"`
	Text      string          `json:"text,omitempty"`
	Payload   string          `json:"payload,omitempty"`
	Locale    string          `json:"locale,omitempty"`
	Meta      json.RawMessage `json:"meta,omitempty"`
	Reply     json.RawMessage `json:"reply,omitempty"` // the bot's or staff's reply as sent
	Status    string          `json:"status"`
	SentAt    *time.Time      `json:"sent_at,omitempty"`
}

// ExportIdentity is a conversation's identity check record.
type ExportIdentity struct {
	PatientID  *int64     `json:"patient_id,omitempty"`
	Method     string     `json:"method,omitempty"`
	Phone      string     `json:"phone,omitempty"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// ExportHandoff is a request for a person, with what staff saw of it.
type ExportHandoff struct {
	ID        int64             `json:"id"`
	Reason    string            `json:"reason"`
	Status    string            `json:"status"`
	Urgent    bool              `json:"urgent"`
	Owner     string            `json:"owner,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	ClosedAt  *time.Time        `json:"closed_at,omitempty"`
	SlackCopy json.RawMessage   `json:"slack_copy,omitempty"`
	Actions   []ExportStaffStep `json:"staff_actions,omitempty"`
}

// ExportStaffStep is one staff action on a handoff.
type ExportStaffStep struct {
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// ExportUnanswered is a question the bot could not answer, kept for editors.
type ExportUnanswered struct {
	Question string    `json:"question"`
	AskedAt  time.Time `json:"asked_at"`
}

// ExportRejection is an update a channel sent that could not be recorded.
type ExportRejection struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// ExportAppointment is one appointment.
type ExportAppointment struct {
	ID             int64      `json:"id"`
	ConversationID *int64     `json:"conversation_id,omitempty"`
	Provider       string     `json:"provider"`
	Location       string     `json:"location"`
	VisitType      string     `json:"visit_type"`
	Start          time.Time  `json:"start"`
	End            time.Time  `json:"end"`
	Status         string     `json:"status"`
	Backend        string     `json:"backend"`
	ExternalID     string     `json:"external_id,omitempty"`
	CancelledAt    *time.Time `json:"cancelled_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

// ExportSurvey is one post-visit survey with the answers.
type ExportSurvey struct {
	ID             int64           `json:"id"`
	Questionnaire  string          `json:"questionnaire"`
	AppointmentID  *int64          `json:"appointment_id,omitempty"`
	ConversationID *int64          `json:"conversation_id,omitempty"`
	Provider       string          `json:"provider,omitempty"`
	VisitType      string          `json:"visit_type,omitempty"`
	VisitAt        time.Time       `json:"visit_at"`
	Status         string          `json:"status"`
	Answers        json.RawMessage `json:"answers"`
	Score          *int            `json:"score,omitempty"`
	Alert          string          `json:"alert,omitempty"`
	FinishedAt     *time.Time      `json:"finished_at,omitempty"`
}

// ExportConsent is the patient's consent: current rows and every change.
type ExportConsent struct {
	States []consent.State `json:"states"`
	Events []consent.Event `json:"events"`
}

// ExportVerification is the identity check history: counts and locks of
// the patient, of the phone and e-mail on file and of the conversations,
// and the events (failures, locks, codes sent).
type ExportVerification struct {
	Limits []patients.LimitState `json:"limits"`
	Events []patients.LimitEvent `json:"events"`
}

// ExportDueItem is something the patient is due for (campaign audiences).
type ExportDueItem struct {
	Item       string `json:"item"`
	LastDoneOn string `json:"last_done_on,omitempty"`
	DueOn      string `json:"due_on,omitempty"`
}

// ExportDelivery is one campaign message to the patient.
type ExportDelivery struct {
	Campaign string     `json:"campaign"`
	Channel  string     `json:"channel,omitempty"`
	Status   string     `json:"status"`
	Reason   string     `json:"reason,omitempty"`
	Response string     `json:"response,omitempty"`
	SentAt   *time.Time `json:"sent_at,omitempty"`
}

// ExportRequest is a request the patient made in answer to a campaign.
type ExportRequest struct {
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// Purposes of columns other packages may seal (store.SealedColumns); a
// value still in plaintext reads back as it is.
const (
	purposeSlackRoot    = "slack_threads.root"
	purposeHeld         = "whatsapp_held.body"
	purposeUnanswered   = "kb_unanswered.question"
	purposeSurveyAnswer = "survey_responses.answers"
)

// ErrNoPatient: no registry patient has that id or record number.
var ErrNoPatient = errors.New("privacy: no such patient")

// FindPatient finds a patient by record number, or else by id.
func FindPatient(ctx context.Context, q store.Q, ref string) (patients.Patient, error) {
	p, err := patients.GetByExternalID(ctx, q, ref)
	if errors.Is(err, store.ErrNotFound) {
		if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil && id > 0 {
			p, err = patients.Get(ctx, q, id)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return p, ErrNoPatient
	}
	return p, err
}

// Subjects gives the verification limit subjects of a patient's phone and
// e-mail (keyed hashes under the code key: dialogs/booking's Locks), so an
// export shows them and an erase removes them. Nil: none.
type Subjects func(p patients.Patient) []string

// Collect reads everything held about the patient.
func Collect(ctx context.Context, q store.Q, p patients.Patient, contacts Subjects, now time.Time) (*Export, error) {
	x := &Export{Format: ExportFormat, ExportedAt: now, Patient: p}
	if err := q.QueryRow(ctx, `SELECT erased_at FROM patients WHERE id = $1`, p.ID).Scan(&x.ErasedAt); err != nil {
		return nil, fmt.Errorf("privacy: export: %w", err)
	}
	limitSubjects := []string{patients.LimitPatient(p.ID)}
	if contacts != nil {
		limitSubjects = append(limitSubjects, contacts(p)...)
	}
	convs, shared, err := linked(ctx, q, p, limitSubjects)
	if err != nil {
		return nil, err
	}
	x.SharedConversations = shared
	x.Conversations = []ExportConversation{}
	for _, c := range convs {
		ec, err := exportConversation(ctx, q, c)
		if err != nil {
			return nil, err
		}
		x.Conversations = append(x.Conversations, ec)
		limitSubjects = append(limitSubjects, patients.LimitConversation(c.ID))
	}
	if x.Appointments, err = exportAppointments(ctx, q, p.ID); err != nil {
		return nil, err
	}
	if x.SurveyResponses, err = exportSurveys(ctx, q, p.ID); err != nil {
		return nil, err
	}
	s := consent.PatientSubject(p.ID)
	if x.Consent.States, err = consent.States(ctx, q, s, ""); err != nil {
		return nil, err
	}
	if x.Consent.Events, err = consent.Events(ctx, q, s); err != nil {
		return nil, err
	}
	x.Consent.States, x.Consent.Events = nonNil(x.Consent.States), nonNil(x.Consent.Events)
	if x.Verification, err = exportVerification(ctx, q, limitSubjects, now); err != nil {
		return nil, err
	}
	if x.DueItems, err = collect[ExportDueItem](q.Query(ctx, `SELECT item, last_done_on, due_on FROM patient_due_items
		WHERE patient_id = $1 ORDER BY item`, p.ID))(func(r store.Row) (ExportDueItem, error) {
		var d ExportDueItem
		return d, r.Scan(&d.Item, &d.LastDoneOn, &d.DueOn)
	}); err != nil {
		return nil, err
	}
	if x.CampaignDeliveries, err = collect[ExportDelivery](q.Query(ctx, `SELECT campaign_id, channel, status, reason, response, sent_at
		FROM campaign_deliveries WHERE patient_id = $1 ORDER BY id`, p.ID))(func(r store.Row) (ExportDelivery, error) {
		var d ExportDelivery
		return d, r.Scan(&d.Campaign, &d.Channel, &d.Status, &d.Reason, &d.Response, &d.SentAt)
	}); err != nil {
		return nil, err
	}
	if x.CampaignRequests, err = collect[ExportRequest](q.Query(ctx, `SELECT kind, status, created_at FROM campaign_requests
		WHERE patient_id = $1 ORDER BY id`, p.ID))(func(r store.Row) (ExportRequest, error) {
		var d ExportRequest
		return d, r.Scan(&d.Kind, &d.Status, &d.CreatedAt)
	}); err != nil {
		return nil, err
	}
	if x.AccessLog, err = audit.List(ctx, q, audit.Filter{Subject: audit.Patient(p.ID), Limit: 1000}); err != nil {
		return nil, err
	}
	x.AccessLog = nonNil(x.AccessLog)
	return x, nil
}

func exportConversation(ctx context.Context, q store.Q, c linkedConv) (ExportConversation, error) {
	ec := ExportConversation{ID: c.ID, Channel: c.Channel, ChatID: c.ChatID, SenderID: c.SenderID, Lang: c.Lang, Mode: c.Mode,
		Dialog: c.Dialog, LinkedBy: c.Via, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Messages: []ExportMessage{},
		Handoffs: []ExportHandoff{}}
	if len(c.State) > 0 && string(c.State) != "{}" {
		ec.State = json.RawMessage(c.State)
	}
	in, err := collect[ExportMessage](q.Query(ctx, `SELECT seq, text, payload, locale, meta, status, received_at FROM inbound_messages
		WHERE conversation_id = $1 ORDER BY seq`, c.ID))(func(r store.Row) (ExportMessage, error) {
		m := ExportMessage{Direction: "in"}
		var meta string
		if err := r.Scan(&m.Seq, &m.Text, &m.Payload, &m.Locale, &meta, &m.Status, &m.At); err != nil {
			return m, err
		}
		var err error
		if m.Text, err = q.Open(store.PurposeInboundText, m.Text); err != nil {
			return m, err
		}
		if meta, err = q.OpenJSON(store.PurposeInboundMeta, meta); err != nil {
			return m, err
		}
		m.Meta = rawOrNil(meta)
		return m, nil
	})
	if err != nil {
		return ec, fmt.Errorf("privacy: messages of conversation %d: %w", c.ID, err)
	}
	out, err := collect[ExportMessage](q.Query(ctx, `SELECT seq, body, status, created_at, sent_at FROM outbound_messages
		WHERE conversation_id = $1 ORDER BY seq`, c.ID))(func(r store.Row) (ExportMessage, error) {
		m := ExportMessage{Direction: "out"}
		var body string
		if err := r.Scan(&m.Seq, &body, &m.Status, &m.At, &m.SentAt); err != nil {
			return m, err
		}
		var err error
		if body, err = q.OpenJSON(store.PurposeOutboundBody, body); err != nil {
			return m, err
		}
		m.Reply = rawOrNil(body)
		return m, nil
	})
	if err != nil {
		return ec, fmt.Errorf("privacy: replies of conversation %d: %w", c.ID, err)
	}
	ec.Messages = mergeMessages(in, out)

	v, err := patients.LoadVerification(ctx, q, c.ID)
	if err != nil {
		return ec, err
	}
	if v.Method != "" || v.PatientID != nil || v.Phone != "" {
		ec.Verification = &ExportIdentity{PatientID: v.PatientID, Method: v.Method, Phone: v.Phone, VerifiedAt: v.VerifiedAt,
			ExpiresAt: v.ExpiresAt}
	}
	hs, err := collect[ExportHandoff](q.Query(ctx, `SELECT h.id, h.reason, h.status, h.urgent, h.owner, h.created_at, h.closed_at,
		COALESCE(s.root, '{}') FROM handoffs h LEFT JOIN slack_threads s ON s.handoff_id = h.id
		WHERE h.conversation_id = $1 ORDER BY h.id`, c.ID))(func(r store.Row) (ExportHandoff, error) {
		var h ExportHandoff
		var root string
		if err := r.Scan(&h.ID, &h.Reason, &h.Status, &h.Urgent, &h.Owner, &h.CreatedAt, &h.ClosedAt, &root); err != nil {
			return h, err
		}
		root, err := q.OpenJSON(purposeSlackRoot, root)
		if err != nil {
			return h, err
		}
		h.SlackCopy = rawOrNil(root)
		return h, nil
	})
	if err != nil {
		return ec, fmt.Errorf("privacy: handoffs of conversation %d: %w", c.ID, err)
	}
	for i := range hs {
		if hs[i].Actions, err = collect[ExportStaffStep](q.Query(ctx, `SELECT actor, action, outcome, at FROM handoff_audit
			WHERE handoff_id = $1 ORDER BY at, id`, hs[i].ID))(func(r store.Row) (ExportStaffStep, error) {
			var s ExportStaffStep
			return s, r.Scan(&s.Actor, &s.Action, &s.Outcome, &s.At)
		}); err != nil {
			return ec, err
		}
	}
	ec.Handoffs = nonNil(hs)
	if ec.WhatsAppHeld, err = collect[json.RawMessage](q.Query(ctx, `SELECT body FROM whatsapp_held WHERE conversation_id = $1 ORDER BY id`,
		c.ID))(func(r store.Row) (json.RawMessage, error) {
		var body string
		if err := r.Scan(&body); err != nil {
			return nil, err
		}
		body, err := q.OpenJSON(purposeHeld, body)
		return rawOrNil(body), err
	}); err != nil {
		return ec, err
	}
	if ec.Unanswered, err = collect[ExportUnanswered](q.Query(ctx, `SELECT question, asked_at FROM kb_unanswered WHERE conversation_id = $1
		ORDER BY asked_at, id`, c.ID))(func(r store.Row) (ExportUnanswered, error) {
		var u ExportUnanswered
		if err := r.Scan(&u.Question, &u.AskedAt); err != nil {
			return u, err
		}
		var err error
		u.Question, err = q.Open(purposeUnanswered, u.Question)
		return u, err
	}); err != nil {
		return ec, err
	}
	if ec.Rejections, err = collect[ExportRejection](q.Query(ctx, `SELECT reason, created_at FROM inbound_rejections
		WHERE channel = $1 AND chat_id = $2 ORDER BY id`, c.Channel, c.ChatID))(func(r store.Row) (ExportRejection, error) {
		var x ExportRejection
		return x, r.Scan(&x.Reason, &x.At)
	}); err != nil {
		return ec, err
	}
	return ec, nil
}

// mergeMessages orders both directions by time, a reply after the message
// it answers when they share an instant.
func mergeMessages(in, out []ExportMessage) []ExportMessage {
	all := make([]ExportMessage, 0, len(in)+len(out))
	i, j := 0, 0
	for i < len(in) || j < len(out) {
		if j >= len(out) || (i < len(in) && !out[j].At.Before(in[i].At)) {
			all = append(all, in[i])
			i++
		} else {
			all = append(all, out[j])
			j++
		}
	}
	return all
}

func exportAppointments(ctx context.Context, q store.Q, patientID int64) ([]ExportAppointment, error) {
	out, err := collect[ExportAppointment](q.Query(ctx, `SELECT id, conversation_id, provider_id, location_id, visit_type, starts_at, ends_at,
		status, backend, external_id, cancelled_at, created_at FROM appointments WHERE patient_id = $1 ORDER BY starts_at, id`,
		patientID))(func(r store.Row) (ExportAppointment, error) {
		var a ExportAppointment
		return a, r.Scan(&a.ID, &a.ConversationID, &a.Provider, &a.Location, &a.VisitType, &a.Start, &a.End, &a.Status,
			&a.Backend, &a.ExternalID, &a.CancelledAt, &a.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("privacy: appointments: %w", err)
	}
	return out, nil
}

func exportSurveys(ctx context.Context, q store.Q, patientID int64) ([]ExportSurvey, error) {
	out, err := collect[ExportSurvey](q.Query(ctx, `SELECT id, questionnaire, appointment_id, conversation_id, provider_id, visit_type,
		visit_at, status, answers, score, alert, finished_at FROM survey_responses WHERE patient_id = $1 ORDER BY visit_at, id`,
		patientID))(func(r store.Row) (ExportSurvey, error) {
		var s ExportSurvey
		var answers string
		if err := r.Scan(&s.ID, &s.Questionnaire, &s.AppointmentID, &s.ConversationID, &s.Provider, &s.VisitType, &s.VisitAt,
			&s.Status, &answers, &s.Score, &s.Alert, &s.FinishedAt); err != nil {
			return s, err
		}
		answers, err := q.OpenJSON(purposeSurveyAnswer, answers)
		s.Answers = rawOrNil(answers)
		if s.Answers == nil {
			s.Answers = json.RawMessage("[]")
		}
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("privacy: survey responses: %w", err)
	}
	return out, nil
}

func exportVerification(ctx context.Context, q store.Q, subjects []string, now time.Time) (ExportVerification, error) {
	v := ExportVerification{Limits: []patients.LimitState{}, Events: []patients.LimitEvent{}}
	states, err := patients.Limits{}.WithDefaults().LimitStates(ctx, q, now, subjects...)
	if err != nil {
		return v, err
	}
	for _, s := range states {
		v.Limits = append(v.Limits, s)
	}
	for _, s := range subjects {
		if s == "" {
			continue
		}
		evs, err := patients.LimitEvents(ctx, q, s, time.Unix(0, 0), 10000)
		if err != nil {
			return v, err
		}
		v.Events = append(v.Events, evs...)
	}
	return v, nil
}

// collect is store.Collect that returns an empty list rather than nil (an
// export shows "[]" for nothing held).
func collect[T any](rs store.Rows, err error) func(scan func(store.Row) (T, error)) ([]T, error) {
	inner := store.Collect[T](rs, err)
	return func(scan func(store.Row) (T, error)) ([]T, error) {
		out, err := inner(scan)
		return nonNil(out), err
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func rawOrNil(s string) json.RawMessage {
	switch s {
	case "", "{}", "null":
		return nil
	}
	if !json.Valid([]byte(s)) {
		b, _ := json.Marshal(s)
		return b
	}
	return json.RawMessage(s)
}
