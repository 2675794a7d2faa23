package telegram_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/channeltest"
	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestCitedCostAnswerMatchesWebChat: with the sample clinic's knowledge
// base, a cost question asked on Telegram gets exactly the web chat's
// cited answer: the same words and source line; a question the documents
// cannot answer gets the same abstention, its buttons an inline keyboard.
func TestCitedCostAnswerMatchesWebChat(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		kb := &faq.Module{}
		h := newHarness(t, db, harnessOpts{modules: []app.Module{kb}})
		h.start()
		require.Eventually(t, func() bool { return kb.LastSync() != nil }, waitFor, 20*time.Millisecond, "the sample clinic is indexed")

		question := channeltest.CostQuestion
		u := patient(1101)
		h.fake.PushText(u, question)
		apptest.Settle(t, db, telegram.Channel, "1101", 1)
		got := h.fake.SentTo(u.ID)

		session := httpserver.RandomToken(24)
		web := h.webReply(session, "c1", question, "")
		channeltest.RequireCitedCost(t, web)
		requireSame(t, web, got)

		// A question the documents do not answer: the same abstention,
		// with its buttons as an inline keyboard.
		h.fake.PushText(u, channeltest.UncoveredCostQuestion)
		apptest.Settle(t, db, telegram.Channel, "1101", 2)
		got = h.fake.SentTo(u.ID)[len(got):]
		web = h.webReply(session, "c2", channeltest.UncoveredCostQuestion, "")
		channeltest.RequireAbstention(t, web)
		requireSame(t, web, got)
	})
}
