package admin_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/browsertest"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestPeopleInChromium: an owner adds a staff member and sees the link
// once; issues a token and sees it once (it works), revokes it, and
// disables the staff member; their own row has no disable button.
func TestPeopleInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), nil)
	secret := e.person(t, "owner@clinic.example", accounts.Owner)
	ctx := browsertest.New(t)
	e.signIn(t, ctx, "owner@clinic.example", accounts.Code(secret, time.Now().Add(30*time.Second)))
	waitFor(t, ctx, fmt.Sprintf(`%s.includes("People")`, textOf("nav")))

	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/people"))
	waitFor(t, ctx, ready("#adduser"))
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll('#people tr[data-email="owner@clinic.example"] button').length`), "not yourself")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#email"), "anna.lee@clinic.example"),
		chromedp.SetValue(chromedp.CSS("#role"), "staff"),
		chromedp.Click(chromedp.CSS("#adduser button")))
	waitFor(t, ctx, ready("#link"))
	link := eval[string](t, ctx, `document.querySelector("#link").value`)
	require.True(t, strings.HasPrefix(link, e.srv.URL+"/admin/welcome?token="), link)
	require.Contains(t, eval[string](t, ctx, textOf(`#people tr[data-email="anna.lee@clinic.example"]`)), "invited")

	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#tname"), "nightly-export"),
		chromedp.SetValue(chromedp.CSS("#trole"), "editor"),
		chromedp.Click(chromedp.CSS("#addtoken button")))
	waitFor(t, ctx, ready("#secret"))
	token := eval[string](t, ctx, `document.querySelector("#secret").value`)
	require.Equal(t, 200, e.call(t, "GET", "/api/v1/kb/documents", token, nil, nil, nil))
	do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/people"))
	waitFor(t, ctx, ready("#tokens"))
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll("#secret").length`), "shown once")

	// The confirmation dialogs are accepted as a person would.
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`#tokens tr[data-token="nightly-export"] button.revoke`)))
	waitFor(t, ctx, fmt.Sprintf(`%s.includes("Revoked nightly-export")`, textOf("#flash")))
	require.Equal(t, 401, e.call(t, "GET", "/api/v1/kb/documents", token, nil, nil, nil))

	do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`#people tr[data-email="anna.lee@clinic.example"] button.disable`)))
	waitFor(t, ctx, fmt.Sprintf(`%s.includes("Disabled anna.lee@clinic.example")`, textOf("#flash")))
	require.Contains(t, eval[string](t, ctx, textOf(`#people tr[data-email="anna.lee@clinic.example"]`)), "disabled")
}
