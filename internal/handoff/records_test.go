package handoff_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// A conversation has at most one open handoff: a second request joins it,
// and an urgent one makes it urgent. Both stores.
func TestOneOpenAtATime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)
		c, _, err := db.Q().OpenConversation(ctx, "web", "handoff", "en", t0)
		require.NoError(t, err)
		h1, created, err := handoff.Open(ctx, db.Q(), c.ID, "asked", false, t0)
		require.NoError(t, err)
		require.True(t, created)
		h2, created, err := handoff.Open(ctx, db.Q(), c.ID, "again", true, t0)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, h1.ID, h2.ID)
		require.True(t, h2.Urgent, "a later urgent request makes the open one urgent")
		open, err := handoff.List(ctx, db.Q(), handoff.StatusOpen, 10)
		require.NoError(t, err)
		require.Len(t, open, 1)
		require.Equal(t, "asked", open[0].Reason)
		active, err := handoff.ActiveFor(ctx, db.Q(), c.ID)
		require.NoError(t, err)
		require.Equal(t, h1.ID, active.ID)
		require.True(t, active.Urgent)
	})
}
