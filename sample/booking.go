package sample

import _ "embed"

//go:embed schedule.yaml
var scheduleYAML []byte

//go:embed patients.csv
var patientsCSV []byte

// ScheduleYAML is Maple Grove's sample schedule (providers, locations,
// visit types, weekly templates, exceptions), loaded on a fresh machine.
func ScheduleYAML() []byte { return scheduleYAML }

// PatientsCSV is a handful of fictional patients for demos and tests; it is
// loaded only on request (TEND_BOOKING_DEMO=1 or `tend patients import --sample`).
func PatientsCSV() []byte { return patientsCSV }
