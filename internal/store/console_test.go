package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestFlaggedAndPatientConversations: the console's lists of flagged
// conversations (since a time, latest flag first) and of a patient's.
func TestFlaggedAndPatientConversations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		pid := int64(42)
		for i, chat := range []string{"a", "b", "c"} {
			require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
				c, _, err := tx.OpenConversation(ctx, "web", chat, "en", now)
				if err != nil {
					return err
				}
				if chat != "c" {
					at := now.Add(-time.Duration(i) * 24 * time.Hour)
					c.FlaggedAt = &at
				}
				if chat != "a" {
					c.PatientID = &pid
				}
				return tx.SaveConversation(ctx, &c, now.Add(time.Duration(i)*time.Minute))
			}))
		}
		flagged, err := db.Q().FlaggedConversations(ctx, now.Add(-48*time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, flagged, 2)
		require.Equal(t, "a", flagged[0].ChatID)
		require.Equal(t, "b", flagged[1].ChatID)
		flagged, err = db.Q().FlaggedConversations(ctx, now.Add(-time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, flagged, 1)

		mine, err := db.Q().PatientConversations(ctx, pid, 10)
		require.NoError(t, err)
		require.Len(t, mine, 2)
		require.Equal(t, "c", mine[0].ChatID, "most recently active first")
		none, err := db.Q().PatientConversations(ctx, 7, 10)
		require.NoError(t, err)
		require.Empty(t, none)
	})
}
