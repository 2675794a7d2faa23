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

// TestPerChannelAndPurpose: the registry's flags are the defaults; a
// channel's own row beats an every-channel one; STOP beats every grant;
// START lifts only the STOP.
func TestPerChannelAndPurpose(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
		p := patients.Patient{ExternalID: "X1", FirstName: "A", LastName: "B", BirthDate: "1950-01-01", Phone: "15550000001",
			ConsentReminders: true}
		require.NoError(t, patients.Upsert(ctx, db.Q(), &p, now))
		tg := consent.Subject{PatientID: &p.ID, Channel: "telegram", ChatID: "77"}
		wa := consent.Subject{PatientID: &p.ID, Channel: "whatsapp", ChatID: p.Phone}
		check := func(s consent.Subject, purpose string) consent.Decision {
			d, err := consent.Check(ctx, db.Q(), s, &p, purpose)
			require.NoError(t, err)
			return d
		}
		require.True(t, check(tg, consent.Surveys).Allowed, "surveys follow the reminders flag")
		require.Equal(t, consent.ReasonNoConsent, check(tg, consent.Campaigns).Reason, "no campaigns without consent")

		require.NoError(t, consent.Set(ctx, db.Q(), consent.PatientSubject(p.ID), consent.AnyChannel, consent.Campaigns, true, "api", now))
		require.NoError(t, consent.Set(ctx, db.Q(), consent.PatientSubject(p.ID), "whatsapp", consent.Campaigns, false, "api", now))
		require.True(t, check(tg, consent.Campaigns).Allowed)
		require.False(t, check(wa, consent.Campaigns).Allowed, "not on WhatsApp")
		require.Error(t, consent.Set(ctx, db.Q(), consent.PatientSubject(p.ID), "*", "marketing", true, "api", now))

		// STOP on Telegram, unlinked: only that identity.
		chatOnly := consent.Subject{Channel: "telegram", ChatID: "77"}
		require.NoError(t, consent.Stop(ctx, db.Q(), chatOnly, false, "keyword", nil, now))
		require.Equal(t, consent.ReasonOptedOut, check(tg, consent.Campaigns).Reason)
		require.True(t, check(wa, consent.Surveys).Allowed, "another identity of an unlinked chat is not stopped")
		require.True(t, check(tg, consent.Reminders).Allowed, "STOP keeps booked-visit reminders")

		require.NoError(t, consent.Start(ctx, db.Q(), chatOnly, "keyword", nil, now.Add(time.Minute)))
		require.True(t, check(tg, consent.Campaigns).Allowed, "START restores what was granted")

		require.NoError(t, consent.Stop(ctx, db.Q(), consent.PatientSubject(p.ID), true, "keyword", nil, now.Add(2*time.Minute)))
		for _, s := range []consent.Subject{tg, wa} {
			for _, purpose := range consent.Purposes {
				require.False(t, check(s, purpose).Allowed, "%s %s", s.Channel, purpose)
			}
		}
		events, err := consent.Events(ctx, db.Q(), consent.PatientSubject(p.ID))
		require.NoError(t, err)
		require.Len(t, events, 3)
	})
}
