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

// TestEvals runs every data set under every offline configuration through
// the real engine and fails when a score drops below evals/baseline.json.
func TestEvals(t *testing.T) {
	t.Parallel()
	shared, err := evals.FindShared(".")
	if err != nil {
		storetest.RequireInCI(t, "evals: %v", err)
		return
	}
	// The environment's OpenAI settings are ignored: CI measures offline.
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
		for _, c := range evals.Configs(base) {
			t.Run(ds.Name+"/"+c.Name, func(t *testing.T) {
				t.Parallel()
				s, outs, err := evals.Run(context.Background(), ds, c, base, cli.EvalAssembler(io.Discard))
				require.NoError(t, err)
				var table bytes.Buffer
				evals.PrintTable(&table, s)
				t.Log("\n" + table.String())
				if regressions := floor.Check(s); len(regressions) > 0 {
					var fails bytes.Buffer
					evals.PrintFailures(&fails, outs)
					t.Fatalf("%v\nfailures:\n%s", regressions, fails.String())
				}
				_, recorded := floor[ds.Name+"/"+c.Name]
				require.True(t, recorded, "baseline.json has no levels for %s/%s", ds.Name, c.Name)
			})
		}
	}
}
