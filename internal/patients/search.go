package patients

import (
	"context"
	"errors"
	"strings"
	"unicode"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// searchPage is how many patients a name search reads at a time.
const searchPage = 500

// Search finds patients for staff by what they type: a record number
// (exact), a phone number (its keyed hash, as FindByPhone), or a name
// (every word the start of the first or last name, accents and case
// aside: "ana gar" finds Ana García). Names are sealed at rest and have no
// lookup hash, so a name search reads and opens the registry page by page
// (BenchmarkSearchByName); record numbers and phones are one lookup each.
// At most limit patients, by id.
func Search(ctx context.Context, q store.Q, query string, limit int) ([]Patient, error) {
	query = strings.TrimSpace(query)
	if query == "" || limit <= 0 {
		return nil, nil
	}
	var out []Patient
	seen := map[int64]bool{}
	add := func(ps ...Patient) {
		for _, p := range ps {
			if !seen[p.ID] && len(out) < limit {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	if p, err := GetByExternalID(ctx, q, query); err == nil {
		add(p)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if digits(query) >= 7 {
		ps, err := FindByPhone(ctx, q, query)
		if err != nil {
			return nil, err
		}
		add(ps...)
	}
	words := textutil.Words(query)
	if len(words) == 0 || digits(query) > 0 || len(out) >= limit {
		return out, nil
	}
	for after := int64(0); len(out) < limit; {
		ps, err := List(ctx, q, after, searchPage)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if nameMatches(p, words) {
				add(p)
			}
		}
		if len(ps) < searchPage {
			break
		}
		after = ps[len(ps)-1].ID
	}
	return out, nil
}

// nameMatches: every word starts one of the patient's name words.
func nameMatches(p Patient, words []string) bool {
	names := textutil.Words(p.FirstName + " " + p.LastName)
	for _, w := range words {
		found := false
		for _, n := range names {
			if strings.HasPrefix(n, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}
