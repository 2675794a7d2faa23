package admin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/browsertest"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestFixUnansweredInChromium: an editor finds two wordings of a question
// patients asked in one group, opens "write an answer", previews and
// saves the entry into the parking document, and sees the group leave the
// list; the bot now answers it. Another group is dismissed with a reason.
func TestFixUnansweredInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), nil)
	e.person(t, "editor@clinic.example", accounts.Editor)
	e.patientSays(t, "d1", "Can I bring my dog?")
	e.patientSays(t, "d2", "Are dogs allowed inside?")
	e.patientSays(t, "g1", "Do you sell gift cards?")
	ctx := browsertest.New(t)
	e.signIn(t, ctx, "editor@clinic.example", "")
	waitFor(t, ctx, pathIs("/admin"))

	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb/unanswered"))
	waitFor(t, ctx, `document.querySelectorAll("#unanswered tr[data-group]").length === 2`)
	dogRow := `#unanswered tr[data-group]:has(.chip)`
	require.Equal(t, "2", eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).cells[0].textContent`, dogRow)), "two wordings, one group")
	require.Equal(t, "en", eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).cells[3].textContent`, dogRow)))

	do(t, ctx, chromedp.Click(chromedp.CSS(dogRow+" a.write")))
	waitFor(t, ctx, ready("#question"))
	require.Contains(t, eval[string](t, ctx, `document.querySelector("#question").value`), "dog")
	require.Equal(t, "parking.md", eval[string](t, ctx, `document.querySelector("#doc").value`), "the first English document")
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#question"), "Can I bring my dog?"),
		chromedp.SendKeys(chromedp.CSS("#answer"), "Yes: **dogs** are welcome in the waiting room on a leash."),
		chromedp.Click(chromedp.CSS("#preview")))
	waitFor(t, ctx, ready("#rendered"))
	require.Equal(t, "dogs", eval[string](t, ctx, textOf("#rendered strong")))
	require.Equal(t, "Can I bring my dog?", eval[string](t, ctx, textOf("#rendered .preview h2")))

	do(t, ctx, chromedp.Click(chromedp.CSS("#save")))
	waitFor(t, ctx, pathIs("/admin/kb/unanswered"))
	require.Contains(t, eval[string](t, ctx, textOf("#flash")), "parking.md")
	require.NotContains(t, eval[string](t, ctx, textOf("#unanswered")), "dog", "answered now: it left the list")
	content, err := os.ReadFile(filepath.Join(e.dir, "parking.md"))
	require.NoError(t, err)
	require.Contains(t, string(content), "## Can I bring my dog?\n\nYes: **dogs** are welcome")
	r := e.patientSays(t, "d3", "Can I bring my dog?")
	require.Equal(t, bot.ActionAnswer, r[0].Action, r[0].Text)

	do(t, ctx, chromedp.Click(chromedp.CSS("#unanswered details summary")),
		chromedp.SendKeys(chromedp.CSS("#unanswered form.dismiss input[name=reason]"), "we do not sell gift cards"),
		chromedp.Click(chromedp.CSS("#unanswered form.dismiss button")))
	waitFor(t, ctx, fmt.Sprintf(`%s.includes("Dismissed 1 question")`, textOf("#flash")))
	require.Contains(t, eval[string](t, ctx, textOf("#unanswered")), "Nothing unanswered.")
}

// TestEditAndRestoreInChromium: an editor edits a document in the
// browser, previews it, saves it (version 2, with the diff against
// version 1 and the bot answering from it), then restores version 1 with
// one click.
func TestEditAndRestoreInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), nil)
	e.person(t, "editor@clinic.example", accounts.Editor)
	ctx := browsertest.New(t)
	e.signIn(t, ctx, "editor@clinic.example", "")
	waitFor(t, ctx, pathIs("/admin"))

	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb"), chromedp.Click(chromedp.CSS(`tr[data-name="parking.md"] a.edit`)))
	waitFor(t, ctx, ready("#text"))
	text := eval[string](t, ctx, `document.querySelector("#text").value`)
	require.Equal(t, parking, text)
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#text"), strings.Replace(text, "level 2", "level 3", 1)),
		chromedp.Click(chromedp.CSS("#preview")))
	waitFor(t, ctx, ready("#rendered"))
	require.Equal(t, "Where can I park?", eval[string](t, ctx, textOf("#rendered .preview h2")))
	require.NotContains(t, eval[string](t, ctx, textOf("#rendered")), "title:", "front matter is not shown")
	require.Contains(t, eval[string](t, ctx, `document.querySelector("#text").value`), "level 3", "the preview keeps the edit")

	do(t, ctx, chromedp.Click(chromedp.CSS("#save")))
	waitFor(t, ctx, ready("#versions"))
	require.Contains(t, eval[string](t, ctx, textOf("#flash")), "Saved as version 2")
	require.Contains(t, eval[string](t, ctx, textOf("#diff .del")), "level 2")
	require.Contains(t, eval[string](t, ctx, textOf("#diff .add")), "level 3")
	require.Contains(t, eval[string](t, ctx, textOf(`#versions tr[data-version="2"]`)), "editor@clinic.example")
	require.Contains(t, eval[string](t, ctx, textOf(`#versions tr[data-version="1"]`)), "changed in the folder")
	r := e.patientSays(t, "e1", "Where can I park?")
	require.Contains(t, r[0].Text, "level 3")

	do(t, ctx, chromedp.Click(chromedp.CSS(`#versions tr[data-version="1"] button.restore`)))
	waitFor(t, ctx, fmt.Sprintf(`%s.includes("Version 1 restored as version 3")`, textOf("#flash")))
	content, err := os.ReadFile(filepath.Join(e.dir, "parking.md"))
	require.NoError(t, err)
	require.Equal(t, parking, string(content))
	r = e.patientSays(t, "e2", "Where can I park?")
	require.Contains(t, r[0].Text, "level 2")
}

// TestRewordInChromium: an editor finds a sentence, tries a wording that
// drops a placeholder (refused, with the reason), saves one that keeps it,
// and the bot says it.
func TestRewordInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), map[string]string{"TEND_MESSAGES_DIR": t.TempDir()})
	e.person(t, "editor@clinic.example", accounts.Editor)
	ctx := browsertest.New(t)
	e.signIn(t, ctx, "editor@clinic.example", "")
	waitFor(t, ctx, fmt.Sprintf(`%s.includes("Wording")`, textOf("nav")))

	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/wording"),
		chromedp.SendKeys(chromedp.CSS("#q"), "not sure"), chromedp.Click(chromedp.CSS("#filter button")))
	waitFor(t, ctx, ready(`#wording tr[data-id="faq.not_sure"] a`))
	do(t, ctx, chromedp.Click(chromedp.CSS(`#wording tr[data-id="faq.not_sure"] a`)))
	waitFor(t, ctx, ready("#text"))
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#text"), "Sorry, I don't know. Please call us."), chromedp.Click(chromedp.CSS("#save")))
	waitFor(t, ctx, ready("#problem"))
	require.Contains(t, eval[string](t, ctx, textOf("#problem")), "drops {{.Phone}}")

	do(t, ctx, chromedp.SetValue(chromedp.CSS("#text"), "Sorry, I don't know. Please call us at {{.Phone}}."), chromedp.Click(chromedp.CSS("#save")))
	waitFor(t, ctx, ready("#flash"))
	require.Contains(t, eval[string](t, ctx, textOf(`#wording tr[data-id="faq.not_sure"]`)), "reworded")
	r := e.patientSays(t, "w1", "Do you sell gift cards?")
	require.Equal(t, "Sorry, I don't know. Please call us at (555) 014-2000.", r[0].Text)
}
