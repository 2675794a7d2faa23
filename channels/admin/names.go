package admin

import (
	"context"

	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

// names turns the schedule's ids into the names people use: staff pages
// show "Dr. Emily Chen" and "Main Street", never "p-chen" and "main".
type names struct{ dir *scheduling.Directory }

// names reads the current directory (cached by version); without one
// imported, ids are shown as they are.
func (m *Module) names(ctx context.Context, q store.Q) names {
	dir, err := m.sched.Directory(ctx, q)
	if err != nil {
		return names{}
	}
	return names{dir: dir}
}

func (n names) provider(id string) string {
	if n.dir != nil {
		if p, ok := n.dir.Provider(id); ok && p.Name != "" {
			return p.Name
		}
	}
	return id
}

func (n names) location(id string) string {
	if n.dir != nil {
		if l, ok := n.dir.Location(id); ok && l.Name != "" {
			return l.Name
		}
	}
	return id
}

func (n names) visitType(id string) string {
	if n.dir != nil {
		if v, ok := n.dir.VisitType(id); ok {
			if s := v.Name.In("en"); s != "" {
				return s
			}
		}
	}
	return id
}

// appointmentRow is an appointment as staff read it.
type appointmentRow struct {
	scheduling.Appointment
	ProviderName  string `json:"provider_name"`
	LocationName  string `json:"location_name"`
	VisitTypeName string `json:"visit_type_name"`
	PatientRecord string `json:"patient_record,omitempty"`
	PatientName   string `json:"patient_name,omitempty"`
}

func (n names) appointment(a scheduling.Appointment) appointmentRow {
	return appointmentRow{Appointment: a, ProviderName: n.provider(a.ProviderID), LocationName: n.location(a.LocationID),
		VisitTypeName: n.visitType(a.VisitType)}
}
