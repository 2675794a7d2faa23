package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

// Backend implements scheduling.Backend on a FHIR R4 server. Providers are
// mapped to Schedules by the directory's fhir_schedule; a slot's location is
// the query's or the provider's first.
type Backend struct {
	c *Client
	// PageSize is the _count asked of searches.
	PageSize int
}

// New returns a back end for the server at base.
func New(base string, opts ...Option) *Backend {
	return &Backend{c: NewClient(base, opts...), PageSize: 100}
}

// Name implements scheduling.Backend.
func (*Backend) Name() string { return "fhir" }

const fhirTime = "2006-01-02T15:04:05Z"

// FreeSlots implements scheduling.Backend: Slot?schedule=…&status=free,
// following next links, keeping slots long enough for the visit.
func (b *Backend) FreeSlots(ctx context.Context, _ store.Q, dir *scheduling.Directory, sq scheduling.SlotQuery) ([]scheduling.Slot, error) {
	if sq.Provider.FHIRSchedule == "" {
		return nil, fmt.Errorf("fhir: provider %s has no fhir_schedule: %w", sq.Provider.ID, scheduling.ErrUnknown)
	}
	loc := sq.Location
	if loc == "" {
		loc = sq.Provider.Locations[0]
	}
	v := url.Values{}
	v.Set("schedule", sq.Provider.FHIRSchedule)
	v.Set("status", "free")
	v.Add("start", "ge"+sq.From.UTC().Format(fhirTime))
	v.Add("start", "lt"+sq.To.UTC().Format(fhirTime))
	v.Set("_sort", "start")
	v.Set("_count", fmt.Sprint(b.PageSize))
	next := "Slot?" + v.Encode()
	need := time.Duration(sq.Visit.Minutes) * time.Minute
	var out []scheduling.Slot
	for pages := 0; next != "" && pages < 50 && (sq.Limit == 0 || len(out) < sq.Limit); pages++ {
		var bundle Bundle
		if _, err := b.c.do(ctx, "GET", next, nil, &bundle, nil); err != nil {
			return nil, err
		}
		next = ""
		for _, l := range bundle.Link {
			if l.Relation == "next" {
				next = l.URL
			}
		}
		for _, e := range bundle.Entry {
			var s Slot
			if err := json.Unmarshal(e.Resource, &s); err != nil || s.ResourceType != "Slot" || s.Status != "free" {
				continue
			}
			if s.End.Sub(s.Start) < need || s.Start.Before(sq.From) || !s.Start.Before(sq.To) {
				continue
			}
			out = append(out, scheduling.Slot{ProviderID: sq.Provider.ID, LocationID: loc, Start: s.Start.UTC(),
				End: s.Start.Add(need).UTC(), Ref: "Slot/" + s.ID})
		}
	}
	sortSlots(out)
	if sq.Limit > 0 && len(out) > sq.Limit {
		out = out[:sq.Limit]
	}
	return out, nil
}

func sortSlots(s []scheduling.Slot) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Start.Before(s[j-1].Start); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Reserve implements scheduling.Backend: one transaction Bundle creates the
// Appointment and marks the Slot busy, guarded by the Slot's version.
func (b *Backend) Reserve(ctx context.Context, _ store.Q, dir *scheduling.Directory, a *scheduling.Appointment, s scheduling.Slot) error {
	if !strings.HasPrefix(s.Ref, "Slot/") {
		return scheduling.ErrNotInSchedule
	}
	var slot Slot
	etag, err := b.c.do(ctx, "GET", s.Ref, nil, &slot, nil)
	if errors.Is(err, ErrNotFound) {
		return scheduling.ErrNotInSchedule
	}
	if err != nil {
		return err
	}
	if slot.Status != "free" {
		return scheduling.ErrSlotTaken
	}
	if !slot.Start.Equal(s.Start) {
		return scheduling.ErrNotInSchedule
	}
	slot.Status = "busy"
	appt := Appointment{ResourceType: "Appointment", Status: "booked", Start: a.Start, End: a.End,
		Slot: []Reference{{Reference: s.Ref}}, ServiceType: []CodeableConcept{{Text: a.VisitType}},
		Participant: []Participant{
			{Actor: Reference{Identifier: &Identifier{System: "urn:tend:patient", Value: fmt.Sprint(a.PatientID)}}, Status: "accepted"},
			{Actor: Reference{Display: providerName(dir, a.ProviderID)}, Status: "accepted"},
		}}
	resp, err := b.transaction(ctx, []entry{
		{method: "PUT", url: s.Ref, ifMatch: versionTag(etag, slot.Meta), resource: slot},
		{method: "POST", url: "Appointment", resource: appt},
	})
	if err != nil {
		return conflictIsTaken(err)
	}
	a.ExternalSlot = s.Ref
	if len(resp.Entry) == 2 && resp.Entry[1].Response != nil {
		a.ExternalID = resourceRef(resp.Entry[1].Response.Location)
	}
	return nil
}

func providerName(dir *scheduling.Directory, id string) string {
	if p, ok := dir.Provider(id); ok {
		return p.Name
	}
	return id
}

// Release implements scheduling.Backend: the Appointment is cancelled and
// the Slot freed in one transaction.
func (b *Backend) Release(ctx context.Context, _ store.Q, a scheduling.Appointment) error {
	if a.ExternalSlot == "" {
		return nil
	}
	var slot Slot
	slotTag, err := b.c.do(ctx, "GET", a.ExternalSlot, nil, &slot, nil)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	var entries []entry
	if err == nil {
		slot.Status = "free"
		entries = append(entries, entry{method: "PUT", url: a.ExternalSlot, ifMatch: versionTag(slotTag, slot.Meta), resource: slot})
	}
	if a.ExternalID != "" {
		var appt Appointment
		tag, err := b.c.do(ctx, "GET", a.ExternalID, nil, &appt, nil)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err == nil {
			appt.Status = "cancelled"
			entries = append(entries, entry{method: "PUT", url: a.ExternalID, ifMatch: versionTag(tag, appt.Meta), resource: appt})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	_, err = b.transaction(ctx, entries)
	return err
}

// Move implements scheduling.Backend: book the new slot first, then free the
// old one, so a failure leaves the patient with the slot they had.
func (b *Backend) Move(ctx context.Context, q store.Q, dir *scheduling.Directory, old scheduling.Appointment, a *scheduling.Appointment, s scheduling.Slot) error {
	if err := b.Reserve(ctx, q, dir, a, s); err != nil {
		return err
	}
	if err := b.Release(ctx, q, old); err != nil {
		// Undo the new booking so the server matches our records (the old one).
		if uerr := b.Release(ctx, q, *a); uerr != nil {
			return errors.Join(err, fmt.Errorf("fhir: undo new booking: %w", uerr))
		}
		return err
	}
	return nil
}

type entry struct {
	method, url, ifMatch string
	resource             any
}

func (b *Backend) transaction(ctx context.Context, entries []entry) (Bundle, error) {
	bundle := Bundle{ResourceType: "Bundle", Type: "transaction"}
	for _, e := range entries {
		raw, err := json.Marshal(e.resource)
		if err != nil {
			return Bundle{}, err
		}
		bundle.Entry = append(bundle.Entry, BundleEntry{Resource: raw,
			Request: &EntryRequest{Method: e.method, URL: e.url, IfMatch: e.ifMatch}})
	}
	var resp Bundle
	_, err := b.c.do(ctx, "POST", "", bundle, &resp, nil)
	return resp, err
}

func versionTag(etag string, m *Meta) string {
	if etag != "" {
		return etag
	}
	if m != nil && m.VersionID != "" {
		return ETag(m.VersionID)
	}
	return ""
}

func conflictIsTaken(err error) error {
	var fe *Error
	if errors.As(err, &fe) && fe.Conflict() {
		return fmt.Errorf("%w (%v)", scheduling.ErrSlotTaken, fe)
	}
	return err
}

// resourceRef turns "Appointment/12/_history/1" (or an absolute URL) into "Appointment/12".
func resourceRef(loc string) string {
	parts := strings.Split(strings.Trim(loc, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "Appointment" {
			return "Appointment/" + parts[i+1]
		}
	}
	return ""
}
