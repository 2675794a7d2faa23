package whatsapp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestCitedCostAnswerMatchesWebChat: with the sample clinic's knowledge
// base, a cost question asked on WhatsApp gets exactly the web chat's
// cited answer: the same words and source line; a question the documents
// cannot answer gets the same abstention, its choices as reply buttons.
func TestCitedCostAnswerMatchesWebChat(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		kb := &faq.Module{}
		e := newEnv(t, db, withModules(kb))
		require.Eventually(t, func() bool { return kb.LastSync() != nil }, 60*time.Second, 20*time.Millisecond, "the sample clinic is indexed")

		const question = "How much is a flu shot?"
		wa := newPatient()
		e.say(wa, wamid(), question)
		apptest.Settle(t, db, whatsapp.Channel, wa, 1)
		sent := e.api.SentTo(wa)
		require.Empty(t, e.api.Rejected())

		session := strings.Repeat("cd", 24)
		web := e.webChat(session, "1", question, "")
		require.Equal(t, bot.ActionAnswer, web[0].Action)
		require.Contains(t, web[0].Text, "$30")
		require.Contains(t, web[0].Text, "Source: Vaccines and Flu Shots › How much does a flu shot cost?")
		require.Equal(t, "vaccines.md", web[0].Sources[0].Document)
		require.Len(t, sent, len(web))
		for i, w := range web {
			requireSame(t, w.Reply, sent[i])
		}
		require.Equal(t, "text", sent[0].Type)

		// A question the documents do not answer: the same abstention,
		// with its choices as reply buttons.
		e.say(wa, wamid(), "How much is a vasectomy?")
		apptest.Settle(t, db, whatsapp.Channel, wa, 2)
		sent = e.api.SentTo(wa)[len(sent):]
		web = e.webChat(session, "2", "How much is a vasectomy?", "")
		require.Equal(t, bot.ActionAbstain, web[0].Action)
		require.NotEmpty(t, web[0].Buttons)
		require.Len(t, sent, len(web))
		for i, w := range web {
			requireSame(t, w.Reply, sent[i])
		}
		require.Equal(t, "button", sent[len(sent)-1].Interactive)
	})
}
