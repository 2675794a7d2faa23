package booking_test

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/sample"
)

// newKBEnv wires booking to the real knowledge base as internal/cli does:
// the faq module is booking's InfoSource and is installed after it. kb is
// synced before the first message; nil leaves the index empty.
func newKBEnv(t *testing.T, db *store.DB, kb knowledge.Source) *env {
	t.Helper()
	kbm := &faq.Module{Options: faq.Options{NoSync: true}}
	e := newEnvWith(t, db, kbm, kbm)
	if kb.FS != nil {
		_, err := kbm.Base().Sync(context.Background(), kb, knowledge.SyncOptions{})
		require.NoError(t, err)
	}
	return e
}

// prepMessage runs the "what to expect" job on its day and returns its text.
func prepMessage(t *testing.T, e *env, c *chat, a scheduling.Appointment) string {
	t.Helper()
	before := int64(len(e.outbound(c.id, c.channel, 0)))
	e.clock.Set(a.Start.AddDate(0, 0, -2))
	require.NoError(t, e.work(booking.ReminderArgs{AppointmentID: a.ID, Version: a.Version, What: "prep"}))
	sent := e.outbound(c.id, c.channel, before)
	require.Len(t, sent, 1)
	return sent[0].Text
}

// The sample clinic's "What to Expect at Your Visit" page, as quoted.
const (
	followUpPrice  = "Self-pay patients pay $110"
	followUpSource = "(Source: What to Expect at Your Visit › What to expect at a follow-up visit, updated 2026-03-10)"
)

func TestConfirmationAndPrepQuoteTheClinicsDocuments(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newKBEnv(t, db, knowledge.Source{Name: faq.SampleSource, FS: sample.KB()})
		c, a := bookFar(t, e)
		booked := c.last[0]
		require.Contains(t, booked.Text, "Please bring your insurance card", "the directory's part stays")
		require.Contains(t, booked.Text, "A follow-up visit takes about 20 minutes")
		require.Contains(t, booked.Text, followUpPrice)
		require.Contains(t, booked.Text, followUpSource)
		require.NotContains(t, booked.Text, "$80", "not the video visit's price")
		require.Equal(t, []bot.Source{{Document: followUpSource[len("(Source: ") : len(followUpSource)-1]}}, booked.Sources)

		prep := prepMessage(t, e, c, a)
		require.Contains(t, prep, "Write down your questions")
		require.Contains(t, prep, followUpPrice)
		require.Contains(t, prep, followUpSource)
		require.Contains(t, prep, "Dr. Chen has cared for Maple Grove families")
	})
}

func TestConfirmationWithoutDocumentsSaysNothingMore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newKBEnv(t, db, knowledge.Source{})
		c, a := bookFar(t, e)
		booked := c.last[0]
		require.Contains(t, booked.Text, "Please bring your insurance card")
		require.NotContains(t, booked.Text, "Source")
		require.Empty(t, booked.Sources)

		prep := prepMessage(t, e, c, a)
		require.Contains(t, prep, "Your Follow-up visit with Dr. Emily Chen")
		require.NotContains(t, prep, "Source")
	})
}

// sampleWithout is the sample clinic's documents but one.
func sampleWithout(t *testing.T, name string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(sample.KB(), ".")
	require.NoError(t, err)
	dirs := 0
	for _, e := range entries {
		if e.IsDir() {
			dirs++ // the Spanish translations: not needed here
			continue
		}
		if e.Name() != name {
			b, err := fs.ReadFile(sample.KB(), e.Name())
			require.NoError(t, err)
			out[e.Name()] = &fstest.MapFile{Data: b}
		}
	}
	require.Len(t, out, len(entries)-dirs-1)
	return out
}

// Without its visit page the sample still answers "what does a follow-up
// cost" confidently, from passages about estimates and video visits: none
// of them is quoted in a follow-up's confirmation.
func TestUnrelatedDocumentsAreNotQuoted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newKBEnv(t, db, knowledge.Source{Name: "unrelated", FS: sampleWithout(t, "visit-types.md")})
		c, _ := bookFar(t, e)
		booked := c.last[0]
		require.Contains(t, booked.Text, "You're booked")
		require.NotContains(t, booked.Text, "$80")
		require.NotContains(t, booked.Text, "Source")
	})
}
