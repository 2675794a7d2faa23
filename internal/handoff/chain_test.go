package handoff_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// Every staff action on a handoff is also in Tend's tamper-evident audit
// trail, in the same transaction: "handoff.<action>" on the conversation,
// by "slack:<user>", with its outcome and no message text. Both stores.
func TestStaffActionsInTheAuditTrail(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		e.say("chain", "can I speak to someone")
		h := e.handoff("chain")
		require.Equal(t, handoff.Done, e.do(h.ID, e.take(anna)).Result)
		require.Equal(t, handoff.Done, e.do(h.ID, e.reply(anna, "Hello, Anna here, about your knee.")).Result)
		require.Equal(t, handoff.NotOwner, e.do(h.ID, e.reply(ben, "psst")).Result)
		require.Equal(t, handoff.Done, e.do(h.ID, e.resolve(anna)).Result)

		rows, err := audit.List(context.Background(), db.Q(), audit.Filter{Subject: audit.Conversation(h.ConversationID)})
		require.NoError(t, err)
		var got []string
		for i := len(rows) - 1; i >= 0; i-- {
			got = append(got, rows[i].Actor+" "+rows[i].Action)
			require.NotContains(t, string(rows[i].Detail), "knee")
		}
		require.Equal(t, []string{"slack:UANNA handoff.take", "slack:UANNA handoff.reply", "slack:UBEN handoff.reply",
			"slack:UANNA handoff.resolve"}, got)
		require.Contains(t, string(rows[1].Detail), `"outcome":"not_owner"`)
		rep, err := audit.Verify(context.Background(), db.Q())
		require.NoError(t, err)
		require.True(t, rep.OK())
	})
}
