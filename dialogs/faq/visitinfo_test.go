package faq_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

func TestVisitInfo(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h := assemble(t, db, nil, app.ModeCLI) // syncs the sample clinic
		for _, tc := range []struct{ visit, has, section, not string }{
			{"follow-up", "Self-pay patients pay $110", "What to expect at a follow-up visit", "$160"},
			{"new-patient", "Complete the new patient forms", "What to expect at a new patient visit", "$110"},
			{"telehealth", "Self-pay patients pay $80", "What to expect at a video visit (telehealth)", "$110"},
		} {
			text, src, ok := h.mod.VisitInfo(ctx, db.Q(), tc.visit, "en")
			require.True(t, ok, tc.visit)
			require.Contains(t, text, tc.has, tc.visit)
			require.NotContains(t, text, tc.not, "one visit type's passage, not another's")
			require.Equal(t, "What to Expect at Your Visit › "+tc.section+", updated 2026-03-10", src)
			require.LessOrEqual(t, len([]rune(text)), 600)
		}
		// The sample is in English: a Spanish message gets no English passage.
		_, _, ok := h.mod.VisitInfo(ctx, db.Q(), "follow-up", "es")
		require.False(t, ok)
		// A visit type the documents do not describe.
		_, _, ok = h.mod.VisitInfo(ctx, db.Q(), "allergy-testing", "en")
		require.False(t, ok)
	})
}

func TestVisitInfoNeedsAPassageAboutTheVisit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Before anything is synced, and before Install, there is nothing to quote.
		_, _, ok := (&faq.Module{}).VisitInfo(ctx, db.Q(), "follow-up", "en")
		require.False(t, ok)
		empty := assemble(t, db, map[string]string{"TEND_KB_DIR": writeKB(t, map[string]string{})}, app.ModeCLI)
		_, _, ok = empty.mod.VisitInfo(ctx, db.Q(), "follow-up", "en")
		require.False(t, ok)

		// The sample without its visit page: the best passages for a
		// follow-up are about estimates and video-visit prices, confidently
		// enough to answer a question, but none is about a follow-up.
		kb := sampleWithout(t, "visit-types.md")
		h := assemble(t, db, map[string]string{"TEND_KB_DIR": kb}, app.ModeCLI)
		for _, visit := range []string{"follow-up", "telehealth"} {
			_, _, ok = h.mod.VisitInfo(ctx, db.Q(), visit, "en")
			require.False(t, ok, visit)
		}
		// A passage whose heading names the visit type still counts.
		text, src, ok := h.mod.VisitInfo(ctx, db.Q(), "new-patient", "en")
		require.True(t, ok)
		require.Contains(t, text, "new patient forms are in the MyHealth portal")
		require.Equal(t, "Preparing for Your Visit › Can I fill out new patient forms before I come?, updated 2026-02-18", src)
	})
}

// sampleWithout writes the sample clinic's documents but one to a folder.
func sampleWithout(t *testing.T, name string) string {
	t.Helper()
	files := map[string]string{}
	entries, err := fs.ReadDir(sample.KB(), ".")
	require.NoError(t, err)
	dirs := 0
	for _, e := range entries {
		if e.IsDir() {
			dirs++ // the Spanish translations: not needed here
			continue
		}
		if e.Name() == name {
			continue
		}
		b, err := fs.ReadFile(sample.KB(), e.Name())
		require.NoError(t, err)
		files[e.Name()] = string(b)
	}
	require.Len(t, files, len(entries)-dirs-1)
	return writeKB(t, files)
}
