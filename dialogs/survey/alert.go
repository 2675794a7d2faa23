package survey

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// Alert outcomes recorded on a response.
const (
	AlertSent     = "sent"     // posted to the staff channel (Slack)
	AlertRecorded = "recorded" // no staff channel: shown on the admin page
)

// staffLang is the language of alert texts (Slack's staff texts are English
// unless SLACK_STAFF_LANG says otherwise; the catalog has both).
const staffLang = "en"

// unhappy reports why a response needs staff: a detractor score (0-6) or a
// free-text answer with a complaint word.
func (s *Service) unhappy(r *Response) (detractor, complaint bool) {
	detractor = r.Score != nil && *r.Score <= 6
	for _, it := range r.Items {
		for _, a := range it.Answer {
			if a.ValueString != nil && s.complaint(*a.ValueString) {
				complaint = true
			}
		}
	}
	return detractor, complaint
}

// complaint looks for the questionnaire's complaint words, in every language.
func (s *Service) complaint(text string) bool {
	norm := textutil.Normalize(text)
	for _, words := range s.Q.ComplaintWords {
		if textutil.HasAny(norm, words...) {
			return true
		}
	}
	return false
}

// raiseAlert tells staff about an unhappy response once, inside w, through
// handoff.Alert (Slack: the answers and a "Contact patient" button).
// Without a staff channel the alert is recorded for the admin page.
func (s *Service) raiseAlert(ctx context.Context, w store.Work, r *Response) error {
	if r.Alert != "" || r.ConversationID == nil {
		return nil
	}
	detractor, complaint := s.unhappy(r)
	if !detractor && !complaint {
		return nil
	}
	summary := s.alertSummary(ctx, r, detractor, complaint)
	var answers []handoff.Answer
	for _, it := range r.Items {
		answers = append(answers, handoff.Answer{Question: s.itemText(it.LinkID), Answer: answerText(it)})
	}
	n := s.Staff
	// A savepoint of our own: a failing staff channel must not lose the
	// patient's answers, which are saved by the caller after this.
	q := w.Querier()
	if _, err := q.Exec(ctx, "SAVEPOINT survey_alert"); err != nil {
		return fmt.Errorf("survey: savepoint: %w", err)
	}
	err := handoff.Alert(ctx, w, n, *r.ConversationID, summary, answers)
	switch {
	case err == nil:
		r.Alert = AlertSent
	case errors.Is(err, handoff.ErrNoStaffChannel):
		r.Alert = AlertRecorded
	default:
		s.Log.ErrorContext(ctx, "survey: staff alert failed; recorded for the admin page", "response_id", r.ID, "error", err)
		if _, rerr := q.Exec(ctx, "ROLLBACK TO SAVEPOINT survey_alert"); rerr != nil {
			return fmt.Errorf("survey: rollback to savepoint: %w", rerr)
		}
		r.Alert = AlertRecorded
	}
	if _, err := q.Exec(ctx, "RELEASE SAVEPOINT survey_alert"); err != nil {
		return fmt.Errorf("survey: release savepoint: %w", err)
	}
	s.Log.InfoContext(ctx, "survey alert", "response_id", r.ID, "outcome", r.Alert, "detractor", detractor, "complaint", complaint)
	return nil
}

// alertSummary is the alert's first line: the score, the visit, the
// provider by name and, when the patient is known, their record number, so
// staff can look them up.
func (s *Service) alertSummary(ctx context.Context, r *Response, detractor, complaint bool) string {
	data := map[string]any{"Score": "-", "Visit": r.VisitAt.In(s.Clinic.Location()).Format("Jan 2"),
		"Provider": s.directory(ctx).provider(r.ProviderID), "Record": s.record(ctx, r.PatientID)}
	if r.Score != nil {
		data["Score"] = strconv.Itoa(*r.Score)
	}
	var parts []string
	if detractor {
		parts = append(parts, s.t(staffLang, "survey.alert.detractor", data))
	}
	if complaint {
		parts = append(parts, s.t(staffLang, "survey.alert.complaint", data))
	}
	return strings.Join(parts, " ")
}

func (s *Service) itemText(linkID string) string {
	if i := s.Q.Index(linkID); i >= 0 {
		return s.fill(s.Q.Item[i].Text.In(staffLang))
	}
	return linkID
}

// answerText is an answer as staff read it.
func answerText(it ResponseItem) string {
	if len(it.Answer) == 0 {
		return ""
	}
	a := it.Answer[0]
	switch {
	case a.ValueInteger != nil:
		return strconv.Itoa(*a.ValueInteger)
	case a.ValueBoolean != nil:
		return strconv.FormatBool(*a.ValueBoolean)
	case a.ValueCoding != nil:
		if d := a.ValueCoding.Display.In(staffLang); d != "" {
			return d
		}
		return a.ValueCoding.Code
	case a.ValueString != nil:
		return *a.ValueString
	}
	return ""
}
