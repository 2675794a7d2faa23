package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestWhereFilters: an unset filter adds nothing, set ones number their
// placeholders in order, and a limit outside 1..most reads as most.
func TestWhereFilters(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var w store.Where
	w.Between("starts_at", from, time.Time{})
	w.Equal("status", "")
	w.Equal("provider_id", "dr-lee")
	w.Equal("patient_id", int64(0))
	w.Equal("patient_id", int64(7))
	require.Equal(t, " WHERE starts_at >= $1 AND provider_id = $2 AND patient_id = $3 LIMIT $4",
		w.SQL()+w.Limit(0, 500))
	require.Equal(t, []any{from, "dr-lee", int64(7), 500}, w.Args())

	var none store.Where
	none.Between("visit_at", time.Time{}, time.Time{})
	require.Empty(t, none.SQL())
	require.Equal(t, " LIMIT $1", none.Limit(20, 500))
	require.Equal(t, []any{20}, none.Args())
}

// TestIDsAndCountByID read one-column and (id, count) results on both
// databases, closing the rows.
func TestIDsAndCountByID(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ids, err := store.IDs(db.Q().Query(ctx, `SELECT 3 UNION ALL SELECT 5 ORDER BY 1`))
		require.NoError(t, err)
		require.Equal(t, []int64{3, 5}, ids)
		none, err := store.IDs(db.Q().Query(ctx, `SELECT 1 WHERE 1 = 0`))
		require.NoError(t, err)
		require.Empty(t, none)
		counts, err := store.CountByID(db.Q().Query(ctx, `SELECT 7, 2 UNION ALL SELECT 9, 1`))
		require.NoError(t, err)
		require.Equal(t, map[int64]int{7: 2, 9: 1}, counts)
	})
}
