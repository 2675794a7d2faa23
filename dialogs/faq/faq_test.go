package faq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/knowledge/openaifake"
)

var chatSeq atomic.Int64

type harness struct {
	t   testing.TB
	a   *app.App
	mod *faq.Module
}

// assemble builds the app with the knowledge module as `tend ask` does.
func assemble(t testing.TB, db *store.DB, env map[string]string, mode app.Mode) *harness {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	env["TEND_DATA_DIR"] = t.TempDir()
	cfg, err := config.LoadFrom(env)
	require.NoError(t, err)
	mod := &faq.Module{}
	a, err := app.New(context.Background(), cfg, app.Options{Mode: mode, Store: db, SkipMigrate: true, Modules: []app.Module{mod}})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return &harness{t: t, a: a, mod: mod}
}

// send handles one message in the conversation chat.
func (h *harness) send(chat, text, payload, locale string) []bot.Sent {
	h.t.Helper()
	id := fmt.Sprintf("m%d", chatSeq.Add(1))
	out, err := h.a.Engine.Handle(context.Background(), bot.Inbound{Channel: "cli", ChatID: chat, SenderID: chat, MessageID: id,
		Text: text, Payload: payload, Locale: locale})
	require.NoError(h.t, err)
	require.NotEmpty(h.t, out.Replies)
	return out.Replies
}

func (h *harness) ask(text string) bot.Sent {
	h.t.Helper()
	chat := fmt.Sprintf("c%d", chatSeq.Add(1))
	return h.send(chat, text, "", "")[0]
}

func TestFAQ(t *testing.T) {
	t.Parallel()
	tests := map[string]func(t *testing.T, db *store.DB){
		"AnswersFromTheSampleClinic":   testAnswersFromSample,
		"AbstainsOffersAPersonRecords": testAbstains,
		"LeavesGreetingsAndPeople":     testRouting,
		"FollowUpUsesContext":          testFollowUp,
		"Spanish":                      testSpanish,
		"KBDirIsSyncedAndKept":         testKBDir,
		"ServeSyncsInTheBackground":    testServeSync,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, fn)
		})
	}
}

func testAnswersFromSample(t *testing.T, db *store.DB) {
	h := assemble(t, db, nil, app.ModeCLI)
	r := h.ask("how much is a flu shot if i dont have insurance?")
	require.Equal(t, bot.ActionAnswer, r.Action)
	require.Contains(t, r.Text, "$30")
	require.True(t, strings.HasSuffix(r.Text, "Source: Vaccines and Flu Shots › How much does a flu shot cost? (updated 2026-08-28)"), r.Text)
	require.Equal(t, "vaccines.md", r.Sources[0].Document)
	require.Equal(t, "How much does a flu shot cost?", r.Sources[0].Section)
	require.LessOrEqual(t, len(r.Sources), 3)
	require.GreaterOrEqual(t, r.Confidence, knowledge.DefaultModel().Threshold)
	// The answer is one entry's text, not a mix: nothing from the Tdap entry.
	require.NotContains(t, r.Text, "$50")

	r = h.ask("Where do I park?")
	require.Equal(t, "appointments-and-hours.md", r.Sources[0].Document)
	require.Contains(t, r.Text, "free")
}

func testAbstains(t *testing.T, db *store.DB) {
	h := assemble(t, db, nil, app.ModeCLI)
	chat := "abstain-chat"
	replies := h.send(chat, "how much is a vasectomy?", "", "")
	r := replies[0]
	require.Equal(t, bot.ActionAbstain, r.Action)
	require.Contains(t, r.Text, "I'm not sure")
	require.Contains(t, r.Text, "(555) 014-2000")
	require.NotContains(t, r.Text, "$")
	require.Less(t, r.Confidence, knowledge.DefaultModel().Threshold)
	require.Len(t, r.Buttons, 2)
	require.Equal(t, "handoff:request:unanswered", r.Buttons[0].Payload)
	require.Equal(t, "Talk to a person", r.Buttons[0].Label)

	h.ask("how much is a vasectomy")
	h.ask("do you offer acupuncture")
	groups, err := h.mod.Base().Unanswered(context.Background(), db.Q(), time.Now().Add(-time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, 2, groups[0].Count, "similar questions are grouped, most frequent first")
	require.Contains(t, strings.ToLower(groups[0].Example), "vasectomy")
	require.Equal(t, 1, groups[1].Count)

	// Tapping the button reaches the handoff dialog.
	after := h.send(chat, "", r.Buttons[0].Payload, "")
	require.Equal(t, bot.ActionHandoff, after[0].Action)
	var reason string
	require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT reason FROM handoffs`).Scan(&reason))
	require.Equal(t, "unanswered", reason)
}

func testRouting(t *testing.T, db *store.DB) {
	h := assemble(t, db, nil, app.ModeCLI)
	r := h.ask("hi")
	require.Empty(t, r.Action, "the menu greets")
	require.Contains(t, r.Text, "Hello")
	r = h.ask("I want to talk to a person")
	require.Equal(t, bot.ActionHandoff, r.Action)
	r = h.ask("ok")
	require.Empty(t, r.Action, "nothing to look up: the fallback answers")
}

func testFollowUp(t *testing.T, db *store.DB) {
	h := assemble(t, db, nil, app.ModeCLI)
	chat := "follow-up"
	first := h.send(chat, "do you offer video visits?", "", "")[0]
	require.Equal(t, "appointments-and-hours.md", first.Sources[0].Document)
	next := h.send(chat, "how much is it?", "", "")[0]
	require.Equal(t, bot.ActionAnswer, next.Action)
	require.Equal(t, "Is a video visit cheaper?", next.Sources[0].Section, "the follow-up is read with the previous question")
	require.Contains(t, next.Text, "$80")
	// A new conversation has no context to lean on: the same words find
	// something else, or nothing.
	alone := h.ask("how much is it?")
	if len(alone.Sources) > 0 {
		require.NotEqual(t, "Is a video visit cheaper?", alone.Sources[0].Section)
	}

	// A short question about something the documents lack is not answered
	// from the previous question's passage: no flu-shot price for a
	// vasectomy. A follow-up that leans on the context still does.
	chat = "other-subject"
	require.Equal(t, bot.ActionAnswer, h.send(chat, "How much is a flu shot?", "", "")[0].Action)
	other := h.send(chat, "How much is a vasectomy?", "", "")[0]
	require.Equal(t, bot.ActionAbstain, other.Action, other.Text)
	require.NotContains(t, other.Text, "$")
	medicare := h.send(chat, "and for Medicare?", "", "")[0]
	require.Equal(t, bot.ActionAnswer, medicare.Action)
}

func testSpanish(t *testing.T, db *store.DB) {
	h := assemble(t, db, nil, app.ModeCLI)
	r := h.send("es-chat", "¿Cuánto cuesta la vacuna de la gripe?", "", "es")[0]
	require.Equal(t, bot.ActionAnswer, r.Action)
	// Answered from the Spanish translation of the vaccines page.
	require.Equal(t, "es/vaccines.md", r.Sources[0].Document)
	require.Contains(t, r.Text, "$30")
	require.Contains(t, r.Text, "Fuente: Vacunas")
	require.NotContains(t, r.Text, "inglés")

	// A document with no translation is quoted in English, introduced as such.
	r = h.send("es-chat3", "¿Cobran por llenar formularios?", "", "es")[0]
	require.Equal(t, bot.ActionAnswer, r.Action, r.Text)
	require.Equal(t, "records-and-forms.md", r.Sources[0].Document)
	require.True(t, strings.HasPrefix(r.Text, "Esta información solo está en inglés:"), r.Text)
	r = h.send("es-chat2", "¿Hacen acupuntura?", "", "es")[0]
	require.Equal(t, bot.ActionAbstain, r.Action)
	require.Contains(t, r.Text, "No estoy seguro")
	require.Equal(t, "Hablar con una persona", r.Buttons[0].Label)
}

func writeKB(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return dir
}

func testKBDir(t *testing.T, db *store.DB) {
	dir := writeKB(t, map[string]string{
		"hours.md":   "---\ntitle: Hours\nupdated: 2026-05-01\n---\n## When do you open on Saturday?\n\nSaturday 9:00 a.m. to noon.",
		"broken.pdf": "%PDF-1.4 not really",
	})
	h := assemble(t, db, map[string]string{"TEND_KB_DIR": dir}, app.ModeCLI)
	rep := h.mod.LastSync()
	require.NotNil(t, rep)
	require.Equal(t, []string{"hours.md"}, rep.Added)
	require.Len(t, rep.Failed, 1, "a broken file is skipped, the rest synced")
	r := h.ask("are you open on saturday")
	require.Equal(t, "hours.md", r.Sources[0].Document)
	// Without TEND_KB_DIR the editor's documents stay: the sample does not replace them.
	h2 := assemble(t, db, nil, app.ModeCLI)
	require.Nil(t, h2.mod.LastSync())
	require.Equal(t, "hours.md", h2.ask("are you open on saturday").Sources[0].Document)
}

func testServeSync(t *testing.T, db *store.DB) {
	h := assemble(t, db, nil, app.ModeServe)
	require.Nil(t, h.mod.LastSync(), "serve syncs from Start, not from Install")
	require.NoError(t, h.a.Start(context.Background()))
	t.Cleanup(func() { _ = h.a.Stop(context.Background()) })
	require.Eventually(t, func() bool { return h.mod.LastSync() != nil }, 30*time.Second, 10*time.Millisecond)
	require.Len(t, h.mod.LastSync().Added, 19, "11 documents and 8 Spanish translations")
}

func TestGeneratedAnswers(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	env := map[string]string{"OPENAI_BASE_URL": srv.BaseURL(), "OPENAI_API_KEY": "sk-test", "TEND_CHAT_MODEL": "gpt-test",
		"TEND_LLM_TIMEOUT": "2s"}
	h := assemble(t, storetest.OpenSQLite(t), env, app.ModeCLI)
	reply := func(v map[string]any) func(openaifake.ChatRequest) (string, *openaifake.Failure) {
		b, _ := json.Marshal(v)
		return func(openaifake.ChatRequest) (string, *openaifake.Failure) { return string(b), nil }
	}

	srv.OnChat(reply(map[string]any{"supported": true, "answer": "A standard flu shot is $30 without insurance.", "citations": []int{1}}))
	r := h.ask("how much is a flu shot without insurance")
	require.Equal(t, bot.ActionAnswer, r.Action)
	require.True(t, strings.HasPrefix(r.Text, "A standard flu shot is $30 without insurance.\n\nSource: Vaccines and Flu Shots"), r.Text)
	calls := srv.ChatCalls()
	require.NotEmpty(t, calls)
	require.Equal(t, "gpt-test", calls[len(calls)-1].Model)
	require.Contains(t, calls[len(calls)-1].Messages[1].Content, "[1] Vaccines and Flu Shots › How much does a flu shot cost?")

	// A figure the passages do not state is caught; the passage is quoted instead.
	srv.OnChat(reply(map[string]any{"supported": true, "answer": "It costs $45.", "citations": []int{1}}))
	r = h.ask("how much is a flu shot without insurance")
	require.Equal(t, bot.ActionAnswer, r.Action)
	require.NotContains(t, r.Text, "$45")
	require.Contains(t, r.Text, "a standard flu shot costs $30")

	// The model says the passages do not answer: the bot does not either.
	srv.OnChat(reply(map[string]any{"supported": false, "answer": "", "citations": []int{}}))
	r = h.ask("how much is a flu shot without insurance")
	require.Equal(t, bot.ActionAbstain, r.Action)

	// Errors fall back to the extractive answer.
	srv.OnChat(func(openaifake.ChatRequest) (string, *openaifake.Failure) {
		return "", &openaifake.Failure{Status: 500, Message: "overloaded"}
	})
	r = h.ask("how much is a flu shot without insurance")
	require.Equal(t, bot.ActionAnswer, r.Action)
	require.Contains(t, r.Text, "$30")
	srv.OnChat(func(openaifake.ChatRequest) (string, *openaifake.Failure) {
		return "I think it's about thirty dollars", nil
	})
	r = h.ask("how much is a flu shot without insurance")
	require.Contains(t, r.Text, "a standard flu shot costs $30", "prose instead of the JSON asked for")
}

func TestGeneratedAnswerTimeoutFallsBack(t *testing.T) {
	t.Parallel()
	srv := openaifake.New(t)
	release := srv.Block()
	t.Cleanup(release)
	env := map[string]string{"OPENAI_BASE_URL": srv.BaseURL(), "OPENAI_API_KEY": "sk-test", "TEND_CHAT_MODEL": "gpt-test",
		"TEND_LLM_TIMEOUT": "200ms"}
	h := assemble(t, storetest.OpenSQLite(t), env, app.ModeCLI)
	r := h.ask("how much is a flu shot without insurance")
	require.Equal(t, bot.ActionAnswer, r.Action)
	require.Contains(t, r.Text, "$30")
}

func TestTrimForChat(t *testing.T) {
	t.Parallel()
	short := "A flu shot costs $30."
	require.Equal(t, short, faq.TrimForChat(short, 100))
	long := "First sentence here. Second sentence is longer than the first. Third one."
	require.Equal(t, "First sentence here. …", faq.TrimForChat(long, 30))
	list := "Prices:\n- Urine test: $12\n- Blood count: $22\n- Lipid panel: $28"
	require.Equal(t, "Prices:\n- Urine test: $12\n- Blood count: $22 …", faq.TrimForChat(list, 50))
	cut := faq.TrimForChat("averyveryverylongword "+strings.Repeat("x", 50), 25)
	require.Equal(t, "averyveryverylongword…", cut)
	_ = knowledge.ModeHybrid
}
