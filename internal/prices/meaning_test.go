package prices_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// A word no description has is read by meaning only when it is close to a
// specific description word; related but different services stay unfound.
func TestFindByMeaning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := prices.NewCatalog(db, nil)
		ctx := context.Background()
		importExample(t, c, "west-mercy.json", prices.JSON)
		cases := []struct {
			question  string
			want      []string
			byMeaning bool
		}{
			{"how much is a brain scan?", []string{"MRI of brain (no contrast)"}, true},
			{"brain scan without contrast, cash price", []string{"MRI of brain (no contrast)"}, true},
			// "scan" left out found the heart transplant; read as MRI, the
			// list has no heart MRI.
			{"heart scan price", nil, false},
			{"how much for a head scan", nil, false},
			{"dental cleaning price", nil, false},
			{"what does a counseling session cost", nil, false},
			{"How much is a CT scan of the toe?", nil, false},
			// The words alone find it: no reading by meaning.
			{"how much is a brain MRI without dye?", []string{"MRI of brain (no contrast)"}, false},
		}
		for _, tc := range cases {
			f, err := c.Find(ctx, db.Q(), tc.question, "en")
			require.NoError(t, err, tc.question)
			var got []string
			for _, m := range f.Matches {
				got = append(got, m.Item.Description)
			}
			require.Equal(t, tc.want, got, tc.question)
			require.Equal(t, tc.byMeaning, f.ByMeaning, tc.question)
		}
	})
}
