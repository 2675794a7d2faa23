package privacy_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestRetention: the retention job, run by River's workers at start, deletes
// what is older than each kind's period, in batches (two rows a batch here),
// and nothing younger: messages and what dialogs remember after a year
// (the test's TEND_RETENTION_MESSAGES), unanswered questions, held replies
// and the Slack card of a long-closed handoff with them; verification
// records after 30 days (a lock still running stays); rejected updates
// after 90 days. The run is in the audit trail with its counts. Both stores.
func TestRetention(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := apptest.Epoch
		day := 24 * time.Hour
		old, recent := now.Add(-400*day), now.Add(-10*day)
		exec := func(sql string, args ...any) int64 {
			t.Helper()
			var id int64
			require.NoError(t, db.Q().QueryRow(ctx, sql+` RETURNING 1`, args...).Scan(&id))
			return id
		}
		var oldConv, newConv int64
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO conversations (channel, chat_id, state, dialog, created_at, updated_at)
			VALUES ('web', 'old-chat', '{"booking":{"claim":"x"}}', 'booking', $1, $1) RETURNING id`, old).Scan(&oldConv))
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO conversations (channel, chat_id, state, dialog, created_at, updated_at)
			VALUES ('web', 'new-chat', '{"booking":{"claim":"y"}}', 'booking', $1, $1) RETURNING id`, recent).Scan(&newConv))
		for i := 1; i <= 5; i++ {
			for _, c := range []struct {
				conv int64
				at   time.Time
			}{{oldConv, old}, {newConv, recent}} {
				exec(`INSERT INTO inbound_messages (conversation_id, seq, channel, external_id, text, status, received_at)
					VALUES ($1, $2, 'web', $3, 'hello', 'done', $4)`, c.conv, i, c.at.String()+string(rune('a'+i)), c.at)
				exec(`INSERT INTO outbound_messages (conversation_id, seq, channel, body, status, created_at)
					VALUES ($1, $2, 'web', '{"text":"hi"}', 'sent', $3)`, c.conv, i, c.at)
			}
		}
		// A reply never sent stays whatever its age: it is not the retention's.
		exec(`INSERT INTO outbound_messages (conversation_id, seq, channel, body, status, created_at)
			VALUES ($1, 99, 'web', '{"text":"queued"}', 'queued', $2)`, oldConv, old)
		for _, at := range []time.Time{old, recent} {
			exec(`INSERT INTO kb_unanswered (question, asked_at) VALUES ('a question', $1)`, at)
			exec(`INSERT INTO whatsapp_held (conversation_id, body, created_at) VALUES ($1, '{"text":"held"}', $2)`, oldConv, at)
		}
		var hOld, hNew int64
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO handoffs (conversation_id, reason, status, created_at, updated_at, closed_at)
			VALUES ($1, 'asked', 'resolved', $2, $2, $2) RETURNING id`, oldConv, old).Scan(&hOld))
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO handoffs (conversation_id, reason, status, created_at, updated_at, closed_at)
			VALUES ($1, 'asked', 'resolved', $2, $2, $2) RETURNING id`, newConv, recent).Scan(&hNew))
		for _, h := range []int64{hOld, hNew} {
			exec(`INSERT INTO slack_threads (handoff_id, channel, root, created_at) VALUES ($1, 'C', '{"snapshot":{"lines":[]}}', $2)`, h, now)
		}
		vOld, vNew := now.Add(-31*day), now.Add(-29*day)
		for i, at := range []time.Time{vOld, vOld, vOld, vNew} {
			exec(`INSERT INTO verification_events (subject, kind, at) VALUES ($1, 'failure', $2)`, "patient:"+string(rune('1'+i)), at)
		}
		exec(`INSERT INTO verification_limits (subject, failures, updated_at) VALUES ('patient:1', 2, $1)`, vOld)
		exec(`INSERT INTO verification_limits (subject, failures, updated_at) VALUES ('patient:2', 2, $1)`, vNew)
		exec(`INSERT INTO verification_limits (subject, locks, locked_until, updated_at) VALUES ('patient:3', 9, $1, $2)`,
			now.Add(time.Hour), vOld)
		exec(`INSERT INTO patient_verifications (conversation_id, method, updated_at) VALUES ($1, 'code', $2)`, oldConv, vOld)
		exec(`INSERT INTO patient_verifications (conversation_id, method, updated_at) VALUES ($1, 'code', $2)`, newConv, vNew)
		exec(`INSERT INTO inbound_rejections (channel, external_id, reason, created_at) VALUES ('telegram', '1', 'poison', $1)`, now.Add(-91*day))
		exec(`INSERT INTO inbound_rejections (channel, external_id, reason, created_at) VALUES ('telegram', '2', 'poison', $1)`, now.Add(-89*day))

		pm := &privacy.Module{Policy: &privacy.Policy{Messages: 365 * day, BatchSize: 2}}
		apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Clock: clock.NewFake(now), Start: true,
			Modules: []app.Module{pm}})

		var row audit.Row
		require.Eventually(t, func() bool {
			rows, err := audit.List(ctx, db.Q(), audit.Filter{Action: "retention.apply"})
			require.NoError(t, err)
			if len(rows) == 0 {
				return false
			}
			row = rows[0]
			return true
		}, apptest.WaitFor, 50*time.Millisecond)
		require.Equal(t, "system:retention", row.Actor)
		var detail map[string]int64
		require.NoError(t, json.Unmarshal(row.Detail, &detail))
		require.Equal(t, map[string]int64{"batches": detail["batches"], "inbound_messages": 5, "outbound_messages": 5,
			"conversation_state": 1, "kb_unanswered": 1, "whatsapp_held": 1, "slack_cards": 1, "verification_events": 3,
			"verification_limits": 1, "patient_verifications": 1, "inbound_rejections": 1}, detail)
		require.Greater(t, detail["batches"], int64(len(detail)), "two rows a batch: several batches per kind")

		count := func(sql string, args ...any) int {
			t.Helper()
			var n int
			require.NoError(t, db.Q().QueryRow(ctx, sql, args...).Scan(&n))
			return n
		}
		require.Equal(t, 0, count(`SELECT count(*) FROM inbound_messages WHERE conversation_id = $1`, oldConv))
		require.Equal(t, 5, count(`SELECT count(*) FROM inbound_messages WHERE conversation_id = $1`, newConv))
		require.Equal(t, 1, count(`SELECT count(*) FROM outbound_messages WHERE conversation_id = $1`, oldConv), "the queued one")
		require.Equal(t, 5, count(`SELECT count(*) FROM outbound_messages WHERE conversation_id = $1`, newConv))
		require.Equal(t, 1, count(`SELECT count(*) FROM conversations WHERE id = $1 AND dialog = '' AND state = '{}'`, oldConv))
		require.Equal(t, 1, count(`SELECT count(*) FROM conversations WHERE id = $1 AND dialog = 'booking'`, newConv))
		require.Equal(t, 1, count(`SELECT count(*) FROM slack_threads WHERE handoff_id = $1 AND root = '{}'`, hOld))
		require.Equal(t, 1, count(`SELECT count(*) FROM slack_threads WHERE handoff_id = $1 AND root <> '{}'`, hNew))
		require.Equal(t, 2, count(`SELECT count(*) FROM verification_limits`), "the recent count and the running lock")
		require.Equal(t, 1, count(`SELECT count(*) FROM verification_events`))
		require.Equal(t, 1, count(`SELECT count(*) FROM patient_verifications`))
		require.Equal(t, 1, count(`SELECT count(*) FROM inbound_rejections`))
		require.Equal(t, 1, count(`SELECT count(*) FROM kb_unanswered`))

		// Applied again, there is nothing left to do.
		res, err := pm.RetentionPolicy().Apply(ctx, db, now)
		require.NoError(t, err)
		require.Zero(t, res.Total())
		// TEND_RETENTION_MESSAGES=0 keeps messages for good.
		res, err = privacy.Policy{}.Apply(ctx, db, now.Add(100*365*day))
		require.NoError(t, err)
		require.Zero(t, res.Rows["inbound_messages"])
		require.Positive(t, res.Rows["verification_limits"], "other kinds keep their periods")
	})
}
