package knowledge

// Rerank is the search's second stage: the passages among the first K by
// the ranker's score that come from the first passage's document are
// scored again with how well each covers the question in meaning
// (SIF.Coverages: the soft coverage and the term-recall coverage, each
// times its weight), and the best of them comes first. The first
// stage scores some 80 candidates by counted features; reading a
// passage's words in meaning costs more, so only the few that can still
// come first are read. It mostly chooses between entries of the right
// document ("how long does a vaccine visit take?" between the catch-up
// entry and the visit entry). Fitted by evals/fit (the weights with the
// most right first passages on the training questions); nil or K < 2
// leaves the first stage's order.
type Rerank struct {
	K    int     `json:"k"`
	Soft float64 `json:"soft"`
	TR   float64 `json:"tr"`
}

// coverage is a passage's reading by SIF.Coverages.
type coverage struct {
	chunk                        int64
	soft, softLeast, tr, trLeast float64
}

// rerank re-scores the passages among results[:K] from the first
// passage's document and puts the best of them first; it returns the
// coverages it read (for the decision's first passage). Passages of other
// documents keep their scores and places: the second stage chooses the
// entry within the document the first stage chose, and leaves the
// document's choice, and so the decision's reading of it, to the first.
func (b *Base) rerank(sif *SIF, query, lang string, results []Result) []coverage {
	rr := b.model.Rerank
	if rr == nil || rr.K < 2 || len(results) < 2 {
		return nil
	}
	doc := results[0].Document
	var covs []coverage
	best, bestScore := 0, 0.0
	for i := 0; i < min(rr.K, len(results)); i++ {
		r := &results[i]
		if r.Document != doc {
			continue
		}
		c := coverage{chunk: r.ChunkID}
		c.soft, c.softLeast, c.tr, c.trLeast = sif.Coverages(b.model.TermRecall, query, lang, r.Heading+"\n"+r.Text, r.Language)
		covs = append(covs, c)
		r.Score += rr.Soft*c.soft + rr.TR*c.tr
		if i == 0 || r.Score > bestScore {
			best, bestScore = i, r.Score
		}
	}
	if best > 0 {
		first := results[best]
		copy(results[1:best+1], results[:best])
		results[0] = first
	}
	return covs
}

// coverageOf is the first passage's coverages: read by rerank, or read
// now.
func (b *Base) coverageOf(sif *SIF, query, lang string, r Result, read []coverage) coverage {
	for _, c := range read {
		if c.chunk == r.ChunkID {
			return c
		}
	}
	c := coverage{chunk: r.ChunkID}
	c.soft, c.softLeast, c.tr, c.trLeast = sif.Coverages(b.model.TermRecall, query, lang, r.Heading+"\n"+r.Text, r.Language)
	return c
}
