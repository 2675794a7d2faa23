package booking

import (
	"context"
	"errors"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// Registry gives Slack staff the card of a verified patient from the
// patient registry: name, date of birth (to confirm they have the right
// chart) and phone (to call back), nothing more. The handoff machine asks
// only for conversations linked to a patient by verification.
type Registry struct{}

// Card implements handoff.Registry. A patient removed from the registry
// since verifying gets an empty card, so the handoff still goes out with
// the first name alone rather than failing.
func (Registry) Card(ctx context.Context, q store.Q, patientID int64) (handoff.Card, error) {
	p, err := patients.Get(ctx, q, patientID)
	if errors.Is(err, store.ErrNotFound) {
		return handoff.Card{}, nil
	}
	if err != nil {
		return handoff.Card{}, err
	}
	return handoff.Card{Name: joinName(p.FirstName, p.LastName), DateOfBirth: p.BirthDate, Phone: dialable(p.Phone),
		FirstName: p.FirstName, Record: p.ExternalID}, nil
}

func joinName(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	}
	return first + " " + last
}

// dialable shows a stored number (digits with country code) the way staff
// dial it: "+1 555 014 2001" for North American numbers, "+<digits>" else.
func dialable(digits string) string {
	if digits == "" {
		return ""
	}
	if len(digits) == 11 && digits[0] == '1' {
		return "+1 " + digits[1:4] + " " + digits[4:7] + " " + digits[7:]
	}
	return "+" + digits
}
