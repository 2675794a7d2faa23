// Package catalog holds every sentence the bot itself writes, per language,
// so that a clinic can reword or translate them without touching code.
//
// Each package that speaks to patients embeds its own message files
// (locales/active.<lang>.yaml, go-i18n's format) and registers them; a
// clinic's override directory (TEND_MESSAGES_DIR) is read last and wins.
// Templates see the clinic profile's fields ({{.Clinic}}, {{.Phone}}, ...)
// merged with the data passed for that message.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	i18ntemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// DefaultLanguage is used when a patient's language has no translation.
const DefaultLanguage = "en"

// Catalog looks up localized messages.
type Catalog struct {
	mu       sync.RWMutex
	bundle   *i18n.Bundle
	langs    map[string]bool
	ids      map[string]map[string]bool // lang -> message ids
	texts    map[string]map[string]*Entry
	sources  []source // every file loaded, in order, so Reword can rebuild
	defaults map[string]any
	log      *slog.Logger
	locs     map[string]*i18n.Localizer
}

// source is one loaded message file; override marks the clinic's own
// (TEND_MESSAGES_DIR), which win over the packages' defaults.
type source struct {
	name     string
	lang     string
	data     []byte
	override bool
}

// Entry is one message of a language as the catalog holds it: the text a
// package ships (Default, "" when only the clinic's files have it) and the
// clinic's override, if any.
type Entry struct {
	ID         string
	Default    string
	Override   string
	Overridden bool
}

// New returns an empty catalog; defaults are template data every message sees.
func New(defaults map[string]any, log *slog.Logger) *Catalog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Catalog{bundle: newBundle(), langs: map[string]bool{}, ids: map[string]map[string]bool{},
		texts: map[string]map[string]*Entry{}, defaults: defaults, log: log, locs: map[string]*i18n.Localizer{}}
}

func newBundle() *i18n.Bundle {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	return b
}

// AddFS loads every active.<lang>.yaml file at the root of fsys.
func (c *Catalog) AddFS(fsys fs.FS) error { return c.addFS(fsys, false) }

func (c *Catalog) addFS(fsys fs.FS, override bool) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return fmt.Errorf("catalog: %s: %w", e.Name(), err)
		}
		if err := c.addFile(e.Name(), data, override); err != nil {
			return err
		}
	}
	return nil
}

// Locales is the locales folder of a package's embedded message files
// (`//go:embed locales/*.yaml`), ready for AddFS: every package that speaks
// to patients ships its own and exports them through this one function.
func Locales(embedded fs.FS) fs.FS {
	sub, err := fs.Sub(embedded, "locales")
	if err != nil {
		panic(err) // only for an invalid name, which "locales" is not
	}
	return sub
}

// AddDir loads a clinic's override files from a directory on disk.
func (c *Catalog) AddDir(dir string) error {
	if dir == "" {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("catalog: messages directory: %w", err)
	}
	return c.addFS(os.DirFS(filepath.Clean(dir)), true)
}

func (c *Catalog) addFile(name string, data []byte, override bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	lang, err := c.load(c.bundle, name, data, override)
	if err != nil {
		return err
	}
	c.sources = append(c.sources, source{name: name, lang: lang, data: data, override: override})
	c.locs = map[string]*i18n.Localizer{} // templates changed
	return nil
}

// load parses a message file into b and records its messages (c.mu held).
func (c *Catalog) load(b *i18n.Bundle, name string, data []byte, override bool) (string, error) {
	mf, err := b.ParseMessageFileBytes(data, name)
	if err != nil {
		return "", fmt.Errorf("catalog: %s: %w", name, err)
	}
	base, conf := mf.Tag.Base()
	if conf != language.Exact || mf.Tag != language.Make(base.String()) { // "messages.yaml", "active.es-MX.yaml": never shown
		return "", fmt.Errorf("catalog: %s: name the file active.<language>.yaml (active.en.yaml, active.es.yaml, ...)", name)
	}
	lang := base.String()
	c.langs[lang] = true
	if c.ids[lang] == nil {
		c.ids[lang], c.texts[lang] = map[string]bool{}, map[string]*Entry{}
	}
	for _, m := range mf.Messages {
		for _, form := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} { // go-i18n parses on first use: too late
			if _, err := (&i18ntemplate.TextParser{}).Parse(form, m.LeftDelim, m.RightDelim); err != nil {
				return "", fmt.Errorf("catalog: %s: %s: %w", name, m.ID, err)
			}
		}
		c.ids[lang][m.ID] = true
		e := c.texts[lang][m.ID]
		if e == nil {
			e = &Entry{ID: m.ID}
			c.texts[lang][m.ID] = e
		}
		if override {
			e.Override, e.Overridden = m.Other, true
		} else {
			e.Default = m.Other
		}
	}
	return lang, nil
}

// Entries lists a language's messages, sorted by id, with the text each
// package ships and the clinic's override.
func (c *Catalog) Entries(lang string) []Entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Entry, 0, len(c.texts[lang]))
	for _, e := range c.texts[lang] {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ProfileFields are the template fields every message is given (the
// clinic profile's: Clinic, Phone, ...), sorted.
func (c *Catalog) ProfileFields() []string {
	out := make([]string, 0, len(c.defaults))
	for k := range c.defaults {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Reword replaces the clinic's override file of one language (data: the
// whole active.<lang>.yaml; empty: no overrides) while the bot runs. The
// catalog is rebuilt from every file it loaded, with this one swapped, and
// replaces the old one at once: a message being rendered meanwhile uses
// the old wording, never half of each. A file that does not parse
// changes nothing.
func (c *Catalog) Reword(lang string, data []byte) error {
	name := "active." + lang + ".yaml"
	c.mu.Lock()
	defer c.mu.Unlock()
	next := &Catalog{langs: map[string]bool{}, ids: map[string]map[string]bool{}, texts: map[string]map[string]*Entry{}}
	b := newBundle()
	var sources []source
	for _, s := range c.sources {
		if s.override && s.lang == lang {
			continue
		}
		if _, err := next.load(b, s.name, s.data, s.override); err != nil {
			return err
		}
		sources = append(sources, s)
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		got, err := next.load(b, name, data, true)
		if err != nil {
			return err
		}
		if got != lang {
			return fmt.Errorf("catalog: %s: the file is for %q", name, got)
		}
		sources = append(sources, source{name: name, lang: lang, data: data, override: true})
	}
	c.bundle, c.langs, c.ids, c.texts, c.sources = b, next.langs, next.ids, next.texts, sources
	c.locs = map[string]*i18n.Localizer{}
	return nil
}

// Languages lists the languages with messages, sorted.
func (c *Catalog) Languages() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.langs))
	for l := range c.langs {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Supports reports whether lang has messages.
func (c *Catalog) Supports(lang string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.langs[lang]
}

// Match picks the supported language for a locale such as "es-MX" or "en_US";
// unknown or empty locales get the default.
func (c *Catalog) Match(locale string) string {
	locale = strings.ReplaceAll(strings.TrimSpace(locale), "_", "-")
	if locale == "" {
		return DefaultLanguage
	}
	tag, err := language.Parse(locale)
	if err != nil {
		return DefaultLanguage
	}
	base, _ := tag.Base()
	if c.Supports(base.String()) {
		return base.String()
	}
	return DefaultLanguage
}

// Has reports whether a message exists in lang.
func (c *Catalog) Has(lang, id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ids[lang][id]
}

// Text renders message id in lang with data merged over the defaults. A
// missing translation falls back to English; a missing message is logged and
// rendered as its id, which tests catch.
func (c *Catalog) Text(lang, id string, data map[string]any) string {
	merged := make(map[string]any, len(c.defaults)+len(data))
	for k, v := range c.defaults {
		merged[k] = v
	}
	for k, v := range data {
		merged[k] = v
	}
	s, err := c.localizer(lang).Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: merged})
	if err != nil {
		var notFound *i18n.MessageNotFoundErr
		if errors.As(err, &notFound) && s != "" {
			return s // rendered in the fallback language
		}
		c.log.Error("catalog message missing", "id", id, "lang", lang, "error", err)
		return id
	}
	return s
}

func (c *Catalog) localizer(lang string) *i18n.Localizer {
	c.mu.RLock()
	l := c.locs[lang]
	c.mu.RUnlock()
	if l != nil {
		return l
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l = i18n.NewLocalizer(c.bundle, lang, DefaultLanguage)
	c.locs[lang] = l
	return l
}

// Missing lists ids present in the default language but absent from lang.
func (c *Catalog) Missing(lang string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for id := range c.ids[DefaultLanguage] {
		if !c.ids[lang][id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
