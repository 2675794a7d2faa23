package triage

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The shipped model loads against the current features, with sane
// thresholds and a bank.
func TestLearnedModelLoads(t *testing.T) {
	t.Parallel()
	d := detector(t)
	l := d.learned
	require.Greater(t, l.low, 0.0)
	require.LessOrEqual(t, l.low, l.high)
	require.Less(t, l.high, 1.0)
	require.Greater(t, l.bank.len(), 100, "the neighbour bank holds the training messages")
	require.NotNil(t, l.proj)
	require.Len(t, l.bank.vecs, l.bank.len()*l.bank.dims)
	require.NotEmpty(t, l.words)
	if l.embedder != embedderID() {
		// The word vectors or the analyzer changed since the fit: the bank's
		// vectors and the messages' are made alike only after a re-fit.
		t.Logf("learned.json was fitted with %s, the sentence vectors are now %s: re-fit (go run ./guards/triage/fit)", l.embedder, embedderID())
	}
	// A message with no word at all is left to the rules.
	require.Equal(t, Result{}, d.Classify("   "))
}

// A model file that does not match the features is refused, not guessed at.
func TestLearnedModelRejectsBadFiles(t *testing.T) {
	t.Parallel()
	cd, err := loadBuiltinConcepts()
	require.NoError(t, err)
	var f LearnedFile
	require.NoError(t, json.Unmarshal(builtinLearned, &f))
	for name, change := range map[string]func(*LearnedFile){
		"unknown feature": func(f *LearnedFile) {
			f.Features = append(f.Features, "slot:nonsense")
			f.Weights = append(f.Weights, 1)
		},
		"weights missing":   func(f *LearnedFile) { f.Weights = f.Weights[:len(f.Weights)-1] },
		"thresholds":        func(f *LearnedFile) { f.Low, f.High = 0.9, 0.5 },
		"version":           func(f *LearnedFile) { f.Version = 2 },
		"vectors and scale": func(f *LearnedFile) { f.Bank.Scales = f.Bank.Scales[1:] },
		"basis":             func(f *LearnedFile) { f.Bank.Basis = f.Bank.Basis[1:] },
		"reply feature":     func(f *LearnedFile) { f.Reply.Features[0] = "nonsense" },
	} {
		g := f
		g.Features, g.Weights = append([]string(nil), f.Features...), append([]float64(nil), f.Weights...)
		g.Reply.Features = append([]string(nil), f.Reply.Features...)
		change(&g)
		data, err := json.Marshal(g)
		require.NoError(t, err)
		_, err = loadLearned(data, cd)
		require.Error(t, err, name)
	}
}

// The fit runs on the training part of the own data and, cross-validated,
// beats trivial baselines by far: the majority class (nothing is an
// emergency: AUROC 0.5, recall 0) and the rules alone. Its model loads.
func TestFitBeatsBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("fits a model (seconds)")
	}
	t.Parallel()
	paths := triageDataFiles(t)
	ex, err := ReadExamples(SplitTrain, paths...)
	require.NoError(t, err)
	for _, e := range ex {
		require.Equal(t, SplitTrain, SplitOf(e.ID), "only training items are read")
	}
	m, rep, err := Fit(ex, FitOptions{Folds: 3})
	require.NoError(t, err)
	t.Logf("3-fold CV: AUROC %.3f; rules alone %s; rules + learned %s", rep.AUROC, rep.Rules, rep.CV)
	require.Greater(t, rep.AUROC, 0.9, "the learned detector ranks emergencies above the rest")
	require.Greater(t, rep.CV.Recall(), rep.Rules.Recall()+0.2, "rules + learned catch far more than the rules alone")
	require.Greater(t, rep.CV.Recall(), 0.8)
	require.Less(t, rep.CV.FalseAlarmRate()-rep.Rules.FalseAlarmRate(), 0.05, "at little cost in false alarms")
	data, err := json.Marshal(m)
	require.NoError(t, err)
	cd, err := loadBuiltinConcepts()
	require.NoError(t, err)
	_, err = loadLearned(data, cd)
	require.NoError(t, err, "the fitted model loads")
}
