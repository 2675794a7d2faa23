package survey

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
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

// bar is one bar of an inline SVG chart.
type bar struct {
	Label  string
	Value  float64
	X, W   float64 // from the zero line, in px
	Y      int
	Class  string
	Detail string
}

// chart is a horizontal bar chart of NPS (-100 to 100) per group.
type chart struct {
	Title  string
	Bars   []bar
	Height int
	Zero   float64
}

// bars lays out NPS per group as SVG rectangles around a zero line; the
// page needs no script and no outside resources.
func bars(title string, groups []Group) chart {
	const half, top, row = 200.0, 10, 28
	c := chart{Title: title, Zero: 160 + half, Height: top + row*len(groups) + 10}
	for i, g := range groups {
		w := g.NPS / 100 * half
		b := bar{Label: g.Key, Value: g.NPS, Y: top + row*i, Class: "pos",
			Detail: fmt.Sprintf("%d answers: %d promoters, %d passives, %d detractors", g.Responses, g.Promoters, g.Passives, g.Detractors)}
		if w < 0 {
			b.X, b.W, b.Class = c.Zero+w, -w, "neg"
		} else {
			b.X, b.W = c.Zero, w
		}
		if g.Responses == 0 {
			b.Class = "none"
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

func (a *api) page(w http.ResponseWriter, r *http.Request) {
	f, err := a.filter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	list, err := List(r.Context(), a.S.DB.Q(), f)
	if err != nil {
		http.Error(w, "could not read the responses", http.StatusInternalServerError)
		return
	}
	s := a.S
	d := pageData{Generated: s.Clock.Now().In(s.Clinic.Location()).Format("Jan 2, 2006 3:04 PM"),
		Summary: s.Q.Summarize(list, s.monthOf), Filter: r.URL.RawQuery}
	for _, id := range d.Summary.Items {
		d.Items = append(d.Items, itemLabel{LinkID: id, Text: s.itemText(id)})
	}
	d.Comments = s.comments(list)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := adminPage.Execute(w, d); err != nil {
		s.Log.ErrorContext(r.Context(), "survey: admin page", "error", err)
	}
}

// comments lists the newest free-text answers, unhappy ones first.
func (s *Service) comments(list []Response) []comment {
	var out, rest []comment
	for i := len(list) - 1; i >= 0 && len(out)+len(rest) < 200; i-- {
		r := list[i]
		for _, it := range r.Items {
			if len(it.Answer) == 0 || it.Answer[0].ValueString == nil {
				continue
			}
			c := comment{When: r.VisitAt.In(s.Clinic.Location()).Format(time.DateOnly), Provider: r.ProviderID,
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
