package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/knowledge"
)

// maxGroups bounds the groups listed (each is searched again to see
// whether the documents now answer it).
const maxGroups = 100

// unanswered lists the groups of the last days that the knowledge base
// still cannot answer. Grouping by meaning and dropping the groups the
// documents now answer is the knowledge engine's (UnansweredGroups), the
// same list `tend kb unanswered` prints, so a fixed question leaves both.
func (m *Module) unanswered(ctx context.Context, days int) ([]knowledge.UnansweredGroup, error) {
	kb := m.kb()
	if kb == nil {
		return []knowledge.UnansweredGroup{}, nil
	}
	since := m.h.Clock.Now().AddDate(0, 0, -days)
	groups, err := kb.UnansweredGroups(ctx, kb.DB().Q(), knowledge.UnansweredOptions{Since: since, Limit: maxGroups})
	if groups == nil {
		groups = []knowledge.UnansweredGroup{}
	}
	return groups, err
}

// group finds one group by id, answered or not (the "write an answer" page
// opens from the list, and the list may have changed since).
func (m *Module) group(ctx context.Context, id int64) (knowledge.UnansweredGroup, bool, error) {
	kb := m.kb()
	if kb == nil {
		return knowledge.UnansweredGroup{}, false, nil
	}
	groups, err := kb.UnansweredGroups(ctx, kb.DB().Q(), knowledge.UnansweredOptions{IncludeAnswered: true})
	if err != nil {
		return knowledge.UnansweredGroup{}, false, err
	}
	for _, g := range groups {
		if g.ID == id {
			return g, true, nil
		}
	}
	return knowledge.UnansweredGroup{}, false, nil
}

func daysParam(r *http.Request) int {
	d, err := strconv.Atoi(r.URL.Query().Get("days"))
	if err != nil || d < 1 || d > 365 {
		return 30
	}
	return d
}

func (m *Module) apiUnanswered(w http.ResponseWriter, r *http.Request) {
	groups, err := m.unanswered(r.Context(), daysParam(r))
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: unanswered", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list unanswered questions")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, groups)
}

// errNoGroup: the id names no group still listed (already dismissed, or
// never one).
var errNoGroup = errors.New("no such group of unanswered questions (already dismissed?)")

// dismiss takes a group off the list with the editor's reason. The reason
// is kept with the questions (knowledge's table), not in the audit trail,
// which holds facts only: who, when, which group, how many questions.
func (m *Module) dismiss(r *http.Request, id int64, reason string) (int, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return 0, userError("say why the group is dismissed (for example: not a service we offer)")
	}
	if len([]rune(reason)) > 500 {
		return 0, userError("the reason is at most 500 characters")
	}
	kb := m.kb()
	if kb == nil {
		return 0, errNoGroup
	}
	by := principal(r).Actor.ID
	n, err := kb.DismissUnanswered(r.Context(), kb.DB().Q(), id, reason, by, m.h.Clock.Now())
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errNoGroup
	}
	entry := audit.For(r.Context(), m.h.Clock.Now(), "kb.unanswered.dismissed", "unanswered:"+strconv.FormatInt(id, 10),
		map[string]any{"questions": n})
	if err := audit.Record(r.Context(), m.h.DB, entry); err != nil {
		m.log.ErrorContext(r.Context(), "console: audit trail not written", "action", entry.Action, "error", err)
	}
	return n, nil
}

type dismissRequest struct {
	Reason string `json:"reason"`
}

// apiDismiss is POST /api/v1/kb/unanswered/{id}/dismiss {"reason"}.
func (m *Module) apiDismiss(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		httpserver.WriteError(w, http.StatusBadRequest, "id: a group id from GET /api/v1/kb/unanswered")
		return
	}
	var req dismissRequest
	if !httpserver.DecodeJSON(w, r, &req, httpserver.JSONOptions{MaxBytes: 8 << 10, KnownFieldsOnly: true}) {
		return
	}
	n, err := m.dismiss(r, id, req.Reason)
	var bad userError
	switch {
	case errors.Is(err, errNoGroup):
		httpserver.WriteError(w, http.StatusNotFound, err.Error())
	case errors.As(err, &bad):
		httpserver.WriteError(w, http.StatusBadRequest, bad.Error())
	case err != nil:
		m.log.ErrorContext(r.Context(), "console: dismiss", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not dismiss; try again")
	default:
		httpserver.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "dismissed": n})
	}
}

// dismissForm is the page's dismiss form.
func (m *Module) dismissForm(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		unansweredBack(w, r, "", "no such group")
		return
	}
	n, err := m.dismiss(r, id, r.PostFormValue("reason"))
	var bad userError
	if err != nil && !errors.As(err, &bad) && !errors.Is(err, errNoGroup) {
		m.log.ErrorContext(r.Context(), "console: dismiss", "error", err)
		err = errors.New("could not dismiss; try again")
	}
	if err != nil {
		unansweredBack(w, r, "", err.Error())
		return
	}
	unansweredBack(w, r, "Dismissed "+strconv.Itoa(n)+" question"+map[bool]string{true: "", false: "s"}[n == 1]+".", "")
}

// unansweredBack returns to the list with a message (Post/Redirect/Get).
func unansweredBack(w http.ResponseWriter, r *http.Request, flash, problem string) {
	v := url.Values{}
	if flash != "" {
		v.Set("done", flash)
	}
	if problem != "" {
		v.Set("problem", problem)
	}
	http.Redirect(w, r, "/admin/kb/unanswered?"+v.Encode(), http.StatusSeeOther)
}

type unansweredData struct {
	Groups         []knowledge.UnansweredGroup
	Days           int
	Flash, Problem string
}

func (m *Module) unansweredPage(w http.ResponseWriter, r *http.Request) {
	days := daysParam(r)
	groups, err := m.unanswered(r.Context(), days)
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: unanswered", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list unanswered questions")
		return
	}
	q := r.URL.Query()
	m.render(w, r, "unanswered", page{Title: "Unanswered questions", Data: unansweredData{Groups: groups, Days: days,
		Flash: q.Get("done"), Problem: q.Get("problem")}})
}
