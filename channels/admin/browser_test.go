package admin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/browsertest"
	"github.com/tend-health/tend/internal/store/storetest"
)

// waitFor polls a JavaScript condition until it holds (20 s). A poll cut
// off by a navigation (a form's redirect) is simply tried again.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", expr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("waiting for %s: %v", expr, last)
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// pathIs holds once the page at p has loaded (a form's redirect changes
// the address before the new page is parsed).
func pathIs(p string) string {
	return fmt.Sprintf(`location.pathname === %q && document.readyState === "complete"`, p)
}

// ready holds once the page has loaded and has sel.
func ready(sel string) string {
	return fmt.Sprintf(`document.readyState === "complete" && !!document.querySelector(%q)`, sel)
}

func textOf(sel string) string {
	return fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel)
}

// signIn fills the sign-in form as a person would.
func (e *env) signIn(t *testing.T, ctx context.Context, email, code string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS("main form button")))
}

// TestSignInWithCodeInChromium: an owner follows the one-time link, sets
// a password and adds the authenticator (the code from the key shown on
// the page), then signs in with a fresh code; a wrong code is refused; the
// session cookie is out of the page's reach.
func TestSignInWithCodeInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), nil)
	_, link, err := e.acc.Add(context.Background(), "owner@clinic.example", accounts.Owner)
	require.NoError(t, err)
	ctx := browsertest.New(t)
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/welcome?token="+link))
	secret := strings.TrimSpace(eval[string](t, ctx, textOf("#secret")))
	require.NotEmpty(t, secret)
	require.True(t, strings.HasPrefix(eval[string](t, ctx, `document.querySelector("#otpauth").href`), "otpauth://totp/"))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.SendKeys(chromedp.CSS("#password2"), password),
		chromedp.SendKeys(chromedp.CSS("#code"), accounts.Code(secret, time.Now())),
		chromedp.Click(chromedp.CSS("main form button")))
	waitFor(t, ctx, pathIs("/admin/login"))
	require.Contains(t, eval[string](t, ctx, textOf(".notice")), "code from your app")

	e.signIn(t, ctx, "owner@clinic.example", "000000")
	waitFor(t, ctx, `!!document.querySelector("#error")`)
	require.Equal(t, "Wrong e-mail, password or code.", eval[string](t, ctx, textOf("#error")))

	// The code of the next 30 seconds: the one used to set up is spent.
	e.signIn(t, ctx, "owner@clinic.example", accounts.Code(secret, time.Now().Add(30*time.Second)))
	waitFor(t, ctx, pathIs("/admin"))
	require.Contains(t, eval[string](t, ctx, textOf("main")), "Signed in as owner@clinic.example")
	nav := eval[string](t, ctx, textOf("nav"))
	require.Contains(t, nav, "Inbox")
	require.Contains(t, nav, "Documents")
	require.NotContains(t, eval[string](t, ctx, `document.cookie`), "tend_session", "HttpOnly")

	// The link worked once.
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/welcome?token="+link))
	require.Contains(t, eval[string](t, ctx, textOf("main")), "not valid")

	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin"), chromedp.Click(chromedp.CSS("#signout")))
	waitFor(t, ctx, pathIs("/admin/login"))
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb"))
	waitFor(t, ctx, pathIs("/admin/login"))
}

// TestUploadAndAnswerInChromium: an editor sees a question the bot could
// not answer, uploads a document that answers it, sees the bot answer from
// it in "Try a question", and the question leave the unanswered list.
func TestUploadAndAnswerInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), nil)
	e.person(t, "editor@clinic.example", accounts.Editor)
	ctx := browsertest.New(t)
	e.signIn(t, ctx, "editor@clinic.example", "")
	waitFor(t, ctx, pathIs("/admin"))
	require.NotContains(t, eval[string](t, ctx, textOf("nav")), "Inbox", "not an editor's page")

	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb/try?q="+strings.ReplaceAll("Do you offer botox injections?", " ", "+")))
	waitFor(t, ctx, `!!document.querySelector("#answer")`)
	require.NotEqual(t, bot.ActionAnswer, eval[string](t, ctx, textOf("#action")))
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb/unanswered"))
	require.Contains(t, eval[string](t, ctx, textOf("#unanswered")), "Do you offer botox injections?")

	file := filepath.Join(t.TempDir(), "botox.md")
	require.NoError(t, os.WriteFile(file, []byte(botox), 0o644))
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb"),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
		chromedp.Click(chromedp.CSS("#upload button")))
	waitFor(t, ctx, `!!document.querySelector("#flash")`)
	require.Contains(t, eval[string](t, ctx, textOf("#flash")), "botox.md")
	require.Contains(t, eval[string](t, ctx, textOf(`tr[data-name="botox.md"]`)), "synced")
	require.Contains(t, eval[string](t, ctx, textOf(`tr[data-name="botox.md"]`)), "Cosmetic treatments")

	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb/try?q=Do+you+offer+botox+injections%3F"))
	waitFor(t, ctx, `!!document.querySelector("#answer")`)
	require.Equal(t, bot.ActionAnswer, eval[string](t, ctx, textOf("#action")))
	require.Contains(t, eval[string](t, ctx, textOf("#answer")), "Friday")
	require.Contains(t, eval[string](t, ctx, textOf(".passages")), "botox.md")

	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb/unanswered"))
	require.NotContains(t, eval[string](t, ctx, textOf("#unanswered")), "botox", "answered now")
}

// TestTakeHandoffAndReplyInChromium: a staff member signs in with a code,
// opens a waiting request from the inbox, takes it and replies; the reply
// reaches the patient's conversation, and the patient's next message shows
// up on the page by itself.
func TestTakeHandoffAndReplyInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), nil)
	secret := e.person(t, "anna.lee@clinic.example", accounts.Staff)
	ctx := browsertest.New(t)
	e.signIn(t, ctx, "anna.lee@clinic.example", accounts.Code(secret, time.Now().Add(30*time.Second)))
	waitFor(t, ctx, pathIs("/admin"))

	e.patientSays(t, "p7", "Can I talk to a person please")
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/inbox"))
	waitFor(t, ctx, `document.querySelectorAll("#inbox tbody a").length === 1`)
	do(t, ctx, chromedp.Click(chromedp.CSS("#inbox tbody a")))
	waitFor(t, ctx, `!!document.querySelector("#take")`)
	require.Contains(t, eval[string](t, ctx, textOf("#transcript")), "Can I talk to a person please")
	do(t, ctx, chromedp.Click(chromedp.CSS("#take")))
	waitFor(t, ctx, `!!document.querySelector("#text")`)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#text"), "Hello, this is Anna at the front desk."),
		chromedp.Click(chromedp.CSS("#send")))
	waitFor(t, ctx, fmt.Sprintf(`%s === "Reply sent."`, textOf("#flash")))
	require.Contains(t, eval[string](t, ctx, textOf("#transcript")), "Hello, this is Anna at the front desk.")

	conv, err := e.db.Q().FindConversation(context.Background(), "cli", "p7")
	require.NoError(t, err)
	hist, err := e.a.Engine.History(context.Background(), conv.ID, 0, 100)
	require.NoError(t, err)
	last := hist[len(hist)-1]
	require.Equal(t, bot.KindStaff, last.Kind)
	require.Equal(t, "Hello, this is Anna at the front desk.", last.Text)
	require.Equal(t, "Anna from Maple Grove Family Clinic", last.From)

	require.Empty(t, e.patientSays(t, "p7", "Thank you! My ticket is lost."), "the bot stays quiet")
	waitFor(t, ctx, fmt.Sprintf(`%s.includes("My ticket is lost.")`, textOf("#transcript")))

	do(t, ctx, chromedp.Click(chromedp.CSS("#resolve")))
	waitFor(t, ctx, fmt.Sprintf(`%s === "resolved"`, textOf("#state")))
}

// TestSignOutOnIdleInChromium: with a two-second idle timeout, an open
// page signs itself out, and the server has ended the session too.
func TestSignOutOnIdleInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), map[string]string{"TEND_CONSOLE_IDLE": "2s"})
	e.person(t, "editor@clinic.example", accounts.Editor)
	ctx := browsertest.New(t)
	e.signIn(t, ctx, "editor@clinic.example", "")
	waitFor(t, ctx, pathIs("/admin"))
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb"))
	waitFor(t, ctx, pathIs("/admin/kb"))
	waitFor(t, ctx, pathIs("/admin/login"))
	require.Contains(t, eval[string](t, ctx, textOf(".notice")), "session ended")
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/kb"))
	waitFor(t, ctx, pathIs("/admin/login"))
	require.Contains(t, eval[string](t, ctx, `location.search`), "ended=1", "the server ended it too")
}
