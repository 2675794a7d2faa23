package admin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

type wordingList struct {
	Editable bool
	Messages []struct {
		ID, Default, Override, Text string
		Overridden                  bool
		Placeholders                []string
	}
}

func (w wordingList) text(id string) string {
	for _, m := range w.Messages {
		if m.ID == id {
			return m.Text
		}
	}
	return ""
}

// TestWordingThroughTheAPI: an editor rewords one of the bot's sentences
// and the bot says it at once; the clinic's file keeps its comments and
// other messages; a wording that drops a placeholder, adds one the
// message is not given, or does not parse is refused with the reason (a
// clinic profile field may be added); a reset brings the shipped wording
// back; staff may not.
func TestWordingThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		own := "# Our own wording\nfaq.button.menu: \"Back to the menu\"\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "active.en.yaml"), []byte(own), 0o644))
		e := newEnv(t, db, map[string]string{"TEND_MESSAGES_DIR": dir})
		ed := e.token(t, "kb-bot", accounts.Editor)
		staff := e.token(t, "front-desk", accounts.Staff)

		var list wordingList
		require.Equal(t, 200, e.call(t, "GET", "/api/v1/wording?lang=en", ed, nil, nil, &list))
		require.True(t, list.Editable)
		require.Equal(t, "Back to the menu", list.text("faq.button.menu"))
		require.Contains(t, list.text("faq.not_sure"), "I'm not sure about that")
		require.Equal(t, 403, e.call(t, "GET", "/api/v1/wording?lang=en", staff, nil, nil, nil))
		require.Equal(t, 404, e.call(t, "GET", "/api/v1/wording?lang=xx", ed, nil, nil, nil))

		put := func(lang, id, text string) (int, string) {
			b := []byte(`{"text":` + quote(text) + `}`)
			return e.callErr(t, "PUT", "/api/v1/wording/"+lang+"/"+id, ed, b)
		}
		code, msg := put("en", "faq.source", "Source: {{.Title}}")
		require.Equal(t, 400, code)
		require.Contains(t, msg, "drops {{.Section}}, {{.Updated}}")
		code, msg = put("en", "faq.source", "Source: {{.Title}} › {{.Section}} {{.Updated}} {{.Author}}")
		require.Equal(t, 400, code)
		require.Contains(t, msg, "adds {{.Author}}, which this message is not given")
		code, msg = put("en", "faq.not_sure", "Not sure, sorry. Call us at {{.Phone")
		require.Equal(t, 400, code)
		require.Contains(t, msg, "not a valid template")
		code, _ = put("en", "faq.nosuch", "Hello")
		require.Equal(t, 404, code)

		code, msg = put("en", "faq.not_sure", "Not sure, sorry. Call {{.Clinic}} at {{.Phone}}.")
		require.Equal(t, 200, code, msg)
		r := e.patientSays(t, "w1", "Do you sell gift cards?")
		require.Equal(t, "Not sure, sorry. Call Maple Grove Family Clinic at (555) 014-2000.", r[0].Text)
		file, err := os.ReadFile(filepath.Join(dir, "active.en.yaml"))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(file), own), "comments and other messages kept: %s", file)
		require.Contains(t, string(file), `faq.not_sure: "Not sure, sorry. Call {{.Clinic}} at {{.Phone}}."`)

		code, msg = put("es", "faq.not_sure", "No estoy seguro. Llame al {{.Phone}}.")
		require.Equal(t, 200, code, msg)
		require.FileExists(t, filepath.Join(dir, "active.es.yaml"))

		require.Equal(t, 204, e.call(t, "DELETE", "/api/v1/wording/en/faq.not_sure", ed, nil, nil, nil))
		r = e.patientSays(t, "w2", "Do you sell gift cards?")
		require.Contains(t, r[0].Text, "I'm not sure about that")
		file, err = os.ReadFile(filepath.Join(dir, "active.en.yaml"))
		require.NoError(t, err)
		require.Equal(t, own, string(file))
		require.Equal(t, 403, e.call(t, "DELETE", "/api/v1/wording/en/faq.button.menu", staff, nil, nil, nil))
	})
}
