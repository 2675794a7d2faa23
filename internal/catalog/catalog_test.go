package catalog_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/catalog"
)

// files is a package's locales directory as it embeds it: an English file,
// a Spanish one missing a message, and things AddFS must leave alone.
func files() fstest.MapFS {
	return fstest.MapFS{
		"active.en.yaml": {Data: []byte(`greet: "Hello from {{.Clinic}}, {{.Name}}."
call: "Call us at {{.Phone}}."
only_en: "Only in English."
`)},
		"active.es.yaml": {Data: []byte(`greet: "Hola de {{.Clinic}}, {{.Name}}."
call: "Llámenos al {{.Phone}}."
`)},
		"README.md":             {Data: []byte("not a catalog file")},
		"drafts/active.fr.yaml": {Data: []byte(`greet: "Bonjour"`)},
	}
}

var defaults = map[string]any{"Clinic": "Maple Grove", "Phone": "(555) 014-2000"}

func newCatalog(t *testing.T, log *slog.Logger) *catalog.Catalog {
	t.Helper()
	c := catalog.New(defaults, log)
	require.NoError(t, c.AddFS(files()))
	return c
}

// AddFS reads the active.<lang>.yaml files at the root only: other files
// and sub-directories are not languages.
func TestAddFSLoadsLanguages(t *testing.T) {
	t.Parallel()
	c := newCatalog(t, nil)
	require.Equal(t, []string{"en", "es"}, c.Languages())
	require.True(t, c.Supports("en"))
	require.True(t, c.Supports("es"))
	require.False(t, c.Supports("fr"), "a file in a sub-directory is not loaded")
	require.False(t, c.Supports(""))

	require.True(t, c.Has("en", "only_en"))
	require.False(t, c.Has("es", "only_en"))
	require.True(t, c.Has("es", "greet"))
	require.False(t, c.Has("en", "nosuch"))
	require.False(t, c.Has("fr", "greet"))

	empty := catalog.New(nil, nil)
	require.Empty(t, empty.Languages())
	require.Equal(t, catalog.DefaultLanguage, empty.Match("es-MX"), "nothing loaded: everyone gets the default")
}

// Locales is what a package embeds as locales/*.yaml, seen from inside the
// folder: AddFS finds its files at the root.
func TestLocales(t *testing.T) {
	t.Parallel()
	embedded := fstest.MapFS{}
	for name, f := range files() {
		embedded["locales/"+name] = f
	}
	c := catalog.New(defaults, nil)
	require.NoError(t, c.AddFS(catalog.Locales(embedded)))
	require.Equal(t, []string{"en", "es"}, c.Languages())
}

// Match turns what a channel reports (Telegram's "es", a browser's
// "es-MX", LANG's "es_MX") into a language the catalog has.
func TestMatch(t *testing.T) {
	t.Parallel()
	c := newCatalog(t, nil)
	for _, tc := range []struct{ locale, want string }{
		{"es", "es"},
		{"es-MX", "es"},
		{"es_MX", "es"},
		{"es-419", "es"},
		{"ES", "es"},
		{" es_US ", "es"},
		{"en", "en"},
		{"en-GB", "en"},
		{"fr-CA", "en"},   // not translated: the default
		{"pt_BR", "en"},   // not translated: the default
		{"", "en"},        // unknown
		{"  ", "en"},      // unknown
		{"C.UTF-8", "en"}, // what LANG may hold
		{"xx-!!", "en"},   // not a locale
		{"zh-Hant-TW", "en"},
	} {
		require.Equal(t, tc.want, c.Match(tc.locale), "Match(%q)", tc.locale)
	}
}

// Text renders in the patient's language with the clinic's fields; the
// caller's data wins over them; a message not yet translated comes out in
// English; a message that does not exist comes out as its id and is logged.
func TestText(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	c := newCatalog(t, slog.New(slog.NewTextHandler(&logged, nil)))
	for _, tc := range []struct {
		name, lang, id string
		data           map[string]any
		want           string
	}{
		{"English with defaults and data", "en", "greet", map[string]any{"Name": "Ana"}, "Hello from Maple Grove, Ana."},
		{"Spanish", "es", "greet", map[string]any{"Name": "Ana"}, "Hola de Maple Grove, Ana."},
		{"data overrides a default", "en", "greet", map[string]any{"Name": "Bo", "Clinic": "North Clinic"}, "Hello from North Clinic, Bo."},
		{"defaults alone", "es", "call", nil, "Llámenos al (555) 014-2000."},
		{"untranslated message falls back to English", "es", "only_en", nil, "Only in English."},
		{"unsupported language gets English", "fr", "call", nil, "Call us at (555) 014-2000."},
		{"empty language gets English", "", "call", nil, "Call us at (555) 014-2000."},
	} {
		require.Equal(t, tc.want, c.Text(tc.lang, tc.id, tc.data), tc.name)
	}
	require.Empty(t, logged.String(), "nothing is missing so far")

	require.Equal(t, "nosuch.message", c.Text("es", "nosuch.message", nil))
	require.Contains(t, logged.String(), "catalog message missing")
	require.Contains(t, logged.String(), "id=nosuch.message")
	require.Contains(t, logged.String(), "lang=es")

	// The caller's map is not changed by the merge, and defaults are not
	// changed by a caller's data.
	data := map[string]any{"Name": "Ana"}
	c.Text("en", "greet", data)
	require.Equal(t, map[string]any{"Name": "Ana"}, data)
	require.Equal(t, "Call us at 1.", c.Text("en", "call", map[string]any{"Phone": "1"}))
	require.Equal(t, "Call us at (555) 014-2000.", c.Text("en", "call", nil))
}

// Missing lists what a translator still has to do, sorted; the default
// language itself is never missing anything.
func TestMissing(t *testing.T) {
	t.Parallel()
	c := newCatalog(t, nil)
	require.Empty(t, c.Missing("en"))
	require.Equal(t, []string{"only_en"}, c.Missing("es"))
	require.Equal(t, []string{"call", "greet", "only_en"}, c.Missing("fr"), "a language with no file misses everything")

	require.NoError(t, c.AddFS(fstest.MapFS{"active.es.yaml": {Data: []byte(`only_en: "Solo en inglés."`)}}))
	require.Empty(t, c.Missing("es"), "a second file for a language adds to it")
	require.Equal(t, "Hola de Maple Grove, Ana.", c.Text("es", "greet", map[string]any{"Name": "Ana"}), "and keeps what the first had")
	require.Equal(t, "Solo en inglés.", c.Text("es", "only_en", nil))
}

// A clinic's override directory (TEND_MESSAGES_DIR) is loaded last and
// wins, message by message; it may add a language of its own.
func TestAddDirOverrides(t *testing.T) {
	t.Parallel()
	c := newCatalog(t, nil)
	require.Equal(t, "Hello from Maple Grove, Ana.", c.Text("en", "greet", map[string]any{"Name": "Ana"}), "rendered once before the override: cached localizers must not keep the old text")

	dir := t.TempDir()
	write(t, dir, "active.en.yaml", `greet: "Welcome to {{.Clinic}}!"`)
	write(t, dir, "active.fr.yaml", `greet: "Bienvenue chez {{.Clinic}} !"`)
	write(t, dir, "notes.txt", `greet: "ignored"`)
	require.NoError(t, c.AddDir(dir))

	require.Equal(t, "Welcome to Maple Grove!", c.Text("en", "greet", nil))
	require.Equal(t, "Call us at (555) 014-2000.", c.Text("en", "call", nil), "messages the override does not name keep their text")
	require.Equal(t, "Hola de Maple Grove, Ana.", c.Text("es", "greet", map[string]any{"Name": "Ana"}), "other languages keep theirs")
	require.Equal(t, []string{"en", "es", "fr"}, c.Languages())
	require.Equal(t, "fr", c.Match("fr-CA"))
	require.Equal(t, "Bienvenue chez Maple Grove !", c.Text("fr", "greet", nil))
	require.Equal(t, "Call us at (555) 014-2000.", c.Text("fr", "call", nil), "the rest falls back to English")
	require.Equal(t, []string{"call", "only_en"}, c.Missing("fr"))

	require.NoError(t, c.AddDir(""), "no override directory configured")
	err := c.AddDir(filepath.Join(dir, "nosuch"))
	require.ErrorContains(t, err, "catalog: messages directory")
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// A bad file stops the start with an error that names it. A file whose
// name holds no language, or a regional one, is refused rather than read:
// go-i18n files "messages.yaml" under no language (which Base guesses to be
// English) and "active.es-MX.yaml" under es-MX, while conversations speak
// "es", so either would be recorded as a translation (Has, Missing) and never
// shown to a patient: a clinic's override that silently does nothing.
func TestAddFSErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, body string
	}{
		{"not YAML", "active.en.yaml", "greet: [unclosed"},
		{"a single value, not messages", "active.en.yaml", `"hello"`},
		{"a name that is no language", "messages.yaml", `greet: "hi"`},
		{"no language in the name", "active.yaml", `greet: "hi"`},
		{"a language spelled out", "active.spanish.yaml", `greet: "hola"`},
		{"a regional file", "active.es-MX.yaml", `greet: "¿Qué onda?"`},
	} {
		c := catalog.New(nil, nil)
		require.NoError(t, c.AddFS(fstest.MapFS{"active.en.yaml": {Data: []byte(`greet: "Hello"`)}}))
		err := c.AddFS(fstest.MapFS{tc.file: {Data: []byte(tc.body)}})
		require.Error(t, err, tc.name)
		require.ErrorContains(t, err, "catalog: "+tc.file, tc.name)
		require.Equal(t, "Hello", c.Text("en", "greet", nil), tc.name)
	}
}

// A clinic's override with a broken template ("{{.Clinic" unclosed) must
// stop the start, as every other bad setting does. Today it is accepted
// and every patient who should read that sentence reads its id instead
// ("greet"): go-i18n parses templates only when a message is rendered.
func TestBrokenTemplateStopsTheStart(t *testing.T) {
	t.Parallel()
	c := newCatalog(t, nil)
	dir := t.TempDir()
	write(t, dir, "active.en.yaml", `greet: "Welcome to {{.Clinic"`)
	err := c.AddDir(dir)
	require.Error(t, err, "the override is accepted; patients would be sent %q", c.Text("en", "greet", nil))
	require.ErrorContains(t, err, "active.en.yaml")
	require.ErrorContains(t, err, "greet")
}

// Catalogs are shared by every turn of every conversation: lookups run
// concurrently with each other and with loading (go test -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c := newCatalog(t, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				lang := []string{"en", "es", "fr"}[(i+j)%3]
				_ = c.Text(lang, "greet", map[string]any{"Name": fmt.Sprint(j)})
				_ = c.Has(lang, "call")
				_ = c.Match("es-MX")
				_ = c.Missing(lang)
			}
		}()
	}
	for i := range 5 {
		require.NoError(t, c.AddFS(fstest.MapFS{"active.de.yaml": {Data: []byte(fmt.Sprintf("greet: \"Hallo %d\"\n", i))}}))
	}
	wg.Wait()
	require.Equal(t, "Hallo 4", c.Text("de", "greet", nil))
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body+"\n"), 0o600))
}

// Reword swaps a language's override file while the bot runs: the new
// wording is used at once, Entries shows each message's shipped text and
// override, a message taken out of the file gets its shipped text back, a
// broken file changes nothing, and lookups meanwhile never see half of it
// (go test -race).
func TestReword(t *testing.T) {
	t.Parallel()
	c := newCatalog(t, nil)
	dir := t.TempDir()
	write(t, dir, "active.en.yaml", `greet: "Welcome to {{.Clinic}}, {{.Name}}!"`)
	require.NoError(t, c.AddDir(dir))
	entries := c.Entries("en")
	require.Equal(t, []catalog.Entry{
		{ID: "call", Default: "Call us at {{.Phone}}."},
		{ID: "greet", Default: "Hello from {{.Clinic}}, {{.Name}}.", Override: "Welcome to {{.Clinic}}, {{.Name}}!", Overridden: true},
		{ID: "only_en", Default: "Only in English."},
	}, entries)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got := c.Text("en", "call", nil)
			if got != "Call us at (555) 014-2000." && got != "Ring (555) 014-2000 any time." {
				panic("half a reword: " + got)
			}
		}
	}()
	require.NoError(t, c.Reword("en", []byte("call: \"Ring {{.Phone}} any time.\"\n")))
	close(stop)
	wg.Wait()
	require.Equal(t, "Ring (555) 014-2000 any time.", c.Text("en", "call", nil))
	require.Equal(t, "Hello from Maple Grove, Ana.", c.Text("en", "greet", map[string]any{"Name": "Ana"}), "taken out of the file: shipped text again")
	require.Equal(t, "Hola de Maple Grove, Ana.", c.Text("es", "greet", map[string]any{"Name": "Ana"}), "other languages untouched")

	require.Error(t, c.Reword("en", []byte(`call: "Ring {{.Phone"`)))
	require.Error(t, c.Reword("en", []byte(`call: [unclosed`)))
	require.Equal(t, "Ring (555) 014-2000 any time.", c.Text("en", "call", nil), "a broken file changes nothing")

	require.NoError(t, c.Reword("en", nil))
	require.Equal(t, "Call us at (555) 014-2000.", c.Text("en", "call", nil))
	for _, e := range c.Entries("en") {
		require.False(t, e.Overridden, e.ID)
	}
	require.Equal(t, []string{"Clinic", "Phone"}, c.ProfileFields())
}
