package admin_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

type documents struct {
	Folder    bool `json:"folder"`
	Documents []struct {
		Name, Title, Status, Error, ETag string
		Version, Chunks                  int
	} `json:"documents"`
}

func (d documents) find(name string) (int, bool) {
	for i, x := range d.Documents {
		if x.Name == name {
			return i, true
		}
	}
	return -1, false
}

const botox = "# Cosmetic treatments\n\n## Do you offer botox injections?\n\n" +
	"Yes. Dr. Lee offers botox injections on Friday afternoons; book a consultation first.\n"

// TestDocumentsThroughTheAPI: an editor's token uploads, replaces and
// deletes documents; the bot answers from a new one as soon as the PUT
// returns; a broken upload is refused and the served version stays; a
// stale If-Match is refused; a question the documents now answer leaves
// the unanswered list; roles are enforced and the audit trail names the
// token.
func TestDocumentsThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		ed := e.token(t, "kb-bot", accounts.Editor)
		staff := e.token(t, "front-desk", accounts.Staff)

		var docs documents
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/kb/documents", ed, nil, nil, &docs))
		require.True(t, docs.Folder)
		i, ok := docs.find("parking.md")
		require.True(t, ok)
		require.Equal(t, "synced", docs.Documents[i].Status)
		require.Equal(t, "Parking", docs.Documents[i].Title)
		require.Positive(t, docs.Documents[i].Chunks)
		require.Equal(t, 403, e.call(t, "GET", "/api/v1/kb/documents", staff, nil, nil, nil), "not staff's")
		require.Equal(t, 401, e.call(t, "GET", "/api/v1/kb/documents", "tend_nope", nil, nil, nil))

		a := e.ask(t, ed, "Where can I park?")
		require.Equal(t, bot.ActionAnswer, a.Action, a.Answer)
		require.Contains(t, a.Answer, "Elm Street")

		// A question nothing answers yet is listed as unanswered.
		a = e.ask(t, ed, "Do you offer botox injections?")
		require.NotEqual(t, bot.ActionAnswer, a.Action, a.Answer)
		var groups []struct{ Example string }
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/kb/unanswered", ed, nil, nil, &groups))
		require.Len(t, groups, 1)
		require.Equal(t, "Do you offer botox injections?", groups[0].Example)

		// The answer, written into a new document.
		require.Equal(t, 201, e.call(t, "PUT", "/api/v1/kb/documents/botox.md", ed, []byte(botox), nil, nil))
		a = e.ask(t, ed, "Do you offer botox injections?")
		require.Equal(t, bot.ActionAnswer, a.Action, a.Answer)
		require.Contains(t, a.Answer, "Friday")
		require.Equal(t, "botox.md", a.Sources[0].Document)
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/kb/unanswered", ed, nil, nil, &groups))
		require.Empty(t, groups, "answered now: it leaves the list")
		content, err := os.ReadFile(filepath.Join(e.dir, "botox.md"))
		require.NoError(t, err)
		require.Equal(t, botox, string(content), "the folder is the source of truth")

		// A broken replacement is refused; the served version stays.
		code := e.call(t, "PUT", "/api/v1/kb/documents/botox.docx", ed, []byte("not a zip"), nil, nil)
		require.Equal(t, http.StatusUnprocessableEntity, code)
		require.NoFileExists(t, filepath.Join(e.dir, "botox.docx"))
		require.Equal(t, 400, e.call(t, "PUT", "/api/v1/kb/documents/..%2Fescape.md", ed, []byte(botox), nil, nil))
		require.Equal(t, 400, e.call(t, "PUT", "/api/v1/kb/documents/notes.exe", ed, []byte(botox), nil, nil))

		// Replace with the version one started from; a stale one is refused.
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/kb/documents", ed, nil, nil, &docs))
		i, _ = docs.find("botox.md")
		etag := docs.Documents[i].ETag
		require.NoError(t, os.WriteFile(filepath.Join(e.dir, "botox.md"), []byte(botox+"\nWalk-ins welcome.\n"), 0o644))
		require.Equal(t, http.StatusConflict, e.call(t, "PUT", "/api/v1/kb/documents/botox.md", ed, []byte(botox), map[string]string{"If-Match": `"` + etag + `"`}, nil),
			"the folder changed since")
		require.Equal(t, 200, e.call(t, "PUT", "/api/v1/kb/documents/botox.md", ed, []byte(botox), nil, nil), "no If-Match: last write wins")

		require.Equal(t, 204, e.call(t, "DELETE", "/api/v1/kb/documents/botox.md", ed, nil, nil, nil))
		require.Equal(t, 404, e.call(t, "DELETE", "/api/v1/kb/documents/botox.md", ed, nil, nil, nil))
		a = e.ask(t, ed, "Do you offer botox injections?")
		require.NotContains(t, a.Answer, "Friday")

		rows, err := audit.List(context.Background(), db.Q(), audit.Filter{})
		require.NoError(t, err)
		var actors []string
		for _, r := range rows {
			if r.Action == "kb.document.save" || r.Action == "kb.ask" {
				actors = append(actors, r.Actor)
			}
		}
		require.Contains(t, actors, "token:kb-bot")
		require.NotContains(t, strings.Join(actors, " "), "admin-token")
	})
}

// TestFolderChangesAreSynced: a file written into TEND_KB_DIR by someone
// else (git, a shared drive) is indexed within seconds; one that does not
// parse is shown as failed with its reason, and its old version stays.
func TestFolderChangesAreSynced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t), nil)
	ed := e.token(t, "kb-bot", accounts.Editor)
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "botox.md"), []byte(botox), 0o644))
	var docs documents
	require.Eventually(t, func() bool {
		e.call(t, "GET", "/api/v1/kb/documents", ed, nil, nil, &docs)
		i, ok := docs.find("botox.md")
		return ok && docs.Documents[i].Status == "synced"
	}, 5*time.Second, 50*time.Millisecond)
	require.Contains(t, e.ask(t, ed, "Do you offer botox injections?").Answer, "Friday")

	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "broken.pdf"), []byte("%PDF-1.4 not really"), 0o644))
	require.Eventually(t, func() bool {
		e.call(t, "GET", "/api/v1/kb/documents", ed, nil, nil, &docs)
		i, ok := docs.find("broken.pdf")
		return ok && docs.Documents[i].Status == "failed" && docs.Documents[i].Error != ""
	}, 5*time.Second, 50*time.Millisecond)
}

// TestHandoffsThroughTheAPI: a patient's request for a person is in the
// inbox; a staff token takes it, replies (the patient gets the words) and
// resolves it; an editor may not see it.
func TestHandoffsThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		staff := e.token(t, "anna", accounts.Staff)
		ed := e.token(t, "kb-bot", accounts.Editor)
		e.patientSays(t, "p1", "I want to talk to a person")
		var items []struct {
			ID             int64
			ConversationID int64 `json:"conversation_id"`
			Status, Reason string
		}
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/handoffs", staff, nil, nil, &items))
		require.Len(t, items, 1)
		require.Equal(t, "open", items[0].Status)
		require.Equal(t, 403, e.call(t, "GET", "/api/v1/handoffs", ed, nil, nil, nil))
		path := "/api/v1/handoffs/" + itoa(items[0].ID)
		json := map[string]string{"Content-Type": "application/json"}
		require.Equal(t, 409, e.call(t, "POST", path+"/reply", staff, []byte(`{"text":"hi"}`), json, nil), "take it first")
		require.Equal(t, 200, e.call(t, "POST", path+"/take", staff, nil, nil, nil))
		require.Equal(t, 200, e.call(t, "POST", path+"/reply", staff, []byte(`{"text":"Hello, this is the front desk."}`), json, nil))
		require.Equal(t, 400, e.call(t, "POST", path+"/reply", staff, []byte(`{"text":""}`), json, nil))

		// The bot stays quiet while staff own the conversation; staff see
		// the patient's words.
		require.Empty(t, e.patientSays(t, "p1", "thanks, my ticket is lost"))
		var d struct {
			Transcript []struct{ Role, Text, From string }
		}
		require.Equal(t, 200, e.call(t, "GET", path, staff, nil, nil, &d))
		var texts []string
		for _, l := range d.Transcript {
			texts = append(texts, l.Role+": "+l.Text)
		}
		require.Contains(t, texts, "staff: Hello, this is the front desk.")
		require.Contains(t, texts, "patient: thanks, my ticket is lost")

		hist, err := e.a.Engine.History(context.Background(), items[0].ConversationID, 0, 100)
		require.NoError(t, err)
		var staffReply *bot.Sent
		for i := range hist {
			if hist[i].Kind == bot.KindStaff {
				staffReply = &hist[i]
			}
		}
		require.NotNil(t, staffReply, "the reply reaches the patient's conversation")
		require.Equal(t, "Anna from Maple Grove Family Clinic", staffReply.From, "the token's name signs the reply")

		require.Equal(t, 200, e.call(t, "POST", path+"/resolve", staff, nil, nil, nil))
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/handoffs", staff, nil, nil, &items))
		require.Empty(t, items)
		require.NotEmpty(t, e.patientSays(t, "p1", "Where can I park?"), "back with the bot")
	})
}
