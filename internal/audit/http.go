package audit

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Every request to a staff or admin endpoint that passed the admin check
// (httpserver.RequireAdmin) is recorded before its handler runs, so a read
// or a change never happens without its row: the action is the route's
// verb below, the subject the patient (or campaign) in the path or in a
// patient_id query parameter. A route not listed here is still recorded,
// as "api.request" with the route in the detail.

// route is what an admin route means to the audit trail.
type route struct {
	action string
	// subject is the kind of thing the path's {id} names ("patient",
	// "campaign"), or "".
	subject string
	// self: the handler records its own row (inside its transaction), so
	// the request is not recorded again.
	self bool
}

var (
	routesMu sync.RWMutex
	routes   = map[string]route{
		"POST /api/v1/admin/session":   {action: "admin.sign_in"},
		"GET /api/v1/admin/session":    {action: "admin.session"},
		"DELETE /api/v1/admin/session": {action: "admin.sign_out"},

		"GET /api/v1/patients":                           {action: "patients.list"},
		"POST /api/v1/patients":                          {action: "patients.import"},
		"GET /api/v1/patients/{id}/consent":              {action: "patient.consent.read", subject: "patient"},
		"PUT /api/v1/patients/{id}/consent":              {action: "patient.consent.change", subject: "patient"},
		"GET /api/v1/patients/{id}/verification":         {action: "patient.verification.read", subject: "patient"},
		"POST /api/v1/patients/{id}/verification/unlock": {action: "patient.verification.unlock", subject: "patient"},
		"GET /api/v1/patients/{id}/export":               {action: "patient.export", subject: "patient"},
		"POST /api/v1/patients/{id}/erase":               {action: "patient.erase", subject: "patient", self: true},
		"GET /api/v1/appointments":                       {action: "appointments.list"},
		"GET /api/v1/schedule":                           {action: "schedule.read"},
		"PUT /api/v1/schedule":                           {action: "schedule.import"},
		"GET /api/v1/schedule/slots":                     {action: "schedule.slots"},
		"POST /api/v1/visits":                            {action: "visits.import"},
		"GET /api/v1/surveys/responses":                  {action: "survey_responses.list"},
		"GET /api/v1/surveys/summary":                    {action: "surveys.summary"},
		"GET /admin/surveys":                             {action: "surveys.page"},
		"POST /api/v1/campaigns/preview":                 {action: "campaign.preview"},
		"POST /api/v1/campaigns/run":                     {action: "campaign.run"},
		"GET /api/v1/campaigns/{id}/deliveries":          {action: "campaign.deliveries", subject: "campaign"},
		"GET /api/v1/campaigns/requests":                 {action: "campaign.requests"},
		"GET /api/v1/audit":                              {action: "audit.list"},
	}
)

// Route tells the audit trail what a new admin route means: its action
// verb, what its {id} names ("patient", "conversation", or ""), and
// whether its handler records its own row (self).
func Route(pattern, action, subject string, self bool) {
	routesMu.Lock()
	defer routesMu.Unlock()
	routes[pattern] = route{action: action, subject: subject, self: self}
}

func lookup(pattern string) (route, bool) {
	routesMu.RLock()
	defer routesMu.RUnlock()
	r, ok := routes[pattern]
	return r, ok
}

// ForRequest is the entry for an authorized admin request (r.Pattern is
// the route it matched), for ctx's actor, at now; record is false for a
// route whose handler records itself.
func ForRequest(r *http.Request, now time.Time) (e Entry, record bool) {
	rt, known := lookup(r.Pattern)
	detail := map[string]any{}
	if !known {
		rt.action = "api.request"
		detail["route"] = clean(r.Pattern, MaxDetailString)
	}
	subject := ""
	if rt.subject != "" {
		subject = idSubject(rt.subject, r.PathValue("id"))
	} else if v := r.URL.Query().Get("patient_id"); v != "" {
		subject = idSubject("patient", v)
	}
	return For(r.Context(), now, rt.action, subject, detail), !rt.self
}

// Refused is the entry for a request the admin check refused (a wrong or
// missing token, a cookie-authenticated change without its CSRF token):
// who is unknown, so the actor is "anonymous".
func Refused(r *http.Request, now time.Time, reason string) Entry {
	return Entry{At: now, Actor: ActorAnonymous, Action: "admin.refused",
		Detail: map[string]any{"route": clean(r.Pattern, MaxDetailString), "reason": clean(reason, 32)}}
}

// idSubject names the thing an id in a request names: "patient:12". An id
// that is not a number (what a client typed, which could be anything) is
// not copied: "patient:?".
func idSubject(kind, id string) string {
	if kind == "campaign" {
		if id = clean(id, 64); id != "" && !strings.ContainsAny(id, " @") {
			return kind + ":" + id
		}
		return kind + ":?"
	}
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
		return kind + ":" + strconv.FormatInt(n, 10)
	}
	return kind + ":?"
}

// Patient is the subject of a registry patient.
func Patient(id int64) string { return "patient:" + strconv.FormatInt(id, 10) }

// Conversation is the subject of a conversation.
func Conversation(id int64) string { return "conversation:" + strconv.FormatInt(id, 10) }
