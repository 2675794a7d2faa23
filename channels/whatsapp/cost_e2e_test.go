package whatsapp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/channeltest"
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

		question := channeltest.CostQuestion
		wa := newPatient()
		e.say(wa, wamid(), question)
		apptest.Settle(t, db, whatsapp.Channel, wa, 1)
		sent := e.api.SentTo(wa)
		require.Empty(t, e.api.Rejected())

		session := strings.Repeat("cd", 24)
		web := e.webChat(session, "1", question, "")
		channeltest.RequireCitedCost(t, web)
		require.Len(t, sent, len(web))
		for i, w := range web {
			requireSame(t, w.Reply, sent[i])
		}
		require.Equal(t, "text", sent[0].Type)

		// A question the documents do not answer: the same abstention,
		// with its choices as reply buttons.
		e.say(wa, wamid(), channeltest.UncoveredCostQuestion)
		apptest.Settle(t, db, whatsapp.Channel, wa, 2)
		sent = e.api.SentTo(wa)[len(sent):]
		web = e.webChat(session, "2", channeltest.UncoveredCostQuestion, "")
		channeltest.RequireAbstention(t, web)
		require.Len(t, sent, len(web))
		for i, w := range web {
			requireSame(t, w.Reply, sent[i])
		}
		require.Equal(t, "button", sent[len(sent)-1].Interactive)
	})
}
