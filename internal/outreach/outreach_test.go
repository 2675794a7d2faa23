package outreach_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/outreach"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestFind: the visit's own conversation first; then the patient's
// preferred channel among linked conversations and the WhatsApp number;
// unreachable conversations and channels not configured are never used.
func TestFind(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
		p := patients.Patient{ExternalID: "R1", FirstName: "A", LastName: "B", BirthDate: "1950-01-01", Phone: "15550000001",
			Channel: "telegram", Lang: "es"}
		require.NoError(t, patients.Upsert(ctx, db.Q(), &p, now))
		open := func(channel, chat string, link, unreachable bool) int64 {
			var id int64
			require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
				c, _, err := tx.OpenConversation(ctx, channel, chat, "en", now)
				if err != nil {
					return err
				}
				if link {
					c.PatientID = &p.ID
				}
				c.Unreachable = unreachable
				id = c.ID
				return tx.SaveConversation(ctx, &c, now)
			}))
			return id
		}
		web := open("web", "w1", true, false)
		tg := open("telegram", "t1", true, false)
		gone := open("telegram", "t2", true, true)
		all := func(string) bool { return true }

		got, ok, err := outreach.Find(ctx, db.Q(), p, nil, &web, all)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, web, got.ConversationID, "the visit's own conversation first")
		got, _, err = outreach.Find(ctx, db.Q(), p, nil, nil, all)
		require.NoError(t, err)
		require.Equal(t, tg, got.ConversationID, "then the preferred channel")

		got, _, err = outreach.Find(ctx, db.Q(), p, []string{"whatsapp", "web"}, nil, all)
		require.NoError(t, err)
		require.Equal(t, outreach.Target{Channel: "whatsapp", ChatID: "15550000001", PatientID: p.ID}, got, "a WhatsApp chat to open")

		got, ok, err = outreach.Find(ctx, db.Q(), p, []string{"telegram"}, &gone, func(ch string) bool { return ch != "whatsapp" })
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, tg, got.ConversationID, "never the unreachable one")

		_, ok, err = outreach.Find(ctx, db.Q(), p, []string{"whatsapp"}, nil, func(ch string) bool { return ch == "web" })
		require.NoError(t, err)
		require.False(t, ok, "WhatsApp is not configured")
		require.Equal(t, "es", outreach.Lang(ctx, db.Q(), p, outreach.Target{Channel: "whatsapp"}))
	})
}

// TestSendLinksTheConversation: a message sent to a patient links the
// conversation to them, so a STOP typed there stops the patient everywhere.
func TestSendLinksTheConversation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe})
		p := patients.Patient{ExternalID: "L1", FirstName: "A", LastName: "B", BirthDate: "1950-01-01", Phone: "15550000002",
			ConsentReminders: true, ConsentMessages: true}
		require.NoError(t, patients.Upsert(ctx, db.Q(), &p, time.Now()))
		var c store.Conversation
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			c, _, err = tx.OpenConversation(ctx, "telegram", "tg-l1", "en", time.Now())
			return err
		}))
		target := outreach.Target{ConversationID: c.ID, Channel: "telegram", ChatID: "tg-l1", PatientID: p.ID}
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := outreach.Send(ctx, tx, a.Engine, target, "en", bot.Reply{Text: "How was your visit?", Kind: bot.KindSurvey})
			return err
		}))
		linked, err := consent.Patients(ctx, db.Q(), c)
		require.NoError(t, err)
		require.Equal(t, []int64{p.ID}, linked)
		_, err = consent.StopConversation(ctx, db.Q(), c, false, "keyword", time.Now())
		require.NoError(t, err)
		d, err := consent.Check(ctx, db.Q(), consent.Subject{PatientID: &p.ID, Channel: "whatsapp", ChatID: p.Phone}, &p, consent.Campaigns)
		require.NoError(t, err)
		require.False(t, d.Allowed)
	})
}
