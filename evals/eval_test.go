package evals_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/evals"
	"github.com/tend-health/tend/internal/cli"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestOwnHeldOut runs the project's own held-out questions and messages
// (evals/data, the part never fitted or tuned on) through the whole bot,
// assembled as `tend ask` assembles it, and fails when a score drops below
// evals/baseline.json. It needs nothing outside the repository.
func TestOwnHeldOut(t *testing.T) {
	t.Parallel()
	base, err := config.LoadFrom(map[string]string{})
	require.NoError(t, err)
	floor, err := evals.LoadBaseline("baseline.json")
	require.NoError(t, err)
	sets, err := evals.OwnDatasets(evals.SplitHeldOut)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, d := range sets {
			d.Close()
		}
	})
	require.Len(t, sets, 9, "held-out questions on the sample clinic, Riverside, Harbor and Larkspur, triage messages, "+
		"and price questions over the three official example layouts and the generated file")
	for _, ds := range sets {
		runChecked(t, ds, base, floor)
	}
}

// TestSharedSets runs the shared sets (clinic-dev as a smoke test, the
// external FAQ sets) when ../shared is present. A fresh clone has no
// ../shared: the test then says so and skips; under CI=true, where it is
// always present, it is required.
func TestSharedSets(t *testing.T) {
	t.Parallel()
	shared, err := evals.FindShared(".")
	if err != nil {
		storetest.RequireInCI(t, "evals: %v (the shared sets clinic-dev, stanford and deepset were not run)", err)
		return
	}
	base, err := config.LoadFrom(map[string]string{})
	require.NoError(t, err)
	floor, err := evals.LoadBaseline("baseline.json")
	require.NoError(t, err)
	sets, err := evals.LoadAll(shared)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, d := range sets {
			d.Close()
		}
	})
	require.GreaterOrEqual(t, len(sets), 3, "the clinic fixture and the external FAQ sets")
	for _, ds := range sets {
		runChecked(t, ds, base, floor)
	}
}

// runChecked runs one data set under every offline configuration and
// checks it against its recorded floor.
func runChecked(t *testing.T, ds *evals.Dataset, base config.Config, floor evals.Baseline) {
	for _, c := range evals.Configs(base) {
		t.Run(ds.Name+"/"+c.Name, func(t *testing.T) {
			t.Parallel()
			s, outs, err := evals.Run(context.Background(), ds, c, base, cli.EvalAssembler(io.Discard))
			require.NoError(t, err)
			var table bytes.Buffer
			evals.PrintTable(&table, s)
			evals.PrintBreakdown(&table, outs)
			t.Log("\n" + table.String())
			if regressions := floor.Check(s); len(regressions) > 0 {
				t.Fatalf("%v", regressions)
			}
			_, recorded := floor[ds.Name+"/"+c.Name]
			require.True(t, recorded, "baseline.json has no levels for %s/%s (tend eval --record)", ds.Name, c.Name)
		})
	}
}
