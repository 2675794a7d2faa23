package rekey_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/rekey"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

// TestNoPlaintextAtRest imports the registry and has a patient verify,
// book, reschedule, cancel and chat; then reads every text column of every
// table as the database holds it and finds none of the registry's names,
// birth dates, phone numbers or e-mail addresses, nor what was said.
// Registry rows imported before the key was configured are sealed by the
// rekey job. Both stores.
func TestNoPlaintextAtRest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC) // a Monday morning in Maple Grove
		// Half the registry before any key, as a clinic that turns
		// encryption on later has it.
		ps, err := patients.ParseCSV(strings.NewReader(string(sample.PatientsCSV())), now)
		require.NoError(t, err)
		require.NoError(t, patients.Import(ctx, db, ps[:len(ps)/2], now))

		storetest.Sealed(t, db)
		workers(t, db)
		codes := &bookingtest.CodeBox{}
		bc := booking.DefaultConfig()
		a := apptest.New(t, db, apptest.Options{Clock: clock.NewFake(now), Mode: app.ModeCLI,
			Modules: []app.Module{&booking.Module{Config: &bc, Codes: codes}}})
		require.NoError(t, patients.Import(ctx, db, ps, now))
		_, err = rekey.Start(ctx, db, now)
		require.NoError(t, err)
		waitFinished(t, db, db.Keyring().Current())

		d := &driver{e: a.Engine, chat: "web-atrest"}
		bookingtest.VerifyBookRescheduleCancel(t, d, bookingtest.Walter, bookingtest.Hooks{Code: codes.Last})
		const said = "my neighbour Zebulon Quixote has the flu"
		d.Send(t, said, "")
		d.Send(t, "I want to talk to a person", "")

		// What must not be found: every registry detail long enough not to
		// turn up by chance in base64, and what the patient typed.
		secrets := []string{"Zebulon Quixote", "walter.brooks", "11/02/1948"}
		for _, p := range ps {
			for _, v := range []string{p.FirstName, p.LastName} {
				if len(v) >= 6 {
					secrets = append(secrets, v)
				}
			}
			secrets = append(secrets, p.BirthDate)
			if p.Phone != "" {
				secrets = append(secrets, p.Phone)
			}
			if p.Email != "" {
				secrets = append(secrets, p.Email)
			}
		}
		cells := storetest.StoredText(t, db)
		require.NotEmpty(t, cells)
		for where, values := range cells {
			for _, v := range values {
				for _, s := range secrets {
					require.NotContains(t, v, s, "%s holds %q in the clear", where, s)
				}
			}
		}

		// And the conversation still reads back: the patient's history.
		c, err := db.Q().FindConversation(ctx, "web", d.chat)
		require.NoError(t, err)
		in, err := db.Q().RecentInbound(ctx, c.ID, 2)
		require.NoError(t, err)
		require.Equal(t, said, in[0].Text)
	})
}

// driver is a patient on the web chat, through the engine.
type driver struct {
	e    *bot.Engine
	chat string
	n    int
}

func (d *driver) Send(t *testing.T, text, payload string) []bot.Reply {
	t.Helper()
	d.n++
	out, err := d.e.Handle(context.Background(), bot.Inbound{Channel: "web", ChatID: d.chat, SenderID: d.chat,
		MessageID: fmt.Sprintf("%s-%d", d.chat, d.n), Text: text, Payload: payload})
	require.NoError(t, err)
	replies := make([]bot.Reply, len(out.Replies))
	for i, r := range out.Replies {
		replies[i] = r.Reply
	}
	return replies
}

func (d *driver) ShareContact(t *testing.T, phone string) []bot.Reply {
	t.Fatalf("the web chat does not share contacts")
	return nil
}
