package survey

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/httpserver"
)

//go:embed admin.html
var adminFiles embed.FS

var adminPage = template.Must(template.New("admin.html").Funcs(template.FuncMap{
	"bars": bars, "pct": func(f float64) string { return fmt.Sprintf("%+.0f", f) },
	"mean": func(m map[string]float64, k string) string {
		if v, ok := m[k]; ok {
			return fmt.Sprintf("%.2f", v)
		}
		return "–"
	},
}).ParseFS(adminFiles, "admin.html"))

// bar is one group's row of an inline SVG chart: detractors, passives
// and promoters as shares of one 100% bar, and the NPS beside it.
type bar struct {
	Label  string
	NPS    float64
	Y      int
	Segs   []seg
	Detail string
}

type seg struct {
	X, W  float64
	Class string
}

// chart is a stacked bar chart, one row per group.
type chart struct {
	Title  string
	Bars   []bar
	Height int
}

// bars lays groups out as SVG rectangles; the page needs no script and no
// outside resources.
func bars(title string, groups []Group) chart {
	const left, width, top, row = 160.0, 300.0, 10, 28
	c := chart{Title: title, Height: top + row*len(groups) + 10}
	for i, g := range groups {
		b := bar{Label: g.Key, NPS: g.NPS, Y: top + row*i,
			Detail: fmt.Sprintf("%d answers: %d promoters, %d passives, %d detractors", g.Responses, g.Promoters, g.Passives, g.Detractors)}
		x := left
		for _, part := range []struct {
			n     int
			class string
		}{{g.Detractors, "neg"}, {g.Passives, "mid"}, {g.Promoters, "pos"}} {
			if g.Responses == 0 || part.n == 0 {
				continue
			}
			w := width * float64(part.n) / float64(g.Responses)
			b.Segs = append(b.Segs, seg{X: x, W: w, Class: part.class})
			x += w
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// comment is a free-text answer shown to staff (escaped by the template).
type comment struct {
	When     string
	Provider string
	Score    string
	Question string
	Text     string
	Alert    string
}

type pageData struct {
	Generated string
	Summary   Summary
	Items     []itemLabel
	Comments  []comment
	Filter    string
}

type itemLabel struct{ LinkID, Text string }

// page is the survey results page, inside the console's layout when the
// console is installed (httpserver.Page); providers and locations by name.
func (a *api) page(w http.ResponseWriter, r *http.Request) {
	list, ok := a.list(w, r)
	if !ok {
		return
	}
	s := a.S
	names := s.directory(r.Context())
	d := pageData{Generated: s.Clock.Now().In(s.Clinic.Location()).Format("Jan 2, 2006 3:04 PM"),
		Summary: s.Q.Summarize(list, s.monthOf), Filter: r.URL.RawQuery}
	for i := range d.Summary.ByProvider {
		d.Summary.ByProvider[i].Key = names.provider(d.Summary.ByProvider[i].Key)
	}
	for i := range d.Summary.ByLocation {
		d.Summary.ByLocation[i].Key = names.location(d.Summary.ByLocation[i].Key)
	}
	for _, id := range d.Summary.Items {
		d.Items = append(d.Items, itemLabel{LinkID: id, Text: s.itemText(id)})
	}
	d.Comments = s.comments(list, names)
	var b bytes.Buffer
	if err := adminPage.Execute(&b, d); err != nil {
		s.Log.ErrorContext(r.Context(), "survey: admin page", "error", err)
		httpserver.WriteError(w, http.StatusInternalServerError, "the page could not be made")
		return
	}
	a.http.Page(w, r, "Survey results", template.HTML(b.String())) //nolint:gosec // html/template's output
}

// comments lists the newest free-text answers, unhappy ones first.
func (s *Service) comments(list []Response, names directory) []comment {
	var out, rest []comment
	for i := len(list) - 1; i >= 0 && len(out)+len(rest) < 200; i-- {
		r := list[i]
		for _, it := range r.Items {
			if len(it.Answer) == 0 || it.Answer[0].ValueString == nil {
				continue
			}
			c := comment{When: r.VisitAt.In(s.Clinic.Location()).Format(time.DateOnly), Provider: names.provider(r.ProviderID),
				Question: s.itemText(it.LinkID), Text: strings.TrimSpace(*it.Answer[0].ValueString), Alert: r.Alert}
			if r.Score != nil {
				c.Score = fmt.Sprint(*r.Score)
			}
			if r.Alert != "" {
				out = append(out, c)
			} else {
				rest = append(rest, c)
			}
		}
	}
	return append(out, rest...)
}
