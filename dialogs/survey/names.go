package survey

import (
	"context"

	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
)

// directory turns the schedule's provider and location ids into the names
// staff know ("Dr. Emily Chen", "Main Street") on the results page, the
// CSV export and staff alerts; without a schedule the ids are shown.
type directory struct{ d *scheduling.Directory }

func (s *Service) directory(ctx context.Context) directory {
	var holidays []string
	if s.Clinic != nil {
		holidays = s.Clinic.Holidays
	}
	d, err := scheduling.Load(ctx, s.DB.Q(), holidays...)
	if err != nil {
		return directory{}
	}
	return directory{d: d}
}

func (n directory) provider(id string) string {
	if n.d != nil {
		if p, ok := n.d.Provider(id); ok && p.Name != "" {
			return p.Name
		}
	}
	return id
}

func (n directory) location(id string) string {
	if n.d != nil {
		if l, ok := n.d.Location(id); ok && l.Name != "" {
			return l.Name
		}
	}
	return id
}

// record is a patient's record number for staff ("" when unknown).
func (s *Service) record(ctx context.Context, patientID int64) string {
	if patientID == 0 {
		return ""
	}
	p, err := patients.Get(ctx, s.DB.Q(), patientID)
	if err != nil {
		return ""
	}
	return p.ExternalID
}
