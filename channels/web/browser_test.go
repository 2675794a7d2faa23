package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/browsertest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func browser(t *testing.T) context.Context { return browsertest.New(t) }

// waitFor polls a JavaScript condition until it holds.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err, "waiting for %s", expr)
}

// waitCount waits until the CSS selector matches at least n elements.
func waitCount(t *testing.T, ctx context.Context, sel string, n int) {
	t.Helper()
	waitFor(t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length >= %d`, sel, n))
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

const botText = `Array.from(document.querySelectorAll(".msg.bot .text")).map(e => e.textContent)`

func TestWidgetInChromium(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	a, srv := server(t, db, nil)
	ctx := browser(t)

	do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	waitCount(t, ctx, ".msg.bot", 1)
	require.Contains(t, eval[[]string](t, ctx, botText)[0], "Maple Grove Family Clinic")

	// A staff message arrives later, on the event stream the page reads
	// with fetch() (the session in the Authorization header).
	var convID int64
	require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT id FROM conversations WHERE channel = 'web'`).Scan(&convID))
	require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := a.Engine.Send(context.Background(), tx, convID, bot.Reply{Text: "Hi, this is Anna.", From: "Anna", Kind: bot.KindStaff})
		return err
	}))
	waitFor(t, ctx, `Array.from(document.querySelectorAll(".msg.bot .text")).some(e => e.textContent === "Hi, this is Anna.")`)
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, `document.querySelectorAll(".msg.bot").length === 2`)

	// Click a button: the reply follows and the group's buttons are disabled.
	do(t, ctx, chromedp.Click(chromedp.Search(`//button[contains(@class,"choice") and normalize-space()="Insurance"]`)))
	waitCount(t, ctx, ".msg.bot", 3)
	require.Contains(t, eval[[]string](t, ctx, botText)[2], "insurance")
	require.True(t, eval[bool](t, ctx, `document.querySelector(".msg.bot .choice").disabled`))

	// Type a message and press Enter.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("input"), "hello\n"))
	waitCount(t, ctx, ".msg.bot", 4)
	waitCount(t, ctx, ".msg.patient:not(.pending)", 2)

	// Keyboard only: focus a button and press Enter.
	do(t, ctx,
		chromedp.Focus(chromedp.CSS("#log > .msg:last-child .choice")),
		chromedp.KeyEvent("\r"),
	)
	waitCount(t, ctx, ".msg.bot", 5)

	// A reload keeps the conversation.
	before := eval[int](t, ctx, `document.querySelectorAll(".msg").length`)
	do(t, ctx, chromedp.Reload())
	waitCount(t, ctx, ".msg.bot", 5)
	require.Equal(t, before, eval[int](t, ctx, `document.querySelectorAll(".msg").length`))

	// Screen-reader labels and the log's live region; large text and targets.
	a11y := eval[map[string]any](t, ctx, `({
		role: document.getElementById("log").getAttribute("role"),
		live: document.getElementById("log").getAttribute("aria-live"),
		label: document.querySelector("label[for=input]").textContent,
		lang: document.documentElement.lang,
		groups: document.querySelectorAll(".buttons[role=group][aria-label]").length,
		fontPx: parseFloat(getComputedStyle(document.querySelector(".msg .text")).fontSize),
		buttonPx: document.querySelector(".choice").getBoundingClientRect().height,
	})`)
	require.Equal(t, "log", a11y["role"])
	require.Equal(t, "polite", a11y["live"])
	require.Equal(t, "Your message", a11y["label"])
	require.Equal(t, "en", a11y["lang"])
	require.GreaterOrEqual(t, a11y["groups"].(float64), 1.0)
	require.GreaterOrEqual(t, a11y["fontPx"].(float64), 18.0, "large readable text")
	require.GreaterOrEqual(t, a11y["buttonPx"].(float64), 44.0, "big touch targets")

	// Phone width: nothing wider than the screen.
	do(t, ctx, chromedp.EmulateViewport(360, 740), chromedp.Reload())
	waitCount(t, ctx, ".msg.bot", 5)
	require.False(t, eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`), "the chat fits a phone screen")

	// Start over: a fresh conversation with a fresh welcome, and the old
	// session ended on the server, so its token reads nothing any more.
	old := eval[string](t, ctx, `localStorage.getItem("tend.session")`)
	code, _ := history(t, srv.URL, old)
	require.Equal(t, http.StatusOK, code)
	do(t, ctx, chromedp.Click(chromedp.ID("restart")))
	waitFor(t, ctx, `document.querySelectorAll(".msg.bot").length === 1`)
	waitFor(t, ctx, fmt.Sprintf(`!!localStorage.getItem("tend.session") && localStorage.getItem("tend.session") !== %q`, old))
	require.Eventually(t, func() bool {
		code, _ := history(t, srv.URL, old)
		return code == http.StatusUnauthorized
	}, 10*time.Second, 50*time.Millisecond, "the old session ended on the server")

	// The session never travelled in a URL.
	urls := eval[[]string](t, ctx, `performance.getEntriesByType("resource").map(e => e.name)`)
	require.NotEmpty(t, urls)
	for _, u := range urls {
		require.NotContains(t, u, "session=", u)
		require.NotContains(t, u, old, u)
	}
}

// TestWidgetSessionExpiryInChromium: after a day without activity the
// server has ended the session; the page starts a new chat, says why, and
// gives back a message the patient typed but could not send.
func TestWidgetSessionExpiryInChromium(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	clk := clock.NewFake(apptest.Epoch)
	_, srv := serverWithClock(t, db, nil, clk)
	ctx := browser(t)

	do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	waitCount(t, ctx, ".msg.bot", 1)
	do(t, ctx, chromedp.SendKeys(chromedp.ID("input"), "hello\n"))
	waitCount(t, ctx, ".msg.bot", 2)
	first := eval[string](t, ctx, `localStorage.getItem("tend.session")`)

	// Reopened the next day: a new chat, and a polite note.
	clk.Advance(24*time.Hour + time.Minute)
	do(t, ctx, chromedp.Reload())
	waitCount(t, ctx, ".msg.notice", 1)
	waitFor(t, ctx, `document.querySelectorAll(".msg.bot").length === 1`)
	require.Contains(t, eval[string](t, ctx, `document.querySelector(".msg.notice").textContent`), "started a new one")
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll(".msg.patient").length`), "the old conversation is not shown")
	second := eval[string](t, ctx, `localStorage.getItem("tend.session")`)
	require.NotEqual(t, first, second)
	require.Contains(t, eval[[]string](t, ctx, botText)[0], "Maple Grove Family Clinic")

	// The page stays open past the idle time, then the patient writes: the
	// message is refused, a new chat starts, and the text is given back.
	clk.Advance(24*time.Hour + time.Minute)
	do(t, ctx, chromedp.SendKeys(chromedp.ID("input"), "do you take Medicare?\n"))
	waitFor(t, ctx, fmt.Sprintf(`!!localStorage.getItem("tend.session") && localStorage.getItem("tend.session") !== %q`, second))
	waitCount(t, ctx, ".msg.notice", 1)
	waitFor(t, ctx, `document.querySelectorAll(".msg.bot").length === 1`)
	require.Equal(t, "do you take Medicare?", eval[string](t, ctx, `document.getElementById("input").value`))
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll(".msg.patient").length`))

	// And the new chat works.
	do(t, ctx, chromedp.Click(chromedp.ID("send")))
	waitCount(t, ctx, ".msg.bot", 2)
}

func TestWidgetEmbedsInAClinicSite(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	tend := make(chan string, 1)
	clinicSite := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := <-tend
		tend <- u
		fmt.Fprintf(w, `<!doctype html><html><body><h1>Our clinic</h1><script src="%s/widget.js" async></script></body></html>`, u)
	}))
	t.Cleanup(clinicSite.Close)
	// Only the configured clinic site may frame the chat (by default, none).
	_, srv := server(t, db, map[string]string{"TEND_WEB_ALLOWED_ORIGINS": clinicSite.URL})
	tend <- srv.URL
	ctx := browser(t)
	do(t, ctx,
		chromedp.Navigate(clinicSite.URL),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Chat with us"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Chat with us"]`)),
	)
	waitFor(t, ctx, `!!document.querySelector("iframe") && document.querySelector("iframe").style.display === "block"`)
	require.Equal(t, srv.URL+"/chat?embed=1", eval[string](t, ctx, `document.querySelector("iframe").src`))
	// The framed chat (another origin) loads and greets the patient.
	require.Eventually(t, func() bool {
		var n int
		_ = db.Q().QueryRow(context.Background(), `SELECT count(*) FROM outbound_messages`).Scan(&n)
		return n >= 1
	}, 20*time.Second, 50*time.Millisecond, "the framed chat started a conversation")
}
