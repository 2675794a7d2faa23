package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/knowledge"
)

// The folder (TEND_KB_DIR) is the source of truth: the console writes into
// it and syncs, and a watcher syncs what others change there (git, a
// shared drive). When both change the same file, the later write wins,
// except that a console save names the version it started from (the
// file's SHA-256, If-Match in the API, a hidden field in the page's form)
// and is refused with 409 when the file has changed since: the console
// never overwrites an edit it has not seen. Without If-Match an API PUT
// replaces whatever is there.

// syncStatus is what the last sync of this process found.
type syncStatus struct {
	At     time.Time
	Err    string
	Failed map[string]string // path → reason; the previous version, if any, is still served
}

// docRow is one document as the console shows it.
type docRow struct {
	Name     string    `json:"name"`
	Title    string    `json:"title"`
	Format   string    `json:"format"`
	Language string    `json:"language"`
	Version  int       `json:"version"`
	Updated  string    `json:"updated,omitempty"`
	SyncedAt time.Time `json:"synced_at,omitzero"`
	Chunks   int       `json:"chunks"`
	// Status is "synced", "failed" (the reason in Error; the version
	// shown, if any, is still what patients are answered from) or
	// "pending" (in the folder, not indexed yet).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// ETag is the SHA-256 of the file in the folder, for If-Match.
	ETag string `json:"etag,omitempty"`
	// Editable: a Markdown or text file, edited in the browser.
	Editable bool `json:"-"`
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,120}$`)

// cleanName checks a document name: a file name in the folder's top level
// with an extension Tend reads.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !nameRe.MatchString(name) || strings.Contains(name, "..") {
		return "", errors.New("a document name is a file name (letters, digits, space . _ ( ) -), no folders")
	}
	if knowledge.FormatOf(name) == "" {
		return "", errors.New("the name's extension must be .md, .markdown, .html, .htm, .txt, .pdf or .docx")
	}
	return name, nil
}

func (m *Module) kb() *knowledge.Base {
	if m.Base == nil {
		return nil
	}
	return m.Base()
}

// documents lists the indexed documents with their sync status and the
// files of the folder not indexed (failed or pending).
func (m *Module) documents(ctx context.Context) ([]docRow, syncStatus, error) {
	kb := m.kb()
	if kb == nil {
		return nil, syncStatus{}, errors.New("the knowledge base is not installed")
	}
	docs, err := kb.Documents(ctx, kb.DB().Q())
	if err != nil {
		return nil, syncStatus{}, err
	}
	m.statusMu.Lock()
	st := m.status
	m.statusMu.Unlock()
	seen := map[string]bool{}
	var rows []docRow
	for _, d := range docs {
		r := docRow{Name: d.Path, Title: d.Title, Format: d.Format, Language: d.Language, Version: d.Version, Updated: d.Updated,
			SyncedAt: d.SyncedAt, Chunks: d.Chunks, Status: "synced"}
		if reason, ok := st.Failed[d.Path]; ok {
			r.Status, r.Error = "failed", reason
		}
		r.ETag = m.etag(d.Path)
		seen[d.Path] = true
		rows = append(rows, r)
	}
	for p, reason := range st.Failed {
		if !seen[p] {
			seen[p] = true
			rows = append(rows, docRow{Name: p, Format: string(knowledge.FormatOf(p)), Status: "failed", Error: reason, ETag: m.etag(p)})
		}
	}
	if m.kbDir != "" {
		files, _ := fs.Glob(os.DirFS(m.kbDir), "*")
		for _, f := range files {
			if !seen[f] && knowledge.FormatOf(f) != "" && !strings.HasPrefix(f, ".") {
				rows = append(rows, docRow{Name: f, Format: string(knowledge.FormatOf(f)), Status: "pending", ETag: m.etag(f)})
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	for i := range rows {
		rows[i].Editable = editable(rows[i].Name) && rows[i].ETag != ""
	}
	return rows, st, nil
}

// etag is the SHA-256 of the folder's copy of a document ("" when none).
func (m *Module) etag(name string) string {
	if m.kbDir == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(m.kbDir, filepath.FromSlash(name)))
	if err != nil {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// syncFolder syncs TEND_KB_DIR and remembers what failed.
func (m *Module) syncFolder(ctx context.Context) (knowledge.SyncReport, error) {
	kb := m.kb()
	if kb == nil || m.kbDir == "" {
		return knowledge.SyncReport{}, errors.New("no knowledge folder (TEND_KB_DIR)")
	}
	rep, err := kb.Sync(ctx, knowledge.Source{Name: m.kbDir, FS: os.DirFS(m.kbDir)}, knowledge.SyncOptions{})
	m.statusMu.Lock()
	defer m.statusMu.Unlock()
	m.status.At = m.h.Clock.Now()
	if err != nil {
		m.status.Err = err.Error()
		m.log.ErrorContext(ctx, "console: knowledge base sync failed; answering from the previous index", "error", err)
		return rep, err
	}
	m.status.Err = ""
	m.status.Failed = map[string]string{}
	for _, f := range rep.Failed {
		m.status.Failed[f.Path] = reasonText(f.Err)
		m.log.WarnContext(ctx, "knowledge base: file skipped", "path", f.Path, "error", f.Err)
	}
	return rep, nil
}

func reasonText(err error) string {
	var pe *knowledge.ParseError
	if errors.As(err, &pe) && pe.Reason != "" {
		return pe.Reason
	}
	return err.Error()
}

// errConflict: the file changed since the version the save started from.
var errConflict = errors.New("the document changed in the folder since you opened it; reload to see the current version, then save again")

// saveDocument checks and writes a document into the folder, then syncs.
// A file that cannot be parsed is refused before anything is written, so
// the version patients are answered from stays.
func (m *Module) saveDocument(ctx context.Context, name string, data []byte, base, who, action string) (created bool, rep knowledge.SyncReport, err error) {
	return m.changeDocument(ctx, name, base, who, action, func([]byte, bool) ([]byte, error) { return data, nil })
}

// changeDocument is every console write: under the console's lock it reads
// the folder's copy, refuses a stale base (the version the editor started
// from, when given), makes the new content from the current one (edit),
// checks that it parses, writes it atomically, records the version (who,
// action) and syncs.
func (m *Module) changeDocument(ctx context.Context, name, base, who, action string, edit func(cur []byte, exists bool) ([]byte, error)) (created bool, rep knowledge.SyncReport, err error) {
	if m.kbDir == "" {
		return false, rep, errNoFolder
	}
	path := filepath.Join(m.kbDir, name)
	m.sync.Lock()
	cur, rerr := os.ReadFile(path)
	exists := rerr == nil
	if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		m.sync.Unlock()
		return false, rep, rerr
	}
	if base != "" && base != hashOf(cur, exists) {
		m.sync.Unlock()
		return false, rep, errConflict
	}
	data, err := edit(cur, exists)
	if err == nil && len(data) > knowledge.MaxFileBytes {
		err = fmt.Errorf("the file is larger than %d MB", knowledge.MaxFileBytes>>20)
	}
	if err == nil {
		if _, perr := knowledge.Parse(name, data); perr != nil {
			err = &invalidError{reasonText(perr)}
		}
	}
	if err == nil {
		err = writeAtomic(path, data)
	}
	if err == nil {
		m.keepVersion(ctx, kindKB, name, cur, exists, data, false, action, who)
	}
	m.sync.Unlock()
	if err != nil {
		return false, rep, err
	}
	rep, err = m.syncFolder(ctx)
	return !exists, rep, err
}

// keepVersion records a version of a file just written. A failure is
// logged, not returned: the file is saved and served; its author is then
// missing from the history, and the next change records the file as
// found in the folder.
func (m *Module) keepVersion(ctx context.Context, kind, name string, cur []byte, exists bool, data []byte, deleted bool, action, who string) {
	if _, err := m.versions.record(ctx, kind, name, cur, exists, data, deleted, action, who, m.h.Clock.Now()); err != nil {
		m.log.ErrorContext(ctx, "console: version not recorded", "kind", kind, "document", name, "error", err)
	}
}

// hashOf is a file's ETag ("" for no file).
func hashOf(b []byte, exists bool) string {
	if !exists {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (m *Module) deleteDocument(ctx context.Context, name, base, who string) error {
	if m.kbDir == "" {
		return errNoFolder
	}
	path := filepath.Join(m.kbDir, name)
	m.sync.Lock()
	cur, err := os.ReadFile(path)
	if err != nil {
		m.sync.Unlock()
		return err
	}
	if base != "" && base != hashOf(cur, true) {
		m.sync.Unlock()
		return errConflict
	}
	err = os.Remove(path)
	if err == nil {
		m.keepVersion(ctx, kindKB, name, cur, true, nil, true, actDelete, who)
	}
	m.sync.Unlock()
	if err != nil {
		return err
	}
	_, err = m.syncFolder(ctx)
	return err
}

var errNoFolder = errors.New("documents can be changed only when TEND_KB_DIR names a folder (the bundled sample is read-only)")

type invalidError struct{ reason string }

func (e *invalidError) Error() string {
	return "the file was not saved: " + e.reason + " (the previous version, if any, is still served)"
}

// writeAtomic writes through a hidden temporary file in the same folder
// and renames it, so the watcher and the sync never read half a file.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tend-upload-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := io.Copy(f, bytes.NewReader(data))
	cerr := f.Close()
	if werr != nil || cerr != nil {
		_ = os.Remove(tmp)
		return errors.Join(werr, cerr)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// saveError answers a failed save with the right status.
func saveError(w http.ResponseWriter, err error) {
	var inv *invalidError
	switch {
	case errors.As(err, &inv):
		httpserver.WriteError(w, http.StatusUnprocessableEntity, inv.Error())
	case errors.Is(err, errConflict):
		httpserver.WriteError(w, http.StatusConflict, err.Error())
	case errors.Is(err, errNoFolder):
		httpserver.WriteError(w, http.StatusConflict, err.Error())
	case errors.Is(err, os.ErrNotExist):
		httpserver.WriteError(w, http.StatusNotFound, "no such document")
	default:
		httpserver.WriteError(w, http.StatusBadRequest, err.Error())
	}
}

// — API —

func (m *Module) apiDocuments(w http.ResponseWriter, r *http.Request) {
	rows, st, err := m.documents(r.Context())
	if err != nil {
		httpserver.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if rows == nil {
		rows = []docRow{}
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"folder": m.kbDir != "", "documents": rows,
		"synced_at": st.At, "sync_error": st.Err})
}

func (m *Module) apiPutDocument(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PathValue("name"))
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, knowledge.MaxFileBytes+1))
	if err != nil {
		httpserver.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %d MB", knowledge.MaxFileBytes>>20))
		return
	}
	created, rep, err := m.saveDocument(r.Context(), name, data, strings.Trim(r.Header.Get("If-Match"), `"`), principal(r).Actor.ID, actAPI)
	if err != nil {
		m.noteKB(r, "kb.document.save", name, err)
		saveError(w, err)
		return
	}
	m.noteKB(r, "kb.document.save", name, nil)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("ETag", `"`+m.etag(name)+`"`)
	httpserver.WriteJSON(w, status, map[string]any{"name": name, "created": created, "chunks": rep.Chunks,
		"failed": len(rep.Failed)})
}

func (m *Module) apiDeleteDocument(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PathValue("name"))
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	err = m.deleteDocument(r.Context(), name, strings.Trim(r.Header.Get("If-Match"), `"`), principal(r).Actor.ID)
	m.noteKB(r, "kb.document.delete", name, err)
	if err != nil {
		saveError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// noteKB records a knowledge-base change's outcome in the audit trail (the
// request itself was recorded when admitted).
func (m *Module) noteKB(r *http.Request, action, name string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused"
	}
	detail := map[string]any{"document": trimTo(name, 120), "outcome": outcome}
	if e := audit.Record(r.Context(), m.h.DB, audit.For(r.Context(), m.h.Clock.Now(), action, "", detail)); e != nil {
		m.log.ErrorContext(r.Context(), "console: audit trail not written", "action", action, "error", e)
	}
}

func trimTo(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// — pages —

type documentsData struct {
	Rows    []docRow
	Folder  bool
	Status  syncStatus
	Flash   string
	Problem string
}

func (m *Module) documentsPage(w http.ResponseWriter, r *http.Request) {
	rows, st, err := m.documents(r.Context())
	if err != nil {
		httpserver.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	q := r.URL.Query()
	m.render(w, r, "documents", page{Title: "Documents", Data: documentsData{Rows: rows, Folder: m.kbDir != "", Status: st,
		Flash: q.Get("saved"), Problem: q.Get("problem")}})
}

// uploadForm is the page's upload (and replace) form: a file, and for a
// replace the name and version it replaces.
func (m *Module) uploadForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		m.back(w, r, "", "the upload could not be read")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		m.back(w, r, "", "choose a file to upload")
		return
	}
	defer f.Close()
	name := r.PostFormValue("name")
	if name == "" {
		name = hdr.Filename
	}
	name, err = cleanName(filepath.Base(name))
	if err != nil {
		m.back(w, r, "", err.Error())
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, knowledge.MaxFileBytes+1))
	if err != nil {
		m.back(w, r, "", "the upload could not be read")
		return
	}
	_, _, err = m.saveDocument(r.Context(), name, data, r.PostFormValue("base"), principal(r).Actor.ID, actUpload)
	m.noteKB(r, "kb.document.save", name, err)
	if err != nil {
		m.back(w, r, "", name+": "+err.Error())
		return
	}
	m.back(w, r, name, "")
}

func (m *Module) deleteForm(w http.ResponseWriter, r *http.Request) {
	name, err := cleanName(r.PostFormValue("name"))
	if err == nil {
		err = m.deleteDocument(r.Context(), name, r.PostFormValue("base"), principal(r).Actor.ID)
		m.noteKB(r, "kb.document.delete", name, err)
	}
	if err != nil {
		m.back(w, r, "", err.Error())
		return
	}
	m.back(w, r, name+" deleted", "")
}

// back returns to the documents page with a message (Post/Redirect/Get).
func (m *Module) back(w http.ResponseWriter, r *http.Request, saved, problem string) {
	v := url.Values{}
	if saved != "" {
		v.Set("saved", saved)
	}
	if problem != "" {
		v.Set("problem", problem)
	}
	http.Redirect(w, r, "/admin/kb?"+v.Encode(), http.StatusSeeOther)
}
