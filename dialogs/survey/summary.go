package survey

import (
	"math"
	"sort"
)

// Group is the summary of one provider, location or month.
type Group struct {
	Key string `json:"key"`
	// Name is the provider's or location's name for people (the API fills
	// it in; Key stays the schedule's id).
	Name        string             `json:"name,omitempty"`
	Responses   int                `json:"responses"` // with a score
	Promoters   int                `json:"promoters"`
	Passives    int                `json:"passives"`
	Detractors  int                `json:"detractors"`
	NPS         float64            `json:"nps"`         // % promoters - % detractors
	ItemMeans   map[string]float64 `json:"item_scores"` // choice items: mean option score
	itemSums    map[string]float64
	itemCounts  map[string]int
	Completed   int `json:"completed"`
	Invitations int `json:"invitations"`
}

// Summary is NPS and item scores overall and per provider, location and month.
type Summary struct {
	Overall    Group   `json:"overall"`
	ByProvider []Group `json:"by_provider"`
	ByLocation []Group `json:"by_location"`
	ByMonth    []Group `json:"by_month"`
	// Items are the choice items summarised, in survey order.
	Items []string `json:"items"`
}

// Summarize groups responses; months are in loc (the clinic's zone).
func (q *Questionnaire) Summarize(rs []Response, monthOf func(Response) string) Summary {
	var sum Summary
	for _, it := range q.Item {
		if it.Type == TypeChoice && hasScores(it) {
			sum.Items = append(sum.Items, it.LinkID)
		}
	}
	sum.Overall.Key = "all"
	byP, byL, byM := map[string]*Group{}, map[string]*Group{}, map[string]*Group{}
	for _, r := range rs {
		for _, g := range []*Group{&sum.Overall, group(byP, r.ProviderID), group(byL, r.LocationID), group(byM, monthOf(r))} {
			q.add(g, r)
		}
	}
	sum.Overall.finish()
	sum.ByProvider, sum.ByLocation, sum.ByMonth = sorted(byP), sorted(byL), sorted(byM)
	return sum
}

func hasScores(it Item) bool {
	for _, o := range it.AnswerOption {
		if o.Score == nil {
			return false
		}
	}
	return len(it.AnswerOption) > 0
}

func group(m map[string]*Group, key string) *Group {
	if key == "" {
		key = "-"
	}
	g := m[key]
	if g == nil {
		g = &Group{Key: key}
		m[key] = g
	}
	return g
}

func (q *Questionnaire) add(g *Group, r Response) {
	if r.Status != StatusSkipped && r.Status != StatusScheduled {
		g.Invitations++
	}
	if r.Status == StatusCompleted {
		g.Completed++
	}
	if r.Score != nil {
		g.Responses++
		switch s := *r.Score; {
		case s >= 9:
			g.Promoters++
		case s >= 7:
			g.Passives++
		default:
			g.Detractors++
		}
	}
	if g.itemSums == nil {
		g.itemSums, g.itemCounts = map[string]float64{}, map[string]int{}
	}
	for _, it := range r.Items {
		i := q.Index(it.LinkID)
		if i < 0 || len(it.Answer) == 0 || it.Answer[0].ValueCoding == nil {
			continue
		}
		for _, o := range q.Item[i].AnswerOption {
			if o.ValueCoding.Code == it.Answer[0].ValueCoding.Code && o.Score != nil {
				g.itemSums[it.LinkID] += float64(*o.Score)
				g.itemCounts[it.LinkID]++
			}
		}
	}
}

func (g *Group) finish() {
	if g.Responses > 0 {
		g.NPS = math.Round(100*float64(g.Promoters-g.Detractors)/float64(g.Responses)*10) / 10
	}
	g.ItemMeans = map[string]float64{}
	for k, sum := range g.itemSums {
		g.ItemMeans[k] = math.Round(sum/float64(g.itemCounts[k])*100) / 100
	}
}

func sorted(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		g.finish()
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
