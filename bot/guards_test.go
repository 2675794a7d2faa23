package bot_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// recorder is a guard that notes when it ran and lets the turn go on.
type recorder struct {
	name string
	mu   *sync.Mutex
	ran  *[]string
}

func (r recorder) Name() string { return r.name }
func (r recorder) Check(*bot.Turn) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.ran = append(*r.ran, r.name)
	return false, nil
}

type guardsModule struct{ guards []bot.Guard }

func (guardsModule) Name() string { return "guards" }
func (m guardsModule) Install(_ context.Context, a *host.Host) error {
	for _, g := range m.guards {
		a.Engine.AddGuard(g)
	}
	return nil
}

// TestGuardsRunInTheirOrder: whatever order an assembly adds guards in,
// they run as bot.GuardOrder says (triage, consent, handoff), and guards
// of other names after them in the order added.
func TestGuardsRunInTheirOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var mu sync.Mutex
		var ran []string
		g := func(name string) bot.Guard { return recorder{name: name, mu: &mu, ran: &ran} }
		a := apptest.New(t, db, apptest.Options{Modules: []app.Module{
			guardsModule{[]bot.Guard{g("late"), g("handoff"), g("consent"), g("later"), g("triage")}}}})
		want := []string{"triage", "consent", "handoff", "late", "later"}
		require.Equal(t, want, a.Engine.Guards())

		_, err := a.Engine.Handle(context.Background(), in("g1", "m1", "hello"))
		require.NoError(t, err)
		require.Equal(t, want, ran, "the order they ran in")
		require.Panics(t, func() { a.Engine.AddGuard(g("triage")) }, "a second triage guard is an assembly bug")
	})
}
