package bot_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// alarmGuard stands in for triage: "help me" is an emergency.
type alarmGuard struct{}

func (alarmGuard) Name() string { return "alarm" }
func (alarmGuard) Check(t *bot.Turn) (bool, error) {
	if t.Text() != "help me" {
		return false, nil
	}
	t.Reply(bot.Reply{Text: "call 911", Action: bot.ActionEmergency})
	return true, nil
}

type alarmModule struct{}

func (alarmModule) Name() string { return "alarm" }
func (alarmModule) Install(_ context.Context, a *host.Host) error {
	a.Engine.AddGuard(alarmGuard{})
	a.Engine.AddDialog(echo{})
	return nil
}

// TestCaptionsAndEditsPassTheGuards: words sent with an attachment (a
// photo's caption) go through the guards first and are then answered as
// text after a note that the attachment was not seen; an attachment with no
// words gets the "text only" reply; an edit is seen by the guards and
// answered by nothing else.
func TestCaptionsAndEditsPassTheGuards(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := apptest.New(t, db, apptest.Options{Modules: []app.Module{alarmModule{}}})
		e := a.Engine
		note := a.Catalog.Text("en", "input.attachment_unseen", nil)
		photo := func(id, text string) bot.Inbound {
			m := in("att", id, text)
			m.Meta = map[string]string{bot.MetaUnsupported: "photo"}
			return m
		}
		edit := func(id, text string) bot.Inbound {
			m := in("att", id, text)
			m.Meta = map[string]string{bot.MetaEdited: "true"}
			return m
		}
		texts := func(out bot.Outcome) []string {
			var s []string
			for _, r := range out.Replies {
				s = append(s, r.Text)
			}
			return s
		}
		for _, c := range []struct {
			name string
			in   bot.Inbound
			want []string
		}{
			{"emergency caption", photo("1", "help me"), []string{"call 911"}},
			{"ordinary caption", photo("2", "echo is this covered?"), []string{note, "is this covered?"}},
			{"no caption", photo("3", ""), []string{a.Catalog.Text("en", "input.unsupported", nil)}},
			{"ordinary edit", edit("4", "echo again"), nil},
			{"edit into an emergency", edit("5", "help me"), []string{"call 911"}},
			{"edited caption", func() bot.Inbound { m := photo("6", "echo x"); m.Meta[bot.MetaEdited] = "true"; return m }(), nil},
		} {
			out, err := e.Handle(ctx, c.in)
			require.NoError(t, err, c.name)
			require.Equal(t, c.want, texts(out), c.name)
		}
	})
}
