package telegram_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
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

		const question = "How much is a flu shot?"
		u := patient(1101)
		h.fake.PushText(u, question)
		apptest.Settle(t, db, telegram.Channel, "1101", 1)
		got := h.fake.SentTo(u.ID)

		session := httpserver.RandomToken(24)
		web := h.webReply(session, "c1", question, "")
		require.Equal(t, bot.ActionAnswer, web[0].Action)
		require.Contains(t, web[0].Text, "$30")
		require.Contains(t, web[0].Text, "Source: Vaccines and Flu Shots › How much does a flu shot cost?")
		require.Equal(t, "vaccines.md", web[0].Sources[0].Document)
		requireSame(t, web, got)

		// A question the documents do not answer: the same abstention,
		// with its buttons as an inline keyboard.
		h.fake.PushText(u, "How much is a vasectomy?")
		apptest.Settle(t, db, telegram.Channel, "1101", 2)
		got = h.fake.SentTo(u.ID)[len(got):]
		web = h.webReply(session, "c2", "How much is a vasectomy?", "")
		require.Equal(t, bot.ActionAbstain, web[0].Action)
		require.NotEmpty(t, web[0].Buttons)
		requireSame(t, web, got)
	})
}
