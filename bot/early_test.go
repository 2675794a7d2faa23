package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// noter prepares a note of what it guessed (the text, the language, the
// last note in its state) and, in the turn, uses it only when the guess
// holds; it replies whether it did.
type noter struct{}

type noterState struct{ Last string }

func (noter) Name() string { return "noter" }

func (noter) Match(t *bot.Turn) int {
	if strings.HasPrefix(t.Text(), "note") {
		return 100
	}
	return 0
}

func (noter) Prepare(e *bot.Early) {
	var s noterState
	e.LoadState("noter", &s)
	e.Keep("noter", e.Text()+"|"+e.Lang()+"|"+s.Last)
}

func (noter) Handle(t *bot.Turn) (bool, error) {
	var s noterState
	t.LoadState("noter", &s)
	want := t.Text() + "|" + t.Lang() + "|" + s.Last
	_, used := t.Prepared("noter", func(v any) bool { return v == want })
	t.Reply(bot.Reply{Text: map[bool]string{true: "used", false: "in turn"}[used]})
	return true, t.SaveState("noter", noterState{Last: t.Text()})
}

type noterModule struct{}

func (noterModule) Name() string { return "noter" }
func (noterModule) Install(_ context.Context, a *host.Host) error {
	a.Engine.AddDialog(noter{})
	return nil
}

// A Preparer's work reaches its message's turn with the chat's language
// and state as this process last committed them; another replica's turn
// makes the guess stale, and a message drained behind an older one gets
// nothing prepared.
func TestPreparedWork(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		one := apptest.New(t, db, apptest.Options{Modules: []app.Module{noterModule{}}})
		other := apptest.New(t, db, apptest.Options{Modules: []app.Module{noterModule{}}})
		count := func(result string) float64 {
			return testutil.ToFloat64(one.Engine.Metrics().Prepared.WithLabelValues("noter", result))
		}
		send := func(e *bot.Engine, id, text string) string {
			out, err := e.Handle(ctx, in("chat", id, text))
			require.NoError(t, err)
			require.Len(t, out.Replies, 1)
			return out.Replies[0].Text
		}
		require.Equal(t, "used", send(one.Engine, "n1", "note one"), "a new chat: its default language, no state")
		require.Equal(t, "used", send(one.Engine, "n2", "note two"), "the state this process committed")
		require.Equal(t, "used", send(one.Engine, "n3", "note tres, por favor, gracias"), "the language the text is in")
		var lang string
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT lang FROM conversations WHERE chat_id = 'chat'`).Scan(&lang))
		require.Equal(t, "es", lang, "the turn switched to it")
		require.Equal(t, "used", send(one.Engine, "n3b", "note again"), "the language this process committed")
		require.Equal(t, 4.0, count("used"))

		require.Equal(t, "in turn", send(other.Engine, "n4", "note four"), "another process: no guess of this chat")
		require.Equal(t, "in turn", send(one.Engine, "n5", "note five"), "its guess of the state is stale")
		require.Equal(t, 1.0, count("stale"))

		// A message accepted for the job, then one handled: the older one
		// is drained first in the same transaction, and neither turn is
		// given prepared work (it was made for the newer message's text,
		// and the drain is not where it is checked).
		_, err := one.Engine.Accept(ctx, in("chat", "n6", "note six"))
		require.NoError(t, err)
		require.Equal(t, "in turn", send(one.Engine, "n7", "note seven"))
		require.Equal(t, 4.0, count("used"))
		require.Equal(t, 1.0, count("stale"))
	})
}
