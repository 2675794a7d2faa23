package knowledge

import (
	"context"
	"fmt"
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

// UnansweredGroup is a set of similar unanswered questions.
type UnansweredGroup struct {
	Example  string    `json:"example"` // the most recent wording
	Count    int       `json:"count"`
	Variants []string  `json:"variants,omitempty"`
	LastAt   time.Time `json:"last_at"`
}

// Unanswered lists unanswered questions asked since a time, grouped by
// similarity (the same terms, mostly), most frequent first.
func (b *Base) Unanswered(ctx context.Context, q store.Q, since time.Time, limit int) ([]UnansweredGroup, error) {
	rows, err := q.Query(ctx, `SELECT question, terms, asked_at FROM kb_unanswered WHERE asked_at >= $1
		ORDER BY asked_at DESC LIMIT 10000`, since)
	if err != nil {
		return nil, fmt.Errorf("knowledge: list unanswered questions: %w", err)
	}
	defer rows.Close()
	type entry struct {
		group *UnansweredGroup
		terms map[string]bool
	}
	var groups []*entry
	for rows.Next() {
		var question, terms string
		var at time.Time
		if err := rows.Scan(&question, &terms, &at); err != nil {
			return nil, err
		}
		set := distinctTerms(terms)
		var best *entry
		bestSim := 0.0
		for _, g := range groups {
			if s := jaccard(set, g.terms); s > bestSim {
				best, bestSim = g, s
			}
		}
		if best != nil && (bestSim >= 0.6 || (len(set) == 0 && len(best.terms) == 0)) {
			best.group.Count++
			if len(best.group.Variants) < 5 && !containsFold(best.group.Variants, question) && !strings.EqualFold(best.group.Example, question) {
				best.group.Variants = append(best.group.Variants, question)
			}
			continue
		}
		groups = append(groups, &entry{group: &UnansweredGroup{Example: question, Count: 1, LastAt: at}, terms: set})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]UnansweredGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g.group)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].LastAt.After(out[j].LastAt)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
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
