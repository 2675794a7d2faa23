package fhir

import (
	"encoding/json"
	"strings"
	"time"
)

// The few FHIR R4 resources scheduling needs, by hand: the Go FHIR model
// modules are unmaintained, and these fields are all that is read or written.

// Meta carries the resource version.
type Meta struct {
	VersionID string `json:"versionId,omitempty"`
}

// Reference points at another resource.
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Display    string      `json:"display,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
}

// Identifier is a business identifier.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

// Slot is a bookable time on a Schedule.
type Slot struct {
	ResourceType string    `json:"resourceType"`
	ID           string    `json:"id,omitempty"`
	Meta         *Meta     `json:"meta,omitempty"`
	Schedule     Reference `json:"schedule"`
	Status       string    `json:"status"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
}

// Participant is one party to an Appointment.
type Participant struct {
	Actor  Reference `json:"actor"`
	Status string    `json:"status"`
}

// CodeableConcept is a coded or free-text concept.
type CodeableConcept struct {
	Text string `json:"text,omitempty"`
}

// Appointment is a booked visit.
type Appointment struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         *Meta             `json:"meta,omitempty"`
	Status       string            `json:"status"`
	ServiceType  []CodeableConcept `json:"serviceType,omitempty"`
	Start        time.Time         `json:"start"`
	End          time.Time         `json:"end"`
	Slot         []Reference       `json:"slot,omitempty"`
	Participant  []Participant     `json:"participant"`
}

// Bundle is a search result, a transaction or its response.
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Total        *int          `json:"total,omitempty"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// BundleLink is a paging link.
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// BundleEntry is one entry of a Bundle.
type BundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Request  *EntryRequest   `json:"request,omitempty"`
	Response *EntryResponse  `json:"response,omitempty"`
}

// EntryRequest is what a transaction entry asks for.
type EntryRequest struct {
	Method  string `json:"method"`
	URL     string `json:"url"`
	IfMatch string `json:"ifMatch,omitempty"`
}

// EntryResponse is how a transaction entry went.
type EntryResponse struct {
	Status   string `json:"status"`
	Location string `json:"location,omitempty"`
	Etag     string `json:"etag,omitempty"`
}

// OperationOutcome is FHIR's error body.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// Issue is one problem in an OperationOutcome.
type Issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics,omitempty"`
}

// ETag is the weak ETag for a version id (W/"3").
func ETag(versionID string) string { return `W/"` + versionID + `"` }

// VersionFromETag reads the version id out of W/"3" or "3".
func VersionFromETag(etag string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`)
}
