package learn

import (
	"math"
	"sort"
)

// AUROC is the area under the ROC curve of scores for binary labels: the
// chance that a random positive scores above a random negative (ties count
// half). It is 0.5 for a useless score and -1 when a class is missing.
func AUROC(scores []float64, labels []bool) float64 {
	type pair struct {
		s float64
		y bool
	}
	ps := make([]pair, len(scores))
	var pos, neg float64
	for i := range scores {
		ps[i] = pair{scores[i], labels[i]}
		if labels[i] {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return -1
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].s < ps[j].s })
	// Sum of positive ranks (average rank for ties), Mann-Whitney U.
	var rankSum float64
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && ps[j].s == ps[i].s {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if ps[k].y {
				rankSum += avg
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// Bin is one row of a reliability table: predictions in [Lo, Hi), how many,
// their mean and how often they were right.
type Bin struct {
	Lo, Hi   float64
	N        int
	MeanProb float64
	Observed float64
}

// Reliability groups predicted probabilities into bins of width 1/bins and
// compares each bin's mean prediction with the observed rate; a calibrated
// model has the two close. ECE is the mean gap weighted by bin size.
func Reliability(probs []float64, labels []bool, bins int) (table []Bin, ece float64) {
	table = make([]Bin, bins)
	for i := range table {
		table[i].Lo, table[i].Hi = float64(i)/float64(bins), float64(i+1)/float64(bins)
	}
	for i, p := range probs {
		b := min(int(p*float64(bins)), bins-1)
		table[b].N++
		table[b].MeanProb += p
		if labels[i] {
			table[b].Observed++
		}
	}
	for i := range table {
		if table[i].N > 0 {
			table[i].MeanProb /= float64(table[i].N)
			table[i].Observed /= float64(table[i].N)
			ece += float64(table[i].N) * math.Abs(table[i].MeanProb-table[i].Observed)
		}
	}
	if len(probs) > 0 {
		ece /= float64(len(probs))
	}
	return table, ece
}
