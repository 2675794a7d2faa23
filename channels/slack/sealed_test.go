package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// With an encryption key, the copies kept for Slack (the handoff message's
// context, queued thread posts, staff input waiting to be handled) are
// sealed in the database, and staff and patient still see the words.
func TestSlackCopiesSealedAtRest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		storetest.Sealed(t, db)
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		h.send(bot.Inbound{Channel: "web", ChatID: "p1", SenderID: "p1", Text: "My husband Bartholomew fell",
			Meta: map[string]string{bot.MetaFirstName: "Marianne"}})
		ho, ts := h.requestPerson("p1")
		require.Contains(t, h.slack.lastRender(ts), "Bartholomew", "staff see the transcript")
		require.Contains(t, h.slack.lastRender(ts), "Marianne")

		rawRows := func(sql string) []string {
			t.Helper()
			rs, err := db.Q().Query(context.Background(), sql)
			require.NoError(t, err)
			defer rs.Close()
			var out []string
			for rs.Next() {
				var v string
				require.NoError(t, rs.Scan(&v))
				out = append(out, v)
			}
			return out
		}
		sealedValue := func(v string) {
			t.Helper()
			require.True(t, sealed.IsSealed(strings.Trim(v, `"`)), v)
			for _, s := range []string{"Bartholomew", "Marianne", "awake", "Anna will call"} {
				require.NotContains(t, v, s)
			}
		}
		for _, v := range rawRows(`SELECT CAST(root AS text) FROM slack_threads`) {
			sealedValue(v)
		}

		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.inboxSettled()
		h.outboxSettled()

		// Slack is away: the patient's words wait in the outbox, sealed.
		h.slack.setDown(true)
		h.patient("p1", "Bartholomew is awake now")
		var queued []string
		h.eventually("a post queued", func() bool {
			queued = rawRows(`SELECT CAST(body AS text) FROM slack_outbox WHERE status IN ('queued', 'sending') AND op = 'thread'`)
			return len(queued) > 0
		})
		for _, v := range queued {
			sealedValue(v)
		}
		h.slack.setDown(false)
		h.threadHas(ts, "Bartholomew is awake now")

		h.staffReply("UANNA", "Anna will call you in five minutes", ts)
		h.patientGot("p1", "Anna will call you in five minutes")
		h.inboxSettled()
		for _, v := range rawRows(`SELECT CAST(body AS text) FROM slack_inbox`) {
			if v != "{}" { // handled items are blanked
				sealedValue(v)
			}
		}
	})
}
