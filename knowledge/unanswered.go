package knowledge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// RecordUnanswered keeps a question the bot could not answer, for editors.
// It runs in the caller's transaction (the dialog's turn).
func (b *Base) RecordUnanswered(ctx context.Context, q store.Q, question, lang string, conversationID int64, confidence float64, at time.Time) error {
	terms := b.analyzer.Terms(question, lang)
	var conv any
	if conversationID > 0 {
		conv = conversationID
	}
	_, err := q.Exec(ctx, `INSERT INTO kb_unanswered (question, terms, lang, conversation_id, confidence, asked_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, truncateRunes(question, 1000), terms, lang, conv, confidence, at)
	if err != nil {
		return fmt.Errorf("knowledge: record unanswered question: %w", err)
	}
	return nil
}

// UnansweredGroup is a set of unanswered questions that ask the same thing
// ("do you do botox?", "do you offer botox injections").
type UnansweredGroup struct {
	// ID is the group's oldest question's id: DismissUnanswered takes it.
	ID       int64     `json:"id"`
	Example  string    `json:"example"` // the most recent wording
	Count    int       `json:"count"`
	Variants []string  `json:"variants,omitempty"` // other wordings, up to 5
	Langs    []string  `json:"languages"`
	FirstAt  time.Time `json:"first_at"`
	LastAt   time.Time `json:"last_at"`
	// Answered: the knowledge base now answers the example confidently
	// (listed only with UnansweredOptions.IncludeAnswered).
	Answered bool `json:"answered,omitempty"`
}

// UnansweredOptions select the groups to list.
type UnansweredOptions struct {
	Since time.Time // questions asked at or after (zero: all)
	Limit int       // groups (0: all)
	// IncludeAnswered keeps the groups the knowledge base now answers
	// (marked Answered); by default they leave the list.
	IncludeAnswered bool
}

// Unanswered lists the groups of questions asked since a time that the
// knowledge base still does not answer, most asked first.
func (b *Base) Unanswered(ctx context.Context, q store.Q, since time.Time, limit int) ([]UnansweredGroup, error) {
	return b.UnansweredGroups(ctx, q, UnansweredOptions{Since: since, Limit: limit})
}

// Grouping. Two questions ask the same thing when the specific words they
// share weigh this much of all their words (each word weighs its
// Analyzer.Specificity, so "do you" counts little and "botox" fully), when
// their sentence vectors (the meaning encoder's: SIF over word vectors
// offline) are this close, or when their most specific word is the same
// rare word and both ask a price or neither does ("can I bring my dog",
// "are dogs allowed inside?"). Spanish questions are compared in their
// English reading (the glossary's), so "¿aceptan perros?" joins them.
const (
	groupOverlap  = 0.5
	groupCosine   = 0.8
	groupTopicMin = 0.6 // the shared top word's specificity
)

// unansweredRow is one recorded question.
type unansweredRow struct {
	id       int64
	question string
	terms    map[string]float64 // English reading's terms and their weights
	top      string             // the most specific of them
	cost     bool               // asks a price
	lang     string
	at       time.Time
	vec      []float32
}

// UnansweredGroups groups the recorded, undismissed questions by meaning.
// Each group's example is searched again: a group the knowledge base now
// answers (confidence at or above the threshold, nothing ungrounded)
// leaves the list unless o.IncludeAnswered.
func (b *Base) UnansweredGroups(ctx context.Context, q store.Q, o UnansweredOptions) ([]UnansweredGroup, error) {
	groups, err := b.groupUnanswered(ctx, q, o.Since)
	if err != nil {
		return nil, err
	}
	out := make([]UnansweredGroup, 0, len(groups))
	for _, g := range groups {
		resp, err := b.Search(ctx, q, g.group.Example, SearchOptions{Lang: g.rows[0].lang, Limit: 1})
		if err != nil {
			return nil, err
		}
		g.group.Answered = len(resp.Results) > 0 && resp.Confidence >= resp.Threshold && len(resp.Ungrounded()) == 0
		if g.group.Answered && !o.IncludeAnswered {
			continue
		}
		out = append(out, g.group)
		if o.Limit > 0 && len(out) == o.Limit {
			break
		}
	}
	return out, nil
}

type unansweredCluster struct {
	group    UnansweredGroup
	rows     []unansweredRow
	first    unansweredRow // the group's newest question, its example
	centroid []float32
}

// groupUnanswered reads the undismissed questions asked since a time, most
// recent first, and clusters them greedily: a question joins the group
// whose first question shares most of its terms or whose mean vector is
// closest, else starts a group. Groups come most asked first.
func (b *Base) groupUnanswered(ctx context.Context, q store.Q, since time.Time) ([]*unansweredCluster, error) {
	if epoch := time.Unix(0, 0); since.Before(epoch) {
		since = epoch // the zero time is out of the SQLite adapter's range
	}
	rows, err := q.Query(ctx, `SELECT id, question, lang, asked_at FROM kb_unanswered
		WHERE asked_at >= $1 AND dismissed_at IS NULL ORDER BY asked_at DESC, id DESC LIMIT 10000`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("knowledge: list unanswered questions: %w", err)
	}
	var all []unansweredRow
	for rows.Next() {
		var r unansweredRow
		if err := rows.Scan(&r.id, &r.question, &r.lang, &r.at); err != nil {
			rows.Close()
			return nil, err
		}
		b.readForGrouping(&r)
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := b.unansweredVectors(ctx, all); err != nil {
		return nil, err
	}
	var groups []*unansweredCluster
	for _, r := range all {
		var best *unansweredCluster
		bestSim := 0.0
		for _, g := range groups {
			if sim := sameQuestion(r, g.first, g.centroid); sim > bestSim {
				best, bestSim = g, sim
			}
		}
		if best == nil {
			best = &unansweredCluster{group: UnansweredGroup{Example: r.question, LastAt: r.at}, first: r}
			groups = append(groups, best)
		} else if len(best.group.Variants) < 5 && !containsFold(best.group.Variants, r.question) &&
			!strings.EqualFold(best.group.Example, r.question) {
			best.group.Variants = append(best.group.Variants, r.question)
		}
		best.add(r)
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].group.Count != groups[j].group.Count {
			return groups[i].group.Count > groups[j].group.Count
		}
		return groups[i].group.LastAt.After(groups[j].group.LastAt)
	})
	return groups, nil
}

// readForGrouping fills a question's terms (in English: a Spanish question
// is read through the glossary), their weights, its most specific term and
// whether it asks a price.
func (b *Base) readForGrouping(r *unansweredRow) {
	text := r.question
	if r.lang == "es" && b.glossary != nil {
		text = b.glossary.Translate(text)
	}
	r.terms = map[string]float64{}
	best := 0.0
	for _, t := range b.analyzer.Analyze(text, "en") {
		if isFigureMarker(t.Term) {
			r.cost = r.cost || t.Term == FigurePrice
			continue
		}
		w := b.analyzer.Specificity(t.Term)
		r.terms[t.Term] = w
		r.cost = r.cost || t.Term == "cost"
		if b.analyzer.concepts[t.Term] && !b.analyzer.isEntity(t.Term) {
			continue // a broad concept ("appointment", "cost") is no topic
		}
		if w > best || (w == best && t.Term < r.top) {
			r.top, best = t.Term, w
		}
	}
	if best < groupTopicMin {
		r.top = "" // a generic word is no topic
	}
}

// sameQuestion is how surely r asks what the group's first question asks
// (0: not the same; at or above a threshold: its similarity).
func sameQuestion(r, first unansweredRow, centroid []float32) float64 {
	if len(r.terms) == 0 && len(first.terms) == 0 {
		return 1
	}
	sim := 0.0
	if o := weightedOverlap(r.terms, first.terms); o >= groupOverlap {
		sim = o
	}
	if r.vec != nil && centroid != nil {
		if c := cosine(r.vec, centroid); c >= groupCosine {
			sim = max(sim, c)
		}
	}
	if r.top != "" && r.top == first.top && r.cost == first.cost {
		sim = max(sim, groupOverlap)
	}
	return sim
}

// weightedOverlap is the weight of the shared terms over that of all.
func weightedOverlap(a, b map[string]float64) float64 {
	shared, all := 0.0, 0.0
	for t, w := range a {
		all += w
		if _, ok := b[t]; ok {
			shared += w
		}
	}
	for t, w := range b {
		if _, ok := a[t]; !ok {
			all += w
		}
	}
	if all == 0 {
		return 0
	}
	return shared / all
}

// add puts a question (read newest first) in the group.
func (g *unansweredCluster) add(r unansweredRow) {
	g.rows = append(g.rows, r)
	g.group.Count++
	g.group.ID, g.group.FirstAt = r.id, r.at // the oldest so far
	if !slices.Contains(g.group.Langs, r.lang) {
		g.group.Langs = append(g.group.Langs, r.lang)
		sort.Strings(g.group.Langs)
	}
	if r.vec == nil {
		return
	}
	if g.centroid == nil {
		g.centroid = append([]float32(nil), r.vec...)
		return
	}
	n := float32(len(g.rows))
	for i := range g.centroid {
		g.centroid[i] += (r.vec[i] - g.centroid[i]) / n
	}
}

// unansweredVectors embeds the questions with the meaning encoder, per
// language (nothing without one: grouping then goes by terms alone).
func (b *Base) unansweredVectors(ctx context.Context, rows []unansweredRow) error {
	if b.meaning == nil || len(rows) == 0 {
		return nil
	}
	byLang := map[string][]int{}
	for i, r := range rows {
		byLang[r.lang] = append(byLang[r.lang], i)
	}
	for lang, idx := range byLang {
		texts := make([]string, len(idx))
		for k, i := range idx {
			texts[k] = rows[i].question
		}
		vecs, err := b.meaning.Embed(ctx, EmbedRequest{Texts: texts, Lang: lang, Purpose: ForQuery})
		if err != nil {
			return fmt.Errorf("knowledge: meaning of unanswered questions: %w", err)
		}
		for k, i := range idx {
			rows[i].vec = vecs[k]
		}
	}
	return nil
}

// cosine of two vectors (the meaning encoder's are unit length, a mean of
// them is not).
func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return d / math.Sqrt(na*nb)
}

// DismissUnanswered takes the group whose ID is id off the list (every
// question in it, as grouped now), recording who and why. It returns how
// many questions it dismissed (0: no such group).
func (b *Base) DismissUnanswered(ctx context.Context, q store.Q, id int64, reason, by string, at time.Time) (int, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return 0, errors.New("knowledge: a dismissal needs a reason")
	}
	groups, err := b.groupUnanswered(ctx, q, time.Time{})
	if err != nil {
		return 0, err
	}
	for _, g := range groups {
		if g.group.ID != id {
			continue
		}
		n := 0
		for _, r := range g.rows {
			tag, err := q.Exec(ctx, `UPDATE kb_unanswered SET dismissed_at = $1, dismissed_by = $2, dismiss_reason = $3
				WHERE id = $4 AND dismissed_at IS NULL`, at, truncateRunes(by, 200), truncateRunes(reason, 500), r.id)
			if err != nil {
				return n, fmt.Errorf("knowledge: dismiss unanswered question: %w", err)
			}
			n += int(tag)
		}
		return n, nil
	}
	return 0, nil
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func truncateRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n])
}

// isFigureMarker reports the analyzer's figure markers (a question asking
// for a price, a time, a phone number, a duration).
func isFigureMarker(t string) bool {
	switch t {
	case FigurePrice, FigureTime, FigurePhone, FigureDuration:
		return true
	}
	return false
}

func (a *Analyzer) isEntity(term string) bool {
	_, ok := a.entities[term]
	return ok
}
