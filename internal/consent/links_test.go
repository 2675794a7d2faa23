package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestConsentFollowsThePatient: a conversation is linked to a patient by
// verification, by the registry's WhatsApp number or by a message sent to
// the patient there; STOP in any linked conversation stops the patient
// everywhere, even when the link came later; START in a conversation linked
// to the patient alone resumes everywhere; on a number shared by two
// patients START lifts only what was said there.
func TestConsentFollowsThePatient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
		tick := func() time.Time { now = now.Add(time.Minute); return now }
		ana := patients.Patient{ExternalID: "A1", FirstName: "Ana", LastName: "B", BirthDate: "1950-01-01", Phone: "15550000001",
			ConsentReminders: true, ConsentMessages: true}
		ben := patients.Patient{ExternalID: "B1", FirstName: "Ben", LastName: "B", BirthDate: "1952-01-01", Phone: "15550000001",
			ConsentReminders: true, ConsentMessages: true}
		cy := patients.Patient{ExternalID: "C1", FirstName: "Cy", LastName: "D", BirthDate: "1960-01-01", Phone: "15550000003",
			ConsentReminders: true, ConsentMessages: true}
		for _, p := range []*patients.Patient{&ana, &ben, &cy} {
			require.NoError(t, patients.Upsert(ctx, db.Q(), p, now))
		}
		conv := func(channel, chat string, verified *int64) store.Conversation {
			var c store.Conversation
			require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				if c, _, err = tx.OpenConversation(ctx, channel, chat, "en", now); err != nil {
					return err
				}
				c.PatientID = verified
				return tx.SaveConversation(ctx, &c, now)
			}))
			return c
		}
		allowed := func(p patients.Patient, channel, chat, purpose string) bool {
			d, err := consent.Check(ctx, db.Q(), consent.Subject{PatientID: &p.ID, Channel: channel, ChatID: chat}, &p, purpose)
			require.NoError(t, err)
			return d.Allowed
		}

		// Cy: a Telegram chat that says STOP before anyone knows it is Cy.
		tg := conv("telegram", "tg-cy", nil)
		n, err := consent.StopConversation(ctx, db.Q(), tg, false, "keyword", tick())
		require.NoError(t, err)
		require.Zero(t, n, "not linked yet")
		require.True(t, allowed(cy, "whatsapp", cy.Phone, consent.Campaigns))
		// A survey reaches Cy there (outreach links it): the STOP now follows Cy.
		require.NoError(t, consent.Link(ctx, db.Q(), tg.ID, cy.ID, consent.LinkOutreach, tick()))
		require.False(t, allowed(cy, "whatsapp", cy.Phone, consent.Campaigns))
		require.False(t, allowed(cy, "web", "w-cy", consent.Surveys))
		require.True(t, allowed(cy, "web", "w-cy", consent.Reminders), "STOP keeps reminders")
		// START on the web, verified as Cy: everything resumes.
		web := conv("web", "w-cy", &cy.ID)
		resumed, err := consent.StartConversation(ctx, db.Q(), web, "keyword", tick())
		require.NoError(t, err)
		require.True(t, resumed)
		require.True(t, allowed(cy, "telegram", "tg-cy", consent.Campaigns))
		resumed, err = consent.StartConversation(ctx, db.Q(), web, "keyword", tick())
		require.NoError(t, err)
		require.False(t, resumed, "nothing left to resume: START is a greeting")

		// Ana and Ben share a phone. Ana stops on her own Telegram; then STOP ALL
		// from the shared WhatsApp number stops both; START there lifts Ben's
		// and the number's, but not what Ana said on Telegram.
		anaTG := conv("telegram", "tg-ana", &ana.ID)
		_, err = consent.StopConversation(ctx, db.Q(), anaTG, false, "keyword", tick())
		require.NoError(t, err)
		shared := conv("whatsapp", "15550000001", nil)
		linked, err := consent.Patients(ctx, db.Q(), shared)
		require.NoError(t, err)
		require.Equal(t, []int64{ana.ID, ben.ID}, linked, "the registry's number links both")
		n, err = consent.StopConversation(ctx, db.Q(), shared, true, "keyword", tick())
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.False(t, allowed(ben, "web", "w-ben", consent.Reminders), "STOP ALL stops reminders too")
		resumed, err = consent.StartConversation(ctx, db.Q(), shared, "keyword", tick())
		require.NoError(t, err)
		require.True(t, resumed)
		require.True(t, allowed(ben, "web", "w-ben", consent.Campaigns))
		require.False(t, allowed(ana, "web", "w-ana", consent.Campaigns), "Ana's own STOP on Telegram stays")
		require.False(t, allowed(ana, "whatsapp", "15550000001", consent.Campaigns))

		// Ana's view: her STOP on Telegram and the shared number's changes, each
		// with the channel it was said on, listed once each.
		events, err := consent.Events(ctx, db.Q(), consent.PatientSubject(ana.ID))
		require.NoError(t, err)
		var trail []string
		for _, e := range events {
			trail = append(trail, e.Status+"/"+e.Via+"/"+e.Channel)
		}
		require.Equal(t, []string{"stopped/telegram/*", "stopped_all/whatsapp/*", "resumed/whatsapp/*"}, trail)
		level, err := consent.ConversationOptOut(ctx, db.Q(), anaTG)
		require.NoError(t, err)
		require.Equal(t, consent.Stopped, level)
	})
}
