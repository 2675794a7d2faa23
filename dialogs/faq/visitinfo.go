package faq

import (
	"context"
	"strings"
	"unicode"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
	"github.com/tend-health/tend/knowledge"
)

// maxVisitInfoRunes bounds the passage quoted in a booking confirmation or
// a "what to expect" message: it follows the booking details, so it is
// shorter than an answer of its own.
const maxVisitInfoRunes = 600

// visitInfoCandidates is how far down the ranking a passage naming the
// visit type may be; further down, the search is about something else.
// The synthetic question mentions costs, so price passages about other
// visits rank high; the heading check below keeps them out.
const visitInfoCandidates = 5

// VisitInfo is what the clinic's documents say about a visit type
// (preparation, cost and coverage), for booking confirmations and the
// pre-visit message; it makes the module a booking.InfoSource. It reads the
// knowledge base at call time, so booking may be installed first.
//
// A passage is used only when the search is fairly confident and the passage's
// own heading names the visit type (its id, e.g. "follow-up" in "What to
// expect at a follow-up visit"): a confident match about another visit
// ("Is a video visit cheaper?" for a follow-up) would quote the wrong
// price, and nothing is better than that. The source names the document
// and section with its date, as FAQ answers do.
func (m *Module) VisitInfo(ctx context.Context, q store.Q, visitType, lang string) (text, source string, ok bool) {
	m.mu.Lock()
	kb, a := m.kb, m.app
	m.mu.Unlock()
	name := squash(visitType)
	if kb == nil || a == nil || name == "" {
		return "", "", false
	}
	if lang == "" {
		lang = "en"
	}
	words := strings.Join(strings.FieldsFunc(visitType, notAlnum), " ")
	query := "What to expect at a " + words + " visit: how to prepare and what it costs"
	resp, err := kb.Search(ctx, q, query, knowledge.SearchOptions{Lang: lang, Mode: m.Options.Mode, Limit: visitInfoCandidates})
	if err != nil {
		a.Log.WarnContext(ctx, "visit information not looked up", "visit_type", visitType, "error", err)
		return "", "", false
	}
	// The question is ours, not a patient's, and the passage must also name
	// the visit type in its heading (below): half the answering threshold
	// is enough to quote it.
	if resp.Confidence < m.minConfidence(resp)/2 {
		return "", "", false
	}
	for _, r := range resp.Results {
		if r.Language != "" && r.Language != lang {
			continue // a Spanish confirmation does not quote an English document
		}
		if !strings.Contains(squash(r.Section+" "+r.Heading), name) {
			continue
		}
		data := map[string]any{"Title": r.Title, "Section": r.Section, "Updated": r.Updated}
		id := "faq.visit_source"
		if r.Section == "" {
			id = "faq.visit_source_document"
		}
		return TrimForChat(r.Text, maxVisitInfoRunes), a.Catalog.Text(lang, id, data), true
	}
	return "", "", false
}

func (m *Module) minConfidence(resp knowledge.Response) float64 {
	if m.Options.MinConfidence > 0 {
		return m.Options.MinConfidence
	}
	return resp.Threshold
}

// squash folds text to lower-case letters and digits only, so "Follow-up",
// "follow up" and "follow-ups" all contain "followup".
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if notAlnum(r) {
			return -1
		}
		return r
	}, textutil.Fold(s))
}

func notAlnum(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
