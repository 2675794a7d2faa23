package admin_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

type versionRow struct {
	Version        int
	Action, Author string
	Deleted        bool
	Size           int
	SHA256         string
}

func (e *env) versions(t testing.TB, token, name string) []versionRow {
	t.Helper()
	var vs []versionRow
	require.Equal(t, 200, e.call(t, "GET", "/api/v1/kb/documents/"+name+"/versions", token, nil, nil, &vs))
	return vs
}

// TestVersionsThroughTheAPI: each save is a new version with its author;
// a change made in the folder is recorded before the next console save; a
// diff shows what changed; restoring an old version (or a deleted
// document) is a new version the bot answers from; the deletion itself
// cannot be restored; staff may not read versions.
func TestVersionsThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		ed := e.token(t, "kb-bot", accounts.Editor)
		staff := e.token(t, "front-desk", accounts.Staff)

		require.Equal(t, 201, e.call(t, "PUT", "/api/v1/kb/documents/botox.md", ed, []byte(botox), nil, nil))
		vs := e.versions(t, ed, "botox.md")
		require.Len(t, vs, 1)
		require.Equal(t, versionRow{Version: 1, Action: "api", Author: "token:kb-bot", Size: len(botox), SHA256: vs[0].SHA256}, vs[0])

		friday := strings.Replace(botox, "Friday afternoons", "Tuesday mornings", 1)
		require.Equal(t, 200, e.call(t, "PUT", "/api/v1/kb/documents/botox.md", ed, []byte(friday), nil, nil))
		code, d := e.page(t, "/api/v1/kb/documents/botox.md/versions/2/diff", ed)
		require.Equal(t, 200, code)
		require.Contains(t, d, "-Yes. Dr. Lee offers botox injections on Friday afternoons")
		require.Contains(t, d, "+Yes. Dr. Lee offers botox injections on Tuesday mornings")
		require.NotContains(t, d, "-# Cosmetic treatments", "unchanged lines are context")

		// Changed in the folder, then saved in the console: both versions.
		require.NoError(t, os.WriteFile(filepath.Join(e.dir, "botox.md"), []byte(friday+"\nWalk-ins welcome.\n"), 0o644))
		require.Equal(t, 200, e.call(t, "PUT", "/api/v1/kb/documents/botox.md", ed, []byte(friday+"\nBook ahead.\n"), nil, nil))
		vs = e.versions(t, ed, "botox.md")
		require.Len(t, vs, 4)
		require.Equal(t, "changed in the folder", vs[1].Action)
		require.Equal(t, "folder", vs[1].Author)
		code, d = e.page(t, "/api/v1/kb/documents/botox.md/versions/4/diff", ed)
		require.Equal(t, 200, code)
		require.Contains(t, d, "-Walk-ins welcome.\n+Book ahead.")

		// Restore version 1 over the current one (If-Match: the current).
		code, cur := e.page(t, "/api/v1/kb/documents/botox.md", ed)
		require.Equal(t, 200, code)
		require.Contains(t, cur, "Book ahead.")
		require.Equal(t, 409, e.call(t, "POST", "/api/v1/kb/documents/botox.md/versions/1/restore", ed, nil, map[string]string{"If-Match": `"` + vs[3].SHA256 + `"`}, nil),
			"stale: version 1 is not the folder's copy")
		var out struct{ Restored, Version int }
		require.Equal(t, 200, e.call(t, "POST", "/api/v1/kb/documents/botox.md/versions/1/restore", ed, nil, map[string]string{"If-Match": `"` + vs[0].SHA256 + `"`}, &out))
		require.Equal(t, 5, out.Version)
		content, err := os.ReadFile(filepath.Join(e.dir, "botox.md"))
		require.NoError(t, err)
		require.Equal(t, botox, string(content))
		require.Contains(t, e.ask(t, ed, "Do you offer botox injections?").Answer, "Friday")
		require.Equal(t, "restore of 1", e.versions(t, ed, "botox.md")[0].Action)

		// Deleted, then restored.
		require.Equal(t, 204, e.call(t, "DELETE", "/api/v1/kb/documents/botox.md", ed, nil, nil, nil))
		vs = e.versions(t, ed, "botox.md")
		require.True(t, vs[0].Deleted)
		require.Equal(t, 6, vs[0].Version)
		code, _ = e.page(t, "/api/v1/kb/documents/botox.md/versions/6", ed)
		require.Equal(t, http.StatusGone, code)
		require.Equal(t, 409, e.call(t, "POST", "/api/v1/kb/documents/botox.md/versions/6/restore", ed, nil, nil, nil), "the deletion itself")
		require.Equal(t, 404, e.call(t, "POST", "/api/v1/kb/documents/botox.md/versions/60/restore", ed, nil, nil, nil))
		require.Equal(t, 200, e.call(t, "POST", "/api/v1/kb/documents/botox.md/versions/5/restore", ed, nil, nil, nil))
		require.Contains(t, e.ask(t, ed, "Do you offer botox injections?").Answer, "Friday")
		code, v1 := e.page(t, "/api/v1/kb/documents/botox.md/versions/1", ed)
		require.Equal(t, 200, code)
		require.Equal(t, botox, v1)

		require.Equal(t, 403, e.call(t, "GET", "/api/v1/kb/documents/botox.md/versions", staff, nil, nil, nil))
		code, _ = e.page(t, "/api/v1/kb/documents/nothing.md/versions/1/diff", ed)
		require.Equal(t, 404, code)
	})
}
