package admin

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/httpserver"
)

// Message wording: the bot's own sentences per language, as the packages
// ship them, and the clinic's rewording in TEND_MESSAGES_DIR
// (active.<lang>.yaml, go-i18n's format: one "id: text" line each). A
// change is written into that file, versioned like a document, and put in
// force at once (catalog.Reword). The file is edited in place, one message
// at a time, so its comments and the messages not touched stay as they
// are. A change made to the file outside the console is read at the next
// start, or with the next console change of that language.

// wordingRow is one message as the page and the API show it.
type wordingRow struct {
	ID         string   `json:"id"`
	Default    string   `json:"default"`
	Override   string   `json:"override,omitempty"`
	Overridden bool     `json:"overridden"`
	Text       string   `json:"text"` // what the bot says now
	Fields     []string `json:"placeholders"`
}

var placeholderRe = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)`)
var actionRe = regexp.MustCompile(`\{\{.*?\}\}`)

// placeholders are the fields a template uses ({{.Time}}, {{if .Updated}}),
// sorted and unique.
func placeholders(text string) []string {
	var out []string
	for _, action := range actionRe.FindAllString(text, -1) {
		for _, m := range placeholderRe.FindAllStringSubmatch(action, -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

func braces(fields []string) string {
	var b []string
	for _, f := range fields {
		b = append(b, "{{."+f+"}}")
	}
	return strings.Join(b, ", ")
}

// checkWording refuses a new text that would not render as the shipped one
// does: a template that does not parse, one that drops a placeholder the
// bot fills in, or one that adds a field this message is not given (the
// clinic profile's fields, which every message is given, may be added).
func checkWording(ref, text string, profile []string) error {
	if strings.TrimSpace(text) == "" {
		return userError("the text is empty; use Reset to go back to the shipped wording")
	}
	if len([]rune(text)) > 2000 {
		return userError("a message is at most 2,000 characters")
	}
	if _, err := template.New("m").Option("missingkey=zero").Parse(text); err != nil {
		return userError("the text is not a valid template: " + strings.TrimPrefix(err.Error(), "template: m:"))
	}
	want, got := placeholders(ref), placeholders(text)
	var dropped, added []string
	for _, f := range want {
		if !slices.Contains(got, f) {
			dropped = append(dropped, f)
		}
	}
	for _, f := range got {
		if !slices.Contains(want, f) && !slices.Contains(profile, f) {
			added = append(added, f)
		}
	}
	switch {
	case len(dropped) > 0:
		return userError("the new wording drops " + braces(dropped) + ": the bot fills it in for the patient; keep it")
	case len(added) > 0:
		return userError("the new wording adds " + braces(added) + ", which this message is not given; it has " +
			orNone(braces(want)) + " and the clinic's " + braces(profile))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none of its own"
	}
	return s
}

// wording lists a language's messages (filter: words of the id or text).
func (m *Module) wording(lang, filter string) []wordingRow {
	filter = strings.ToLower(strings.TrimSpace(filter))
	var out []wordingRow
	for _, e := range m.h.Catalog.Entries(lang) {
		r := wordingRow{ID: e.ID, Default: e.Default, Override: e.Override, Overridden: e.Overridden, Text: e.Default}
		if e.Overridden {
			r.Text = e.Override
		}
		r.Fields = placeholders(m.reference(lang, e))
		if filter != "" && !strings.Contains(strings.ToLower(r.ID+" "+r.Text+" "+r.Default), filter) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// reference is the text a new wording is checked against: the shipped
// text of the language, else of English, else the override itself.
func (m *Module) reference(lang string, e catalog.Entry) string {
	if e.Default != "" {
		return e.Default
	}
	for _, en := range m.h.Catalog.Entries(catalog.DefaultLanguage) {
		if en.ID == e.ID && en.Default != "" {
			return en.Default
		}
	}
	return e.Override
}

func (m *Module) entry(lang, id string) (catalog.Entry, bool) {
	for _, e := range m.h.Catalog.Entries(lang) {
		if e.ID == id {
			return e, true
		}
	}
	return catalog.Entry{}, false
}

var errNoMessagesDir = errors.New("wording can be changed only when TEND_MESSAGES_DIR names a folder")

// reword sets (text) or resets (reset) one message of a language: the
// override file is read, changed in that one key, checked, written and
// put in force; was, when given, is the override the editor saw (409 if
// it changed since).
func (m *Module) reword(r *http.Request, lang, id, text string, reset bool, was *string) error {
	if m.msgDir == "" {
		return errNoMessagesDir
	}
	e, ok := m.entry(lang, id)
	if !ok || !m.h.Catalog.Supports(lang) {
		return os.ErrNotExist
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if !reset {
		if err := checkWording(m.reference(lang, e), text, m.h.Catalog.ProfileFields()); err != nil {
			return err
		}
	}
	name := "active." + lang + ".yaml"
	path := filepath.Join(m.msgDir, name)
	m.wordMu.Lock()
	defer m.wordMu.Unlock()
	cur, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc, err := setMessage(cur, id, text, reset)
	if err != nil {
		return userError(name + " cannot be read (" + err.Error() + "); fix it in the folder first")
	}
	if was != nil {
		if inFile, _ := messageIn(cur, id); inFile != *was {
			// Changed in the folder since the page was opened: put the
			// file's wording in force, so the page shows what is there.
			if err := m.h.Catalog.Reword(lang, cur); err != nil {
				m.log.WarnContext(r.Context(), "console: the messages file does not load", "file", name, "error", err)
			}
			return errConflict
		}
	}
	if err := m.h.Catalog.Reword(lang, doc); err != nil {
		return userError("not saved: " + strings.TrimPrefix(err.Error(), "catalog: "))
	}
	if err := writeAtomic(path, doc); err != nil {
		// Back to what the file says, so the bot and the folder agree.
		if rerr := m.h.Catalog.Reword(lang, cur); rerr != nil {
			m.log.ErrorContext(r.Context(), "console: wording not restored after a failed write", "error", rerr)
		}
		return err
	}
	action := "reword " + id
	if reset {
		action = "reset " + id
	}
	m.keepVersion(r.Context(), kindWording, name, cur, exists, doc, false, trimTo(action, 120), principal(r).Actor.ID)
	return nil
}

// messageIn is one message's text in an override file ("" when absent).
func messageIn(file []byte, id string) (string, bool) {
	var msgs map[string]any
	if err := yaml.Unmarshal(file, &msgs); err != nil {
		return "", false
	}
	s, ok := msgs[id].(string)
	return s, ok
}

// setMessage changes one key of an override file, keeping the rest of the
// file (its comments, order and other messages) as it is.
func setMessage(file []byte, id, text string, remove bool) ([]byte, error) {
	var doc yaml.Node
	if len(strings.TrimSpace(string(file))) > 0 {
		if err := yaml.Unmarshal(file, &doc); err != nil {
			return nil, err
		}
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a list of id: text lines")
	}
	mp := doc.Content[0]
	found := false
	for i := 0; i+1 < len(mp.Content); i += 2 {
		if mp.Content[i].Value != id {
			continue
		}
		found = true
		if remove {
			mp.Content = append(mp.Content[:i], mp.Content[i+2:]...)
		} else {
			mp.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text, Style: yaml.DoubleQuotedStyle}
		}
		break
	}
	if !found && !remove {
		mp.Content = append(mp.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: id},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text, Style: yaml.DoubleQuotedStyle})
	}
	if len(mp.Content) == 0 {
		return []byte{}, nil
	}
	return yaml.Marshal(&doc)
}

func wordingStatus(w http.ResponseWriter, err error) {
	var bad userError
	switch {
	case errors.As(err, &bad):
		httpserver.WriteError(w, http.StatusBadRequest, bad.Error())
	case errors.Is(err, os.ErrNotExist):
		httpserver.WriteError(w, http.StatusNotFound, "no such message in that language")
	case errors.Is(err, errConflict), errors.Is(err, errNoMessagesDir):
		httpserver.WriteError(w, http.StatusConflict, err.Error())
	default:
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not save; try again")
	}
}

// — API —

func (m *Module) langParam(lang string) (string, bool) {
	if lang == "" {
		lang = catalog.DefaultLanguage
	}
	return lang, m.h.Catalog.Supports(lang)
}

// apiWording is GET /api/v1/wording?lang=en[&q=].
func (m *Module) apiWording(w http.ResponseWriter, r *http.Request) {
	lang, ok := m.langParam(r.URL.Query().Get("lang"))
	if !ok {
		httpserver.WriteError(w, http.StatusNotFound, "no messages in that language; languages: "+strings.Join(m.h.Catalog.Languages(), ", "))
		return
	}
	rows := m.wording(lang, r.URL.Query().Get("q"))
	if rows == nil {
		rows = []wordingRow{}
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"lang": lang, "languages": m.h.Catalog.Languages(),
		"editable": m.msgDir != "", "profile_fields": m.h.Catalog.ProfileFields(), "messages": rows})
}

type rewordRequest struct {
	Text string  `json:"text"`
	Was  *string `json:"was,omitempty"`
}

// apiReword is PUT /api/v1/wording/{lang}/{id} {"text"[,"was"]}.
func (m *Module) apiReword(w http.ResponseWriter, r *http.Request) {
	var req rewordRequest
	if !httpserver.DecodeJSON(w, r, &req, httpserver.JSONOptions{MaxBytes: 16 << 10, KnownFieldsOnly: true}) {
		return
	}
	lang, id := r.PathValue("lang"), r.PathValue("id")
	err := m.reword(r, lang, id, req.Text, false, req.Was)
	m.noteWording(r, lang, id, err)
	if err != nil {
		wordingStatus(w, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"lang": lang, "id": id, "text": req.Text})
}

// apiResetWording is DELETE /api/v1/wording/{lang}/{id}: the shipped text.
func (m *Module) apiResetWording(w http.ResponseWriter, r *http.Request) {
	lang, id := r.PathValue("lang"), r.PathValue("id")
	err := m.reword(r, lang, id, "", true, nil)
	m.noteWording(r, lang, id, err)
	if err != nil {
		wordingStatus(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// noteWording records a wording change's outcome (the message id, a fact;
// never the text).
func (m *Module) noteWording(r *http.Request, lang, id string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused"
	}
	m.note(r, "wording.change", map[string]any{"lang": trimTo(lang, 8), "message": trimTo(id, 80), "outcome": outcome})
}

// — pages —

type wordingData struct {
	Lang, Filter   string
	Langs          []string
	Rows           []wordingRow
	Editable       bool
	Flash, Problem string
}

func (m *Module) wordingPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang, ok := m.langParam(q.Get("lang"))
	if !ok {
		lang = catalog.DefaultLanguage
	}
	m.render(w, r, "wording", page{Title: "Message wording", Data: wordingData{Lang: lang, Filter: q.Get("q"), Langs: m.h.Catalog.Languages(),
		Rows: m.wording(lang, q.Get("q")), Editable: m.msgDir != "", Flash: q.Get("done"), Problem: q.Get("problem")}})
}

type wordingEditData struct {
	Lang, Text, Was, Problem string
	Row                      wordingRow
	Profile                  []string
	Editable                 bool
}

func (m *Module) wordingEditPage(w http.ResponseWriter, r *http.Request) {
	lang, id := r.URL.Query().Get("lang"), r.URL.Query().Get("id")
	m.wordingEdit(w, r, lang, id, "", "", http.StatusOK)
}

func (m *Module) wordingEdit(w http.ResponseWriter, r *http.Request, lang, id, text, problem string, status int) {
	e, ok := m.entry(lang, id)
	if !ok {
		http.Redirect(w, r, "/admin/wording?"+url.Values{"lang": {lang}, "problem": {"no such message"}}.Encode(), http.StatusSeeOther)
		return
	}
	row := wordingRow{ID: e.ID, Default: e.Default, Override: e.Override, Overridden: e.Overridden, Text: e.Default,
		Fields: placeholders(m.reference(lang, e))}
	if e.Overridden {
		row.Text = e.Override
	}
	if text == "" {
		text = row.Text
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	m.render(w, r, "wording_edit", page{Title: "Message " + id + " (" + lang + ")", Data: wordingEditData{Lang: lang, Text: text,
		Was: e.Override, Problem: problem, Row: row, Profile: m.h.Catalog.ProfileFields(), Editable: m.msgDir != ""}})
}

// wordingForm is the edit page's Save and Reset.
func (m *Module) wordingForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	lang, id, text := r.PostFormValue("lang"), r.PostFormValue("id"), r.PostFormValue("text")
	was := r.PostFormValue("was")
	reset := r.PostFormValue("do") == "reset"
	err := m.reword(r, lang, id, text, reset, &was)
	m.noteWording(r, lang, id, err)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, errConflict) {
			msg = "this message was changed in the folder since you opened it; it now reads as shown"
			text = ""
		} else if errors.Is(err, os.ErrNotExist) {
			msg = "no such message"
		}
		m.wordingEdit(w, r, lang, id, text, msg, http.StatusUnprocessableEntity)
		return
	}
	done := "Saved " + id + " (" + lang + "). The bot uses the new wording now."
	if reset {
		done = id + " (" + lang + ") is back to the shipped wording."
	}
	http.Redirect(w, r, "/admin/wording?"+url.Values{"lang": {lang}, "done": {done}}.Encode()+"#m-"+id, http.StatusSeeOther)
}

// note records an outcome row in the audit trail.
func (m *Module) note(r *http.Request, action string, detail map[string]any) {
	if err := audit.Record(r.Context(), m.h.DB, audit.For(r.Context(), m.h.Clock.Now(), action, "", detail)); err != nil {
		m.log.ErrorContext(r.Context(), "console: audit trail not written", "action", action, "error", err)
	}
}
