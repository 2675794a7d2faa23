package patients

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func searchIDs(t *testing.T, db *store.DB, query string) []string {
	t.Helper()
	ps, err := Search(context.Background(), db.Q(), query, 10)
	require.NoError(t, err)
	var out []string
	for _, p := range ps {
		out = append(out, p.ExternalID)
	}
	return out
}

// TestSearch: staff find a patient by record number, by phone however it
// is written, and by the start of each name word, accents and case aside;
// nothing for an empty query or a near miss.
func TestSearch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, p := range []Patient{
			{ExternalID: "MRN-1001", FirstName: "Ana", LastName: "García López", BirthDate: "1980-02-03", Phone: "+15550142001"},
			{ExternalID: "MRN-1002", FirstName: "Anatole", LastName: "Brown", BirthDate: "1975-05-06", Phone: "+15550142002"},
			{ExternalID: "MRN-1003", FirstName: "Rosa", LastName: "Garcia", BirthDate: "1952-03-14", Phone: "+15550142001"},
		} {
			require.NoError(t, Upsert(ctx, db.Q(), &p, today))
		}
		require.Equal(t, []string{"MRN-1002"}, searchIDs(t, db, "MRN-1002"))
		require.Equal(t, []string{"MRN-1001", "MRN-1003"}, searchIDs(t, db, "(555) 014-2001"), "a family shares the phone")
		require.Equal(t, []string{"MRN-1001", "MRN-1002"}, searchIDs(t, db, "ana"))
		require.Equal(t, []string{"MRN-1001"}, searchIDs(t, db, "ana gar"))
		require.Equal(t, []string{"MRN-1001", "MRN-1003"}, searchIDs(t, db, "GARCÍA"))
		require.Equal(t, []string{"MRN-1001"}, searchIDs(t, db, "lopez"))
		require.Empty(t, searchIDs(t, db, "anna"))
		require.Empty(t, searchIDs(t, db, "  "))
		require.Empty(t, searchIDs(t, db, "MRN-100"), "a record number is exact")
		ps, err := Search(ctx, db.Q(), "a", 1)
		require.NoError(t, err)
		require.Len(t, ps, 1, "the limit holds")
	})
}

// BenchmarkSearchByName: a name search reads the whole registry (names are
// sealed, with no lookup hash); 10,000 patients on SQLite.
func BenchmarkSearchByName(b *testing.B) {
	db := storetest.OpenSQLite(b)
	ctx := context.Background()
	var ps []Patient
	for i := range 10000 {
		ps = append(ps, Patient{ExternalID: fmt.Sprintf("MRN-%05d", i), FirstName: letters(i), LastName: "Family",
			BirthDate: "1980-01-01", Phone: fmt.Sprintf("+1555%07d", i)})
	}
	require.NoError(b, Import(ctx, db, ps, today))
	b.ResetTimer()
	for range b.N {
		got, err := Search(ctx, db.Q(), letters(9999)+" fam", 20)
		require.NoError(b, err)
		require.Len(b, got, 1)
	}
}

// letters is a name made of n's digits as letters ("bjjjj" for 19999).
func letters(n int) string {
	b := []byte(fmt.Sprintf("%05d", n))
	for i := range b {
		b[i] = 'a' + (b[i] - '0')
	}
	return string(b)
}
