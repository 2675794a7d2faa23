package knowledge

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The second stage reads the first K passages of the first passage's
// document in meaning: of two close first-stage scores, the passage that
// speaks of what was asked comes first; a lead larger than the coverage's
// weight stands; passages past K or of another document are not moved;
// the first passage's coverages are the ones read.
func TestRerank(t *testing.T) {
	t.Parallel()
	sif := DefaultMeaning().(*SIF)
	results := func(second float64) []Result {
		return []Result{
			{ChunkID: 1, Heading: "Can my child catch up on missed shots?", Text: "Yes. A dose counts no matter how long ago it was given.", Language: "en", Score: 12},
			{ChunkID: 2, Heading: "How long does a vaccine visit take?", Text: "Plan on 30 to 45 minutes from check-in to leaving.", Language: "en", Score: second},
			{ChunkID: 3, Heading: "How long does a vaccine visit take?", Text: "Plan on 30 to 45 minutes from check-in to leaving.", Language: "en", Score: 11.9},
		}
	}
	q := "about how long does a vaccine visit take from start to finish?"
	b := &Base{model: &Model{Rerank: &Rerank{K: 2, Soft: 4, TR: 4}}}

	rs := results(11.5)
	read := b.rerank(sif, q, "en", rs)
	require.Len(t, read, 2)
	require.Equal(t, int64(2), rs[0].ChunkID)
	require.Equal(t, int64(3), rs[2].ChunkID, "past K: not read, not moved")
	require.Equal(t, 11.9, rs[2].Score)
	c := b.coverageOf(sif, q, "en", rs[0], read)
	require.Equal(t, read[1], c)
	require.Greater(t, c.soft, read[0].soft)

	rs = results(2)
	b.rerank(sif, q, "en", rs)
	require.Equal(t, int64(1), rs[0].ChunkID, "a large lead stands")

	rs = results(11.5)
	rs[1].Document = "other.md"
	b.rerank(sif, q, "en", rs)
	require.Equal(t, int64(1), rs[0].ChunkID, "another document's passage is not moved")
	require.Equal(t, 11.5, rs[1].Score)

	rs = results(11.5)
	require.Nil(t, (&Base{model: &Model{}}).rerank(sif, q, "en", rs))
	require.Equal(t, int64(1), rs[0].ChunkID, "no second stage: the first stage's order")
}
