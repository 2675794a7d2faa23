package campaign

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
)

// The campaigns page for staff (/admin/campaigns), inside the console's
// layout (httpserver.Page): every campaign run, with its deliveries
// counted by outcome, and the open requests patients made from a campaign
// message (refills). Patients are named by record number only.

// campaignRow is one campaign as the page lists it.
type campaignRow struct {
	ID        string
	CreatedAt time.Time
	UpdatedAt time.Time
	Counts    map[string]int
	Total     int
}

func campaigns(ctx context.Context, q store.Q) ([]campaignRow, error) {
	rs, err := q.Query(ctx, `SELECT c.id, c.created_at, c.updated_at, COALESCE(d.status, ''), count(d.id)
		FROM campaigns c LEFT JOIN campaign_deliveries d ON d.campaign_id = c.id
		GROUP BY c.id, c.created_at, c.updated_at, d.status ORDER BY c.updated_at DESC, c.id`)
	if err != nil {
		return nil, fmt.Errorf("campaign: list: %w", err)
	}
	defer rs.Close()
	var out []campaignRow
	byID := map[string]int{}
	for rs.Next() {
		var r campaignRow
		var status string
		var n int
		if err := rs.Scan(&r.ID, &r.CreatedAt, &r.UpdatedAt, &status, &n); err != nil {
			return nil, err
		}
		i, ok := byID[r.ID]
		if !ok {
			r.Counts = map[string]int{}
			out = append(out, r)
			i = len(out) - 1
			byID[r.ID] = i
		}
		if status != "" {
			out[i].Counts[status] += n
			out[i].Total += n
		}
	}
	return out, rs.Err()
}

var pageTmpl = template.Must(template.New("campaigns").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}).Parse(`<p>Campaigns are planned and run from files or the API (<code>tend campaign</code>, <code>POST /api/v1/campaigns/run</code>); this page shows what they did.</p>
<div class="scroll"><table id="campaigns"><thead><tr><th scope="col">Campaign</th><th scope="col">First run</th><th scope="col">Last change</th><th scope="col">Messages</th><th scope="col">Outcomes</th></tr></thead>
<tbody>{{range .Campaigns}}<tr data-campaign="{{.ID}}"><td>{{.ID}}</td><td>{{date .CreatedAt}}</td><td>{{date .UpdatedAt}}</td><td>{{.Total}}</td>
<td>{{range $k, $v := .Counts}}<span class="chip">{{$k}}: {{$v}}</span> {{end}}</td></tr>
{{else}}<tr><td colspan="5">No campaign has run yet.</td></tr>{{end}}</tbody></table></div>
<h2>Open requests from campaign messages</h2>
<div class="scroll"><table id="requests"><thead><tr><th scope="col">Asked</th><th scope="col">What</th><th scope="col">Patient record</th><th scope="col">Conversation</th></tr></thead>
<tbody>{{range .Requests}}<tr><td>{{date .created_at}}</td><td>{{.kind}}</td><td>{{.patient}}</td><td><a href="/admin/conversations/{{.conversation_id}}">open</a></td></tr>
{{else}}<tr><td colspan="4">No open requests.</td></tr>{{end}}</tbody></table></div>
`))

func (s *Service) httpPage(hs *httpserver.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		list, err := campaigns(r.Context(), s.DB.Q())
		var reqs []map[string]any
		if err == nil {
			reqs, err = Requests(r.Context(), s.DB.Q())
		}
		if err != nil {
			s.Log.ErrorContext(r.Context(), "campaign: page", "error", err)
			httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list campaigns")
			return
		}
		var b bytes.Buffer
		if err := pageTmpl.Execute(&b, map[string]any{"Campaigns": list, "Requests": reqs}); err != nil {
			s.Log.ErrorContext(r.Context(), "campaign: page", "error", err)
			httpserver.WriteError(w, http.StatusInternalServerError, "the page could not be made")
			return
		}
		hs.Page(w, r, "Campaigns", template.HTML(b.String())) //nolint:gosec // html/template's output
	}
}
