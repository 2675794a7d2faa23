package admin_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

var jsonHdr = map[string]string{"Content-Type": "application/json"}

func (e *env) unanswered(t testing.TB, token string) []knowledge.UnansweredGroup {
	t.Helper()
	var groups []knowledge.UnansweredGroup
	require.Equal(t, 200, e.call(t, "GET", "/api/v1/kb/unanswered", token, nil, nil, &groups))
	return groups
}

func findGroup(groups []knowledge.UnansweredGroup, word string) (knowledge.UnansweredGroup, bool) {
	for _, g := range groups {
		if strings.Contains(strings.ToLower(g.Example), word) {
			return g, true
		}
	}
	return knowledge.UnansweredGroup{}, false
}

// TestUnansweredThroughTheAPI: two wordings of one question are one group
// with its count and languages; a FAQ entry appended through the API makes
// the bot answer it and the group leave the list; another group is
// dismissed with a reason (refused without one, 404 for a group that is
// gone); the audit trail names the token; staff may not.
func TestUnansweredThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		ed := e.token(t, "kb-bot", accounts.Editor)
		staff := e.token(t, "front-desk", accounts.Staff)
		e.patientSays(t, "u1", "Do you do botox?")
		e.patientSays(t, "u2", "Do you offer botox injections")
		e.patientSays(t, "u3", "Do you sell gift cards?")

		groups := e.unanswered(t, ed)
		require.Len(t, groups, 2, "%+v", groups)
		botoxGroup, ok := findGroup(groups, "botox")
		require.True(t, ok)
		require.Equal(t, 2, botoxGroup.Count)
		require.Equal(t, []string{"en"}, botoxGroup.Langs)
		require.False(t, botoxGroup.FirstAt.After(botoxGroup.LastAt))
		gifts, ok := findGroup(groups, "gift")
		require.True(t, ok)
		require.Equal(t, 403, e.call(t, "GET", "/api/v1/kb/unanswered", staff, nil, nil, nil))

		// Write the answer into the parking document as a new entry.
		entry := `{"question":"Do you offer botox injections?","answer":"Yes. Dr. Lee offers botox injections on Friday afternoons."}`
		require.Equal(t, 400, e.call(t, "POST", "/api/v1/kb/documents/parking.md/entries", ed, []byte(`{"question":"Botox?","answer":" "}`), jsonHdr, nil))
		require.Equal(t, 400, e.call(t, "POST", "/api/v1/kb/documents/parking.pdf/entries", ed, []byte(entry), jsonHdr, nil), "not a Markdown or text document")
		require.Equal(t, 200, e.call(t, "POST", "/api/v1/kb/documents/parking.md/entries", ed, []byte(entry), jsonHdr, nil))
		content, err := os.ReadFile(filepath.Join(e.dir, "parking.md"))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(content), parking[:len(parking)-1]), "appended, nothing lost")
		require.Contains(t, string(content), "\n\n## Do you offer botox injections?\n\nYes. Dr. Lee")
		a := e.ask(t, ed, "Do you do botox?")
		require.Equal(t, bot.ActionAnswer, a.Action, a.Answer)
		require.Contains(t, a.Answer, "Friday")
		groups = e.unanswered(t, ed)
		_, ok = findGroup(groups, "botox")
		require.False(t, ok, "answered now: the group left the list")

		// Dismiss the other group with a reason.
		path := "/api/v1/kb/unanswered/" + itoa(gifts.ID) + "/dismiss"
		require.Equal(t, 400, e.call(t, "POST", path, ed, []byte(`{"reason":"  "}`), jsonHdr, nil))
		require.Equal(t, 403, e.call(t, "POST", path, staff, []byte(`{"reason":"no"}`), jsonHdr, nil))
		var out struct{ Dismissed int }
		require.Equal(t, 200, e.call(t, "POST", path, ed, []byte(`{"reason":"we do not sell gift cards"}`), jsonHdr, &out))
		require.Equal(t, 1, out.Dismissed)
		require.Equal(t, 404, e.call(t, "POST", path, ed, []byte(`{"reason":"again"}`), jsonHdr, nil))
		require.Empty(t, e.unanswered(t, ed))

		rows, err := audit.List(context.Background(), db.Q(), audit.Filter{})
		require.NoError(t, err)
		var seen []string
		for _, r := range rows {
			if strings.HasPrefix(r.Action, "kb.unanswered.dismiss") || r.Action == "kb.document.entry" {
				seen = append(seen, r.Action+" "+r.Actor+" "+r.Subject)
				require.NotContains(t, string(r.Detail), "gift cards", "the reason is text, kept with the questions")
			}
		}
		require.Contains(t, seen, "kb.unanswered.dismissed token:kb-bot unanswered:"+itoa(gifts.ID))
		require.Contains(t, seen, "kb.document.entry token:kb-bot ")
		require.Equal(t, http.StatusOK, e.call(t, "GET", "/api/v1/kb/unanswered", ed, nil, nil, nil))
	})
}
