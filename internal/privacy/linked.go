// Package privacy answers for the personal data Tend holds: it exports
// everything held about one patient, erases it, applies the retention
// policy (a durable periodic job) and serves the audit trail
// (internal/audit) to staff. Its Module installs all of it and makes every
// admin request audited (docs/security.md, "Audit, retention, export and
// erase").
package privacy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// Linked conversations are the patient's: a conversation is taken as one of
// the patient's when
//
//   - it was verified as the patient (conversations.patient_id), or the
//     patient was the candidate of its identity check (someone there
//     claimed to be the patient and typed their details);
//   - it is linked to the patient for consent (consent_links: a survey or
//     campaign message sent there) or by a survey, campaign delivery or
//     appointment of the patient;
//   - it is a WhatsApp chat on the patient's registry number.
//
// A conversation verified as another registry patient is that patient's,
// and is left out (counted as shared).
type linkedConv struct {
	store.Conversation
	Via []string `json:"linked_by"`
}

// linked returns the patient's conversations, by id, and how many were left
// out because they were verified as someone else. subjects are the
// patient's verification subjects (the patient's own and the keyed hashes
// of the phone and e-mail): a conversation where one of them was claimed
// (the verification history names it) is the patient's too, since what was
// typed there is the patient's details.
func linked(ctx context.Context, q store.Q, p patients.Patient, subjects []string) ([]linkedConv, int, error) {
	type src struct{ via, sql string }
	srcs := []src{
		{"verified", `SELECT id FROM conversations WHERE patient_id = $1`},
		{"identity_check", `SELECT conversation_id FROM patient_verifications WHERE patient_id = $1`},
		{"outreach", `SELECT conversation_id FROM consent_links WHERE patient_id = $1`},
		{"survey", `SELECT conversation_id FROM survey_responses WHERE patient_id = $1 AND conversation_id IS NOT NULL`},
		{"campaign", `SELECT conversation_id FROM campaign_deliveries WHERE patient_id = $1 AND conversation_id IS NOT NULL`},
		{"appointment", `SELECT conversation_id FROM appointments WHERE patient_id = $1 AND conversation_id IS NOT NULL`},
	}
	var claimed []string
	for _, s := range subjects {
		if s != "" {
			claimed = append(claimed, s)
		}
	}
	if len(claimed) > 0 {
		srcs = append(srcs, src{"identity_claim", `SELECT DISTINCT conversation_id FROM verification_events
			WHERE conversation_id IS NOT NULL AND subject IN (` + placeholders(1, len(claimed)) + `)`})
	}
	via := map[int64][]string{}
	for _, s := range srcs {
		args := []any{p.ID}
		if s.via == "identity_claim" {
			args = args[:0]
			for _, c := range claimed {
				args = append(args, c)
			}
		}
		ids, err := store.IDs(q.Query(ctx, s.sql, args...))
		if err != nil {
			return nil, 0, fmt.Errorf("privacy: linked conversations (%s): %w", s.via, err)
		}
		for _, id := range ids {
			via[id] = appendOnce(via[id], s.via)
		}
	}
	if p.Phone != "" {
		c, err := q.FindConversation(ctx, "whatsapp", p.Phone)
		switch {
		case err == nil:
			via[c.ID] = appendOnce(via[c.ID], "registry_phone")
		case !errors.Is(err, store.ErrNotFound):
			return nil, 0, fmt.Errorf("privacy: linked conversations (phone): %w", err)
		}
	}
	ids := make([]int64, 0, len(via))
	for id := range via {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []linkedConv
	shared := 0
	for _, id := range ids {
		c, err := q.GetConversation(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("privacy: conversation %d: %w", id, err)
		}
		if c.PatientID != nil && *c.PatientID != p.ID {
			shared++
			continue
		}
		out = append(out, linkedConv{Conversation: c, Via: via[id]})
	}
	return out, shared, nil
}

func appendOnce(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// placeholders is "$from, $from+1, ..." for n values.
func placeholders(from, n int) string {
	s := ""
	for i := 0; i < n; i++ {
		if i > 0 {
			s += ", "
		}
		s += "$" + strconv.Itoa(from+i)
	}
	return s
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
