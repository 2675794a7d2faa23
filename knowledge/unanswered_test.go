package knowledge_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

// Unanswered questions, as editors see them: grouped by meaning, leaving
// the list once the documents answer them, dismissed with a reason.
func TestUnansweredGroups(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.New(db, knowledge.Options{})
		syncFS(t, kb, clinicFS)
		q := db.Q()
		t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		ask := func(question, lang string, minutes int) {
			t.Helper()
			require.NoError(t, kb.RecordUnanswered(ctx, q, question, lang, 0, 0.1, t0.Add(time.Duration(minutes)*time.Minute)))
		}
		ask("do you do botox?", "en", 0)
		ask("can I bring my dog to my appointment", "en", 1)
		ask("Do you offer Botox injections?", "en", 2)
		ask("are dogs allowed inside the clinic?", "en", 3)
		ask("botox", "en", 4)
		ask("¿Aceptan perros en la clínica?", "es", 5)
		ask("How much is a flu shot?", "en", 6) // the documents answer it now
		ask("Do you offer botox?", "en", 7)
		ask("do you take Tricare?", "en", 8) // a question of its own

		groups, err := kb.UnansweredGroups(ctx, q, knowledge.UnansweredOptions{})
		require.NoError(t, err)
		require.Len(t, groups, 3, "%+v", groups)
		botox, dogs := groups[0], groups[1]
		require.Equal(t, 1, groups[2].Count)
		require.Equal(t, "do you take Tricare?", groups[2].Example)
		require.Equal(t, 4, botox.Count, "%+v", botox)
		require.Equal(t, "Do you offer botox?", botox.Example) // the latest wording
		require.ElementsMatch(t, []string{"botox", "Do you offer Botox injections?", "do you do botox?"}, botox.Variants)
		require.Equal(t, []string{"en"}, botox.Langs)
		require.Equal(t, t0, botox.FirstAt.UTC())
		require.Equal(t, t0.Add(7*time.Minute), botox.LastAt.UTC())
		require.Equal(t, 3, dogs.Count, "%+v", dogs)
		require.Equal(t, []string{"en", "es"}, dogs.Langs)

		// The flu shot question is answered by the documents now: listed
		// only on request, and marked.
		all, err := kb.UnansweredGroups(ctx, q, knowledge.UnansweredOptions{IncludeAnswered: true})
		require.NoError(t, err)
		require.Len(t, all, 4)
		var answered []string
		for _, g := range all {
			if g.Answered {
				answered = append(answered, g.Example)
			}
		}
		require.Equal(t, []string{"How much is a flu shot?"}, answered)

		// Dismissing needs a reason, takes the whole group off the list, and
		// the same question asked afterwards starts a new group.
		_, err = kb.DismissUnanswered(ctx, q, dogs.ID, "  ", "editor@clinic.example", t0.Add(time.Hour))
		require.Error(t, err)
		n, err := kb.DismissUnanswered(ctx, q, dogs.ID, "service animals only: policy page coming", "editor@clinic.example", t0.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 3, n)
		n, err = kb.DismissUnanswered(ctx, q, 999999, "no such group", "editor@clinic.example", t0.Add(time.Hour))
		require.NoError(t, err)
		require.Zero(t, n)
		ask("can my dog come in with me?", "en", 120)
		groups, err = kb.UnansweredGroups(ctx, q, knowledge.UnansweredOptions{})
		require.NoError(t, err)
		require.Len(t, groups, 3)
		require.Equal(t, 4, groups[0].Count)
		require.Equal(t, "can my dog come in with me?", groups[1].Example) // the newer of two single ones
		require.Equal(t, 1, groups[1].Count)
		var by, reason string
		require.NoError(t, q.QueryRow(ctx, `SELECT dismissed_by, dismiss_reason FROM kb_unanswered WHERE id = $1`, dogs.ID).Scan(&by, &reason))
		require.Equal(t, "editor@clinic.example", by)
		require.Equal(t, "service animals only: policy page coming", reason)

		// Limit and Since.
		groups, err = kb.UnansweredGroups(ctx, q, knowledge.UnansweredOptions{Limit: 1})
		require.NoError(t, err)
		require.Len(t, groups, 1)
		groups, err = kb.Unanswered(ctx, q, t0.Add(100*time.Minute), 0)
		require.NoError(t, err)
		require.Len(t, groups, 1)
	})
}
