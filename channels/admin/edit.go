package admin

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/knowledge"
)

// Editing in the browser: Markdown and text documents (FAQ entries are
// their "## question" sections or Q:/A: pairs) open in a text box with a
// server-rendered preview; each save is a new version (versions.go), with
// a diff against the previous one and one-click restore of any version.

// editable says whether a document can be edited as text.
func editable(name string) bool { return appendable(name) }

// current reads the folder's copy of a document.
func (m *Module) current(name string) ([]byte, error) {
	if m.kbDir == "" {
		return nil, errNoFolder
	}
	return os.ReadFile(filepath.Join(m.kbDir, name))
}

type editData struct {
	Name, Base, Text string
	Problem          string
	Preview          bool
	Rendered         template.HTML
	Plain            bool
}

// editPage is GET /admin/kb/edit?name=: the document in a text box, with
// the version it was opened at (base) so a save over an edit made in the
// folder meanwhile is refused.
func (m *Module) editPage(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.URL.Query().Get("name"))
	if err == nil && !editable(name) {
		err = userError("only Markdown (.md) and text (.txt) documents are edited here; replace other files by uploading them")
	}
	if err != nil {
		m.back(w, r, "", err.Error())
		return
	}
	b, err := m.current(name)
	if err != nil {
		m.back(w, r, "", name+": "+err.Error())
		return
	}
	m.render(w, r, "edit", page{Title: "Edit " + name, Data: editData{Name: name, Base: hashOf(b, true), Text: string(b),
		Plain: knowledge.FormatOf(name) == knowledge.FormatText}})
}

// editSave is the edit form's Preview and Save.
func (m *Module) editSave(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, knowledge.MaxFileBytes+64<<10)
	name, err := cleanName(r.PostFormValue("name"))
	if err == nil && !editable(name) {
		err = userError("only Markdown (.md) and text (.txt) documents are edited here")
	}
	if err != nil {
		m.back(w, r, "", err.Error())
		return
	}
	text := strings.ReplaceAll(r.PostFormValue("text"), "\r\n", "\n")
	d := editData{Name: name, Base: r.PostFormValue("base"), Text: text, Plain: knowledge.FormatOf(name) == knowledge.FormatText}
	if r.PostFormValue("do") == "preview" {
		d.Preview, d.Rendered = true, preview(name, []byte(text))
		m.render(w, r, "edit", page{Title: "Edit " + name, Data: d})
		return
	}
	_, _, err = m.saveDocument(r.Context(), name, []byte(text), d.Base, principal(r).Actor.ID, actEdit)
	m.noteKB(r, "kb.document.save", name, err)
	if err != nil {
		d.Problem = err.Error()
		w.WriteHeader(http.StatusUnprocessableEntity)
		if errors.Is(err, errConflict) {
			w.WriteHeader(http.StatusConflict)
		}
		m.render(w, r, "edit", page{Title: "Edit " + name, Data: d})
		return
	}
	http.Redirect(w, r, "/admin/kb/versions?"+url.Values{"name": {name}, "saved": {"1"}}.Encode(), http.StatusSeeOther)
}

// preview renders a document as a reader sees it: Markdown without its
// front matter; a text file as it is.
func preview(name string, src []byte) template.HTML {
	if knowledge.FormatOf(name) != knowledge.FormatMarkdown {
		return template.HTML("<pre>" + template.HTMLEscapeString(string(src)) + "</pre>")
	}
	if rest, ok := bytes.CutPrefix(src, []byte("---\n")); ok {
		if i := bytes.Index(rest, []byte("\n---")); i >= 0 {
			src = rest[i+4:]
		}
	}
	return renderMarkdown(src)
}

type versionsData struct {
	Name     string
	Versions []version
	Show     version
	Diff     []diffLine
	Binary   bool
	First    bool
	Base     string
	Current  string // SHA-256 of the folder's copy
	Saved    bool
	Restored int
	Problem  string
}

// versionsPage is GET /admin/kb/versions?name=[&v=]: a document's history,
// and the diff of one version (the newest by default) against the one
// before it.
func (m *Module) versionsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, err := cleanName(q.Get("name"))
	if err != nil {
		m.back(w, r, "", err.Error())
		return
	}
	vs, err := m.versions.list(r.Context(), kindKB, name)
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: versions", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the versions")
		return
	}
	cur, _ := m.current(name)
	d := versionsData{Name: name, Versions: vs, Current: hashOf(cur, cur != nil), Saved: q.Get("saved") != "", Problem: q.Get("problem")}
	d.Restored, _ = strconv.Atoi(q.Get("restored"))
	if len(vs) > 0 {
		n, _ := strconv.Atoi(q.Get("v"))
		if n <= 0 {
			n = vs[0].Version
		}
		body, meta, prev, prevMeta, err := m.versions.content(r.Context(), kindKB, name, n)
		if err == nil {
			d.Show, d.First = meta, prevMeta.Version == 0
			var ok bool
			_, d.Diff, ok = diff("", "", prev, body)
			d.Binary = !ok
		}
	}
	m.render(w, r, "versions", page{Title: "Versions of " + name, Data: d})
}

// restore writes an old version back as a new one (refused when the
// folder's copy is not the one the page showed: base).
func (m *Module) restore(r *http.Request, name string, v int, base string) (int, error) {
	body, meta, _, _, err := m.versions.content(r.Context(), kindKB, name, v)
	if err != nil {
		return 0, err
	}
	if meta.Deleted {
		return 0, userError("version " + strconv.Itoa(v) + " is the deletion; restore the version before it")
	}
	_, _, err = m.saveDocument(r.Context(), name, body, base, principal(r).Actor.ID, actRestore+" of "+strconv.Itoa(v))
	m.noteKB(r, "kb.document.restore", name, err)
	if err != nil {
		return 0, err
	}
	last, _, err := m.versions.latest(r.Context(), m.h.DB.Q(), kindKB, name)
	return last.Version, err
}

func (m *Module) restoreForm(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PostFormValue("name"))
	if err != nil {
		m.back(w, r, "", err.Error())
		return
	}
	v, _ := strconv.Atoi(r.PostFormValue("v"))
	back := url.Values{"name": {name}}
	n, err := m.restore(r, name, v, r.PostFormValue("base"))
	if err != nil {
		back.Set("problem", err.Error())
	} else {
		back.Set("restored", strconv.Itoa(v))
		back.Set("v", strconv.Itoa(n))
	}
	http.Redirect(w, r, "/admin/kb/versions?"+back.Encode(), http.StatusSeeOther)
}

// — API —

// apiGetDocument is GET /api/v1/kb/documents/{name}: the folder's copy,
// with its ETag for If-Match.
func (m *Module) apiGetDocument(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PathValue("name"))
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	b, err := m.current(name)
	if err != nil {
		saveError(w, err)
		return
	}
	writeFile(w, name, b, hashOf(b, true))
}

func writeFile(w http.ResponseWriter, name string, b []byte, etag string) {
	ct := map[knowledge.Format]string{knowledge.FormatMarkdown: "text/markdown; charset=utf-8", knowledge.FormatText: "text/plain; charset=utf-8",
		knowledge.FormatHTML: "text/html; charset=utf-8", knowledge.FormatPDF: "application/pdf",
		knowledge.FormatDOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}[knowledge.FormatOf(name)]
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("ETag", `"`+etag+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(b)
}

func (m *Module) apiVersions(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PathValue("name"))
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	vs, err := m.versions.list(r.Context(), kindKB, name)
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: versions", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the versions")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, vs)
}

// apiVersion is GET …/versions/{v} (the file as it was) and
// GET …/versions/{v}/diff (a unified diff against the version before).
func (m *Module) apiVersion(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PathValue("name"))
	v, verr := strconv.Atoi(r.PathValue("v"))
	if err != nil || verr != nil {
		httpserver.WriteError(w, http.StatusBadRequest, "name and version number")
		return
	}
	body, meta, prev, prevMeta, err := m.versions.content(r.Context(), kindKB, name, v)
	if errors.Is(err, errNoVersion) {
		httpserver.WriteError(w, http.StatusNotFound, "no such version")
		return
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: version", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the version")
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/diff") {
		if meta.Deleted {
			httpserver.WriteError(w, http.StatusGone, "this version is the document's deletion")
			return
		}
		writeFile(w, name, body, meta.SHA256)
		return
	}
	from := name + "@" + strconv.Itoa(prevMeta.Version)
	if prevMeta.Version == 0 {
		from = "/dev/null"
	}
	text, _, ok := diff(from, name+"@"+strconv.Itoa(v), prev, body)
	if !ok {
		httpserver.WriteError(w, http.StatusUnprocessableEntity, "a binary document (PDF, Word) has no line diff")
		return
	}
	w.Header().Set("Content-Type", "text/x-diff; charset=utf-8")
	_, _ = w.Write([]byte(text))
}

func (m *Module) apiRestore(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PathValue("name"))
	v, verr := strconv.Atoi(r.PathValue("v"))
	if err != nil || verr != nil {
		httpserver.WriteError(w, http.StatusBadRequest, "name and version number")
		return
	}
	n, err := m.restore(r, name, v, strings.Trim(r.Header.Get("If-Match"), `"`))
	var bad userError
	switch {
	case errors.Is(err, errNoVersion):
		httpserver.WriteError(w, http.StatusNotFound, "no such version")
	case errors.As(err, &bad):
		httpserver.WriteError(w, http.StatusConflict, bad.Error())
	case err != nil:
		saveError(w, err)
	default:
		w.Header().Set("ETag", `"`+m.etag(name)+`"`)
		httpserver.WriteJSON(w, http.StatusOK, map[string]any{"name": name, "restored": v, "version": n})
	}
}
