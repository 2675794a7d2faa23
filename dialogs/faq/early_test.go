package faq_test

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/guards/triage"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

// The searches done before the turn's transaction (early.go) change no
// reply: the same conversations get the same replies with and without
// them, and a guess that no longer holds (a sync in between, another
// language) is searched again in the turn.
func TestEarlySearch(t *testing.T) {
	t.Parallel()
	tests := map[string]func(t *testing.T, db *store.DB){
		"SameReplies":      testEarlySameReplies,
		"GenerationChange": testEarlyGenerationChange,
		"LanguageMismatch": testEarlyLanguageMismatch,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, fn)
		})
	}
}

// assembleFAQ is assemble with the module's options.
func assembleFAQ(t *testing.T, db *store.DB, o faq.Options) *harness {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir()})
	require.NoError(t, err)
	mod := &faq.Module{Options: o}
	a, err := app.New(context.Background(), cfg, app.Options{Mode: app.ModeCLI, Store: db, SkipMigrate: true,
		Modules: []app.Module{&triage.Module{}, mod}})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return &harness{t: t, a: a, mod: mod}
}

func prepared(h *harness, key, result string) float64 {
	return testutil.ToFloat64(h.a.Engine.Metrics().Prepared.WithLabelValues(key, result))
}

// sameReply compares what a patient sees and what the search decided.
func requireSameReplies(t *testing.T, want, got []bot.Sent, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		require.Equal(t, want[i].Text, got[i].Text, msg)
		require.Equal(t, want[i].Action, got[i].Action, msg)
		require.Equal(t, want[i].Confidence, got[i].Confidence, msg)
		require.Equal(t, want[i].Sources, got[i].Sources, msg)
		require.Equal(t, want[i].Buttons, got[i].Buttons, msg)
	}
}

func testEarlySameReplies(t *testing.T, db *store.DB) {
	early := assembleFAQ(t, db, faq.Options{})
	inTurn := assembleFAQ(t, db, faq.Options{NoEarly: true})
	// Conversations as patients hold them: questions, follow-ups, a switch
	// to Spanish and back, an unanswerable question, words that are not a
	// question, a greeting; each run twice so the guesses are warm.
	script := []struct{ text, locale string }{
		{"how much is a flu shot?", ""},
		{"and for Medicare?", ""},
		{"where do I park?", ""},
		{"How long does a prescription refill take?", ""},
		{"do you offer video visits?", ""},
		{"how much is it?", ""},
		{"how much is a vasectomy?", ""},
		{"¿Cuánto cuesta la vacuna de la gripe?", ""},
		{"¿y con Medicare?", ""},
		{"what are your hours?", ""},
		{"flu shot price", ""},
		{"thanks", ""},
		{"hi", ""},
		{"how much is a flu shot?", ""},
	}
	for round := range 2 {
		for i, m := range script {
			msg := fmt.Sprintf("round %d, message %d: %q", round, i, m.text)
			want := inTurn.send("in-turn", m.text, "", m.locale)
			got := early.send("early", m.text, "", m.locale)
			requireSameReplies(t, want, got, msg)
		}
	}
	// An emergency, in a conversation of its own (staff take it over).
	emergency := early.send("early-911", "I have crushing chest pain and can't breathe", "", "")
	require.Equal(t, bot.ActionEmergency, emergency[0].Action)
	requireSameReplies(t, inTurn.send("in-turn-911", "I have crushing chest pain and can't breathe", "", ""), emergency, "emergency")
	require.Greater(t, prepared(early, "faq:search", "used"), 10.0, "the questions' searches were done before the turn")
	require.Greater(t, prepared(early, "faq:search-with", "used"), 2.0, "and the follow-ups' too")
	require.Greater(t, prepared(early, "triage:classify", "used"), 20.0)
	require.Zero(t, prepared(inTurn, "faq:search", "used")+prepared(inTurn, "faq:search", "stale"))
	require.Zero(t, prepared(early, "faq:search", "stale"), "this process's guesses hold")
}

// A sync on another replica bumps the generation after this process last
// read it: the early search (of the old index, still in memory) is stale,
// and the turn answers from the new documents.
func testEarlyGenerationChange(t *testing.T, db *store.DB) {
	h := assembleFAQ(t, db, faq.Options{})
	ctx := context.Background()
	for range 2 {
		r := h.send("gen", "how much is a flu shot?", "", "")[0]
		require.Contains(t, r.Text, "$30")
	}
	require.Equal(t, 1.0, prepared(h, "faq:search", "used"), "the second question's search was done before the turn")

	other := knowledge.New(db, knowledge.Options{}) // another replica
	docs := fstest.MapFS{"vaccines.md": {Data: []byte("# Vaccines and Flu Shots\n\n## How much does a flu shot cost?\n\n" +
		"A flu shot costs $99 without insurance. Most insurance plans cover it in full.\n")}}
	_, err := other.Sync(ctx, knowledge.Source{Name: "other", FS: docs}, knowledge.SyncOptions{})
	require.NoError(t, err)

	r := h.send("gen", "how much is a flu shot?", "", "")[0]
	require.Equal(t, 1.0, prepared(h, "faq:search", "stale"), "searched early in the old generation, so again in the turn")
	require.Equal(t, bot.ActionAnswer, r.Action, r.Text)
	require.Contains(t, r.Text, "$99")
	require.NotContains(t, r.Text, "$30")
}

// A conversation this process has not seen, in Spanish, gets a message
// whose words do not say which language it is: the early search guessed
// the new conversation's language (English), the turn reads it in
// Spanish, as a process without early searches does.
func testEarlyLanguageMismatch(t *testing.T, db *store.DB) {
	early := assembleFAQ(t, db, faq.Options{})
	inTurn := assembleFAQ(t, db, faq.Options{NoEarly: true})
	for _, chat := range []string{"es-early", "es-in-turn"} {
		r := inTurn.send(chat, "¿Cuánto cuesta la vacuna de la gripe?", "", "es")[0]
		require.Contains(t, r.Text, "$30")
	}
	// Warm the early process's index, in another conversation.
	early.send("warm", "where do I park?", "", "")
	early.send("warm", "where do I park?", "", "")
	stale := prepared(early, "faq:search", "stale")
	got := early.send("es-early", "Medicare?", "", "")
	want := inTurn.send("es-in-turn", "Medicare?", "", "")
	require.Equal(t, stale+1, prepared(early, "faq:search", "stale"), "searched early in English, read in Spanish")
	requireSameReplies(t, want, got, "Medicare? in a Spanish conversation")
	require.Contains(t, got[0].Text, "Medicare")
}
