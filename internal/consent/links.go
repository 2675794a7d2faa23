package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// Consent belongs to the patient. A conversation (a channel identity) is
// linked to a registry patient when
//
//   - the conversation was verified as the patient (conversations.patient_id),
//   - a survey or campaign message was sent to the patient there (Link,
//     called by outreach), or
//   - it is a WhatsApp chat on the patient's registry phone number.
//
// STOP and START typed in a linked conversation apply to each patient it is
// linked to, on every channel (StopConversation, StartConversation), and a
// patient's consent is checked against the opt-outs of every conversation
// linked to them (Check, States, Events), including ones said before the
// link was known.

// Ways a conversation is linked to a patient (consent_links.via).
const (
	LinkOutreach = "outreach" // a survey or campaign message was sent there
)

// Link records that a message for the patient was sent in the conversation.
func Link(ctx context.Context, q store.Q, conversationID, patientID int64, via string, now time.Time) error {
	if _, err := q.Exec(ctx, `INSERT INTO consent_links (conversation_id, patient_id, via, linked_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_id, patient_id) DO NOTHING`,
		conversationID, patientID, via, now); err != nil {
		return fmt.Errorf("consent: link: %w", err)
	}
	return nil
}

// Patients returns the registry patients a conversation is linked to,
// by id.
func Patients(ctx context.Context, q store.Q, c store.Conversation) ([]int64, error) {
	var out []int64
	if c.PatientID != nil {
		out = append(out, *c.PatientID)
	}
	linked, err := store.IDs(q.Query(ctx, `SELECT patient_id FROM consent_links WHERE conversation_id = $1`, c.ID))
	if err != nil {
		return nil, fmt.Errorf("consent: linked patients: %w", err)
	}
	out = append(out, linked...)
	if c.Channel == "whatsapp" {
		ps, err := patients.FindByPhone(ctx, q, c.ChatID)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out = append(out, p.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// identities are the subject keys of every conversation linked to the
// patient, with the WhatsApp identity of the registry's number.
func identities(ctx context.Context, q store.Q, patientID int64, phone string) ([]string, error) {
	convs, err := store.IDs(q.Query(ctx, `SELECT id FROM conversations WHERE patient_id = $1
		UNION SELECT conversation_id FROM consent_links WHERE patient_id = $1`, patientID))
	if err != nil {
		return nil, fmt.Errorf("consent: linked conversations: %w", err)
	}
	var out []string
	for _, id := range convs {
		c, err := q.GetConversation(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, chatKey(c.Channel, c.ChatID))
	}
	if phone != "" {
		out = append(out, chatKey("whatsapp", phone))
	}
	return out, nil
}

func chatKey(channel, chatID string) string { return "chat:" + channel + ":" + chatID }

func patientKey(id int64) string { return "patient:" + strconv.FormatInt(id, 10) }

// allKeys are the subject's own keys and, for a patient, the keys of every
// conversation linked to the patient. p, when given, is the patient's
// registry record (for the phone number); otherwise it is read.
func allKeys(ctx context.Context, q store.Q, s Subject, p *patients.Patient) ([]string, error) {
	keys := s.keys()
	if s.PatientID != nil {
		phone := ""
		if p != nil && p.ID == *s.PatientID {
			phone = p.Phone
		} else if rec, err := patients.Get(ctx, q, *s.PatientID); err == nil {
			phone = rec.Phone
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		more, err := identities(ctx, q, *s.PatientID, phone)
		if err != nil {
			return nil, err
		}
		keys = append(keys, more...)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// conversationKeys are the keys a message in the conversation is judged by:
// its own identity, and each linked patient with the patient's other
// conversations.
func conversationKeys(ctx context.Context, q store.Q, c store.Conversation) (own string, pats []int64, all []string, err error) {
	own = chatKey(c.Channel, c.ChatID)
	pats, err = Patients(ctx, q, c)
	if err != nil {
		return "", nil, nil, err
	}
	all = []string{own}
	for _, id := range pats {
		keys, err := allKeys(ctx, q, PatientSubject(id), nil)
		if err != nil {
			return "", nil, nil, err
		}
		all = append(all, keys...)
	}
	slices.Sort(all)
	return own, pats, slices.Compact(all), nil
}

// ConversationOptOut is the opt-out level that applies to the conversation:
// its own and that of every patient linked to it.
func ConversationOptOut(ctx context.Context, q store.Q, c store.Conversation) (string, error) {
	_, _, keys, err := conversationKeys(ctx, q, c)
	if err != nil {
		return "", err
	}
	states, err := statesOf(ctx, q, keys, "")
	if err != nil {
		return "", err
	}
	return optOutOf(states), nil
}

// StopConversation records STOP (STOP ALL with all) said in a conversation:
// for its channel identity and for every patient linked to it, on every
// channel. It returns how many patients it reached.
func StopConversation(ctx context.Context, q store.Q, c store.Conversation, all bool, source string, now time.Time) (int, error) {
	own, pats, _, err := conversationKeys(ctx, q, c)
	if err != nil {
		return 0, err
	}
	status := Stopped
	if all {
		status = StoppedAll
	}
	keys := []string{own}
	for _, id := range pats {
		keys = append(keys, patientKey(id))
	}
	id := c.ID
	return len(pats), recordKeys(ctx, q, keys, Change{Purpose: optOut, Status: status, Source: source, ConversationID: &id,
		Via: c.Channel}, now)
}

// StartConversation records START said in a conversation, and reports
// whether there was anything to resume (false: START is a greeting). It
// lifts the conversation's own opt-out and, for a patient the conversation
// is linked to, the patient's opt-out on every channel. When a number is
// shared by several registry patients (a family phone), START there lifts a
// patient's opt-out only if the latest was said in this same conversation,
// and never what the patient said in their own conversations.
func StartConversation(ctx context.Context, q store.Q, c store.Conversation, source string, now time.Time) (bool, error) {
	own, pats, all, err := conversationKeys(ctx, q, c)
	if err != nil {
		return false, err
	}
	states, err := statesOf(ctx, q, all, "")
	if err != nil {
		return false, err
	}
	if optOutOf(states) == "" {
		return false, nil
	}
	resume := map[string]bool{own: true}
	for _, id := range pats {
		if len(pats) > 1 {
			// A shared number: only the patient's opt-out said here is lifted;
			// what they said in their own conversations stays.
			from, err := lastOptOutConversation(ctx, q, patientKey(id))
			if err != nil {
				return false, err
			}
			if from != nil && *from == c.ID {
				resume[patientKey(id)] = true
			}
			continue
		}
		keys, err := allKeys(ctx, q, PatientSubject(id), nil)
		if err != nil {
			return false, err
		}
		for _, k := range keys {
			resume[k] = true
		}
	}
	var keys []string
	for _, st := range states {
		if st.Purpose == optOut && st.Status != Resumed && resume[st.Subject] {
			keys = append(keys, st.Subject)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		return false, nil
	}
	id := c.ID
	return true, recordKeys(ctx, q, keys, Change{Purpose: optOut, Status: Resumed, Source: source, ConversationID: &id,
		Via: c.Channel}, now)
}

// lastOptOutConversation is the conversation the subject's latest STOP or
// START came from (nil: none, or staff).
func lastOptOutConversation(ctx context.Context, q store.Q, key string) (*int64, error) {
	var conv *int64
	err := q.QueryRow(ctx, `SELECT conversation_id FROM consent_events WHERE subject = $1 AND purpose = $2
		ORDER BY at DESC, id DESC LIMIT 1`, key, optOut).Scan(&conv)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("consent: last opt-out: %w", err)
	}
	return conv, nil
}

// placeholders is "$from, $from+1, ..." for n values.
func placeholders(from, n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(ph, ", ")
}
