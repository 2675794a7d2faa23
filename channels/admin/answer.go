package admin

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/knowledge"
)

// "Write an answer": an unanswered question becomes a new FAQ entry at the
// end of a document the editor picks, a Markdown "## question" section (or
// a Q:/A: pair in a text document). The entry is appended to the folder's
// current copy under the console's lock, so it needs no base version: it
// cannot overwrite an edit made meanwhile.

// entry is a FAQ entry to append.
type entry struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// check trims an entry and refuses an empty or oversized one.
func (e *entry) check() error {
	// A heading is one line; leading #s would change its level.
	e.Question = strings.TrimLeft(strings.Join(strings.Fields(e.Question), " "), "# ")
	e.Answer = strings.TrimSpace(strings.ReplaceAll(e.Answer, "\r\n", "\n"))
	switch {
	case e.Question == "":
		return userError("the question is empty")
	case len([]rune(e.Question)) > 300:
		return userError("the question is at most 300 characters")
	case e.Answer == "":
		return userError("write the answer")
	case len([]rune(e.Answer)) > 20000:
		return userError("the answer is at most 20,000 characters")
	}
	return nil
}

// appendable says whether entries can be added to a document.
func appendable(name string) bool {
	f := knowledge.FormatOf(name)
	return f == knowledge.FormatMarkdown || f == knowledge.FormatText
}

// withEntry is the document with the entry appended.
func withEntry(name string, cur []byte, exists bool, e entry) []byte {
	var b bytes.Buffer
	b.Write(bytes.TrimRight(cur, "\n\r\t "))
	md := knowledge.FormatOf(name) == knowledge.FormatMarkdown
	if !exists && md {
		b.WriteString("# Frequently asked questions")
	}
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	if md {
		b.WriteString("## " + e.Question + "\n\n" + e.Answer + "\n")
	} else {
		b.WriteString("Q: " + e.Question + "\nA: " + strings.ReplaceAll(e.Answer, "\n\n", "\n") + "\n")
	}
	return b.Bytes()
}

// addEntry appends a FAQ entry to a document (a new one if none has the
// name) and syncs, so the bot answers from it when this returns.
func (m *Module) addEntry(ctx context.Context, name string, e entry, by string) (created bool, err error) {
	if err := e.check(); err != nil {
		return false, err
	}
	if !appendable(name) {
		return false, userError("entries can be added to Markdown (.md) or text (.txt) documents")
	}
	created, _, err = m.changeDocument(ctx, name, "", by, actEntry, func(cur []byte, exists bool) ([]byte, error) {
		return withEntry(name, cur, exists, e), nil
	})
	return created, err
}

// apiAddEntry is POST /api/v1/kb/documents/{name}/entries {"question","answer"}.
func (m *Module) apiAddEntry(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PathValue("name"))
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	var e entry
	if !httpserver.DecodeJSON(w, r, &e, httpserver.JSONOptions{MaxBytes: 64 << 10, KnownFieldsOnly: true}) {
		return
	}
	created, err := m.addEntry(r.Context(), name, e, principal(r).Actor.ID)
	m.noteKB(r, "kb.document.entry", name, err)
	var bad userError
	if errors.As(err, &bad) {
		httpserver.WriteError(w, http.StatusBadRequest, bad.Error())
		return
	}
	if err != nil {
		saveError(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("ETag", `"`+m.etag(name)+`"`)
	httpserver.WriteJSON(w, status, map[string]any{"name": name, "created": created, "question": e.Question})
}

type answerData struct {
	Group    int64
	Entry    entry
	Langs    []string
	Docs     []docRow
	Doc, New string
	Problem  string
	Preview  bool
	Rendered template.HTML
	NoFolder bool
}

// answerPage opens a new FAQ entry with the group's question prefilled,
// in the first document of the question's language.
func (m *Module) answerPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := answerData{Entry: entry{Question: strings.TrimSpace(q.Get("q"))}, Doc: q.Get("doc"), NoFolder: m.kbDir == ""}
	if id, err := strconv.ParseInt(q.Get("group"), 10, 64); err == nil && id > 0 {
		g, ok, err := m.group(r.Context(), id)
		if err != nil {
			m.log.ErrorContext(r.Context(), "console: unanswered group", "error", err)
		}
		if ok {
			d.Group, d.Entry.Question, d.Langs = g.ID, g.Example, g.Langs
		}
	}
	m.answerForm(w, r, d)
}

func (m *Module) answerForm(w http.ResponseWriter, r *http.Request, d answerData) {
	rows, _, err := m.documents(r.Context())
	if err != nil {
		httpserver.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	for _, row := range rows {
		if appendable(row.Name) {
			d.Docs = append(d.Docs, row)
		}
	}
	if d.Doc == "" && d.New == "" {
		for _, row := range d.Docs {
			if len(d.Langs) > 0 && row.Language == d.Langs[0] {
				d.Doc = row.Name
				break
			}
		}
	}
	m.render(w, r, "answer", page{Title: "Write an answer", Data: d})
}

// answerSave is the form's Preview and Save.
func (m *Module) answerSave(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 128<<10)
	d := answerData{Entry: entry{Question: r.PostFormValue("question"), Answer: r.PostFormValue("answer")},
		Doc: r.PostFormValue("doc"), New: strings.TrimSpace(r.PostFormValue("new")), NoFolder: m.kbDir == ""}
	d.Group, _ = strconv.ParseInt(r.PostFormValue("group"), 10, 64)
	name := d.Doc
	if name == "" || d.New != "" {
		name = d.New
	}
	if r.PostFormValue("do") == "preview" {
		d.Preview = true
		if err := d.Entry.check(); err != nil {
			d.Problem = err.Error()
		} else {
			d.Rendered = renderMarkdown(withEntry("preview.md", nil, true, d.Entry))
		}
		m.answerForm(w, r, d)
		return
	}
	clean, err := cleanName(name)
	if err == nil {
		_, err = m.addEntry(r.Context(), clean, d.Entry, principal(r).Actor.ID)
		m.noteKB(r, "kb.document.entry", clean, err)
	}
	if err != nil {
		d.Problem = err.Error()
		w.WriteHeader(http.StatusUnprocessableEntity)
		m.answerForm(w, r, d)
		return
	}
	unansweredBack(w, r, "Saved the answer to “"+d.Entry.Question+"” in "+clean+
		". The bot answers from it now; its group leaves this list once the answer matches it.", "")
}
