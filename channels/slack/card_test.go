package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// SLACK_CARD_DETAIL=minimal: the handoff message shows a verified
// patient's first name and record number, nothing more (no last name,
// birth date or phone), and the copy Tend keeps to re-render the message
// holds no more than it shows. Against the fake Slack; both stores.
func TestMinimalCard(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := patients.Patient{ExternalID: "MG-1003", FirstName: "Grace", LastName: "Okafor", BirthDate: "1985-07-21",
			Phone: "+1 555 014 2003", Email: "grace.okafor@example.com", Lang: "en"}
		require.NoError(t, patients.Upsert(ctx, db.Q(), &p, wedMorning))
		h := newHarness(t, db, nil, nil, withOptions(func(o *Options) {
			o.Registry, o.CardDetail = booking.Registry{}, CardMinimal
		}))
		h.send(bot.Inbound{Channel: web.Channel, ChatID: "verified", SenderID: "verified", Text: "hello"})
		_, err := db.Q().Exec(ctx, `UPDATE conversations SET patient_id = $2 WHERE id = $1`, h.conv("verified").ID, p.ID)
		require.NoError(t, err)
		ho, ts := h.requestPerson("verified")
		r := h.slack.lastRender(ts)
		require.Contains(t, r, "Grace (verified)")
		require.Contains(t, r, "Record: MG-1003")
		for _, detail := range []string{"Okafor", "1985", "Date of birth", "555 014 2003", "Phone:"} {
			require.NotContains(t, r, detail)
		}
		var root string
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT CAST(root AS text) FROM slack_threads WHERE handoff_id = $1`, ho.ID).Scan(&root))
		root, err = db.Q().OpenJSON("slack_threads.root", root)
		require.NoError(t, err)
		require.Contains(t, root, "MG-1003")
		for _, detail := range []string{"Okafor", "1985", "5550142003", "555 014 2003"} {
			require.False(t, strings.Contains(root, detail), "the kept copy holds %q", detail)
		}
	})
}

// The setting reaches the module from the configuration; full (the
// default) keeps today's card, without the record number.
func TestCardDetailFromConfig(t *testing.T) {
	t.Parallel()
	c, err := config.LoadFrom(map[string]string{"SLACK_CARD_DETAIL": "minimal"})
	require.NoError(t, err)
	require.Equal(t, CardMinimal, optionsFrom(c.Slack).CardDetail)
	require.Equal(t, CardFull, optionsFrom(config.Defaults().Slack).CardDetail)

	full := withCardDetail(booking.Registry{}, CardFull)
	require.NotNil(t, full)
	require.Nil(t, withCardDetail(nil, CardMinimal), "no registry, no card")
}
