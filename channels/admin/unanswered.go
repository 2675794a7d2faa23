package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/knowledge"
)

// unansweredGroup is a group of questions the bot could not answer, as the
// console lists it.
type unansweredGroup struct {
	knowledge.UnansweredGroup
	// Confidence is what the knowledge base says to the example now.
	Confidence float64 `json:"confidence_now"`
}

// maxChecked bounds the groups asked again per listing (each is a search).
const maxChecked = 40

// unanswered lists the groups of the last days that the knowledge base
// still cannot answer: each group's example is searched again, and a group
// the documents now answer (confidence at or above the answering
// threshold) leaves the list, so a fixed question disappears by itself.
func (m *Module) unanswered(ctx context.Context, days int) ([]unansweredGroup, error) {
	kb := m.kb()
	out := []unansweredGroup{}
	if kb == nil {
		return out, nil
	}
	since := m.h.Clock.Now().AddDate(0, 0, -days)
	groups, err := kb.Unanswered(ctx, kb.DB().Q(), since, maxChecked)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		resp, err := kb.SearchDB(ctx, g.Example, knowledge.SearchOptions{Limit: 1})
		if err != nil {
			return nil, err
		}
		if resp.Threshold > 0 && resp.Confidence >= resp.Threshold {
			continue
		}
		out = append(out, unansweredGroup{UnansweredGroup: g, Confidence: resp.Confidence})
	}
	return out, nil
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

type unansweredData struct {
	Groups []unansweredGroup
	Days   int
	Now    time.Time
}

func (m *Module) unansweredPage(w http.ResponseWriter, r *http.Request) {
	days := daysParam(r)
	groups, err := m.unanswered(r.Context(), days)
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: unanswered", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list unanswered questions")
		return
	}
	m.render(w, r, "unanswered", page{Title: "Unanswered questions", Data: unansweredData{Groups: groups, Days: days}})
}
