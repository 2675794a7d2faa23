package admin_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/browsertest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestScreenshots takes the README's screenshots of the console's main
// pages in Chromium, from a clinic with documents, unanswered questions,
// an edit, a request for a person, an emergency flag and a verified
// patient, and checks that each is a whole page. They go to a temporary
// folder; to refresh the README's:
//
//	TEND_TEST_SCREENSHOTS=$PWD/docs/img go test -run TestScreenshots ./channels/admin
func TestScreenshots(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("TEND_TEST_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	e := newEnv(t, storetest.OpenSQLite(t), nil)
	secret := e.person(t, "anna.lee@clinic.example", accounts.Owner)
	rosa := e.clinic(t)
	ed := e.token(t, "kb-bot", accounts.Editor)
	require.Equal(t, 201, e.call(t, "PUT", "/api/v1/kb/documents/botox.md", ed, []byte(botox), nil, nil))
	for i, q := range []string{"Can I bring my dog?", "Are dogs allowed inside?", "Do you sell gift cards?",
		"Do you sell gift certificates?", "Is there wifi in the waiting room?"} {
		e.patientSays(t, "q"+itoa(int64(i)), q)
	}
	e.patientSays(t, "p1", "I have crushing chest pain and can't breathe")
	e.patientSays(t, "p2", "Can I talk to a person please")
	// Rosa's conversation, verified (as booking's verification links it).
	ctx := context.Background()
	conv, err := e.db.Q().FindConversation(ctx, "cli", "p2")
	require.NoError(t, err)
	require.NoError(t, e.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.LockConversation(ctx, conv.ID)
		if err != nil {
			return err
		}
		c.PatientID = &rosa
		return tx.SaveConversation(ctx, &c, time.Now())
	}))
	var items []struct {
		ID             int64
		ConversationID int64 `json:"conversation_id"`
	}
	require.Equal(t, 200, e.call(t, "GET", "/api/v1/handoffs", e.token(t, "desk", accounts.Staff), nil, nil, &items))
	var p2 int64
	for _, it := range items {
		if it.ConversationID == conv.ID {
			p2 = it.ID
		}
	}
	require.NotZero(t, p2)

	b := browsertest.New(t)
	e.signIn(t, b, "anna.lee@clinic.example", accounts.Code(secret, time.Now().Add(30*time.Second)))
	waitFor(t, b, pathIs("/admin"))
	// An edit, so the versions page has a diff.
	do(t, b, chromedp.Navigate(e.srv.URL+"/admin/kb/edit?name=parking.md"))
	waitFor(t, b, ready("#text"))
	do(t, b, chromedp.SetValue(chromedp.CSS("#text"), strings.Replace(parking, "level 2", "level 3", 1)+
		"\n## Is parking free for patients?\n\nYes, for the length of your visit. **Bring your ticket** to the front desk.\n"),
		chromedp.Click(chromedp.CSS("#save")))
	waitFor(t, b, ready("#versions"))

	shot := func(name, path, sel string) {
		t.Helper()
		if path != "" { // "": the page as it is
			do(t, b, chromedp.Navigate(e.srv.URL+path))
		}
		waitFor(t, b, ready(sel))
		img, err := chromedp.Run(b, chromedp.FullScreenshot(100)) // 100: PNG
		require.NoError(t, err, name)
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		require.NoError(t, err, name)
		require.GreaterOrEqual(t, cfg.Width, 800, name)
		require.Greater(t, len(img), 10_000, "%s: a page, not a blank", name)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), img, 0o644))
	}
	shot("console-documents.png", "/admin/kb", "#documents")
	shot("console-unanswered.png", "/admin/kb/unanswered", "#unanswered")
	do(t, b, chromedp.Navigate(e.srv.URL+"/admin/kb/edit?name=parking.md"))
	waitFor(t, b, ready("#text"))
	do(t, b, chromedp.Click(chromedp.CSS("#preview")))
	shot("console-edit.png", "", "#rendered")
	shot("console-versions.png", "/admin/kb/versions?name=parking.md", "#diff")
	shot("console-inbox.png", "/admin/inbox", "#flags")
	shot("console-conversation.png", "/admin/inbox/"+itoa(p2)+"?card=1", "#card")
	shot("console-patient.png", "/admin/patients/"+itoa(rosa), "#card")
}
