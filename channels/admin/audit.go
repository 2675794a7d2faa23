package admin

import (
	"strings"

	"github.com/tend-health/tend/internal/audit"
)

// registerAudit tells the audit trail what the console's routes mean.
// Knowledge-base saves and deletes also record their outcome (noteKB);
// opening a patient's card records patient.card.read with the patient.
func registerAudit() {
	for pattern, action := range map[string]string{
		"GET /admin":                               "console.home",
		"GET /api/v1/console/me":                   "console.me",
		"GET /admin/kb":                            "kb.documents.page",
		"POST /admin/kb/upload":                    "kb.document.upload",
		"POST /admin/kb/delete":                    "kb.document.delete_request",
		"GET /admin/kb/try":                        "kb.try",
		"GET /admin/kb/unanswered":                 "kb.unanswered.page",
		"GET /api/v1/kb/documents":                 "kb.documents.list",
		"PUT /api/v1/kb/documents/{name}":          "kb.document.put",
		"DELETE /api/v1/kb/documents/{name}":       "kb.document.delete_request",
		"POST /api/v1/kb/ask":                      "kb.ask",
		"GET /api/v1/kb/unanswered":                "kb.unanswered.read",
		"POST /admin/kb/unanswered/{id}/dismiss":   "kb.unanswered.dismiss",
		"POST /api/v1/kb/unanswered/{id}/dismiss":  "kb.unanswered.dismiss",
		"GET /admin/kb/answer":                     "kb.answer.page",
		"POST /admin/kb/answer":                    "kb.document.entry_request",
		"POST /api/v1/kb/documents/{name}/entries": "kb.document.entry_request",
		"GET /admin/inbox":                         "inbox.page",
		"GET /api/v1/handoffs":                     "handoffs.list",
		"GET /admin/inbox/{id}":                    "handoff.read",
		"GET /api/v1/handoffs/{id}":                "handoff.read",
		"POST /admin/inbox/{id}/{action}":          "handoff.action",
		"POST /api/v1/handoffs/{id}/{action}":      "handoff.action",
	} {
		subject := ""
		if strings.Contains(pattern, "{id}") {
			subject = "handoff"
			if strings.Contains(pattern, "/unanswered/") {
				subject = "unanswered"
			}
			if strings.Contains(pattern, "/users/") {
				subject = "user"
			}
			if strings.Contains(pattern, "/patients/") {
				subject = "patient"
			}
			if strings.Contains(pattern, "/conversations/") {
				subject = "conversation"
			}
		}
		audit.Route(pattern, action, subject, false)
	}
}
