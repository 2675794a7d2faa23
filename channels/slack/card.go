package slack

import (
	"context"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
)

// Card detail (SLACK_CARD_DETAIL): what the handoff message shows of a
// verified patient. Slack keeps what it is sent, beyond Tend's retention and
// erase, so a clinic may choose to send less.
const (
	// CardFull shows the name, date of birth and phone (the default, as before).
	CardFull = "full"
	// CardMinimal shows the first name and the record number only, enough
	// for staff to find the chart; the full card stays in Tend (the staff
	// console, and the patient's export meanwhile).
	CardMinimal = "minimal"
)

// cardRegistry trims the registry's card to the configured detail, before
// it is kept in the handoff's snapshot (the copy Tend keeps to re-render
// the message) and rendered: what is not shown is not kept either.
type cardRegistry struct {
	inner  handoff.Registry
	detail string
}

// withCardDetail wraps r for detail; nil stays nil (no registry, no card).
func withCardDetail(r handoff.Registry, detail string) handoff.Registry {
	if r == nil {
		return nil
	}
	return cardRegistry{inner: r, detail: detail}
}

// Card implements handoff.Registry.
func (c cardRegistry) Card(ctx context.Context, q store.Q, patientID int64) (handoff.Card, error) {
	card, err := c.inner.Card(ctx, q, patientID)
	if err != nil {
		return card, err
	}
	if c.detail == CardMinimal {
		return handoff.Card{Name: card.FirstName, Record: card.Record}, nil
	}
	return handoff.Card{Name: card.Name, DateOfBirth: card.DateOfBirth, Phone: card.Phone}, nil
}
