package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Source is a folder of documents to sync.
type Source struct {
	// Name is recorded as the index's source: a folder path, or "sample"
	// for the bundled sample clinic.
	Name string
	FS   fs.FS
}

// Sync stages, as reported to OnProgress.
const (
	StageRead  = "read"  // one event per file
	StageEmbed = "embed" // after each batch of passages
	StageSave  = "save"  // once, when the new version is written
)

// Progress is one step of a sync.
type Progress struct {
	Stage       string
	Done, Total int
	// Path and Status ("added", "changed", "unchanged", "failed") describe
	// the file just read; Err says why it failed.
	Path   string
	Status string
	Err    error
}

// SyncOptions adjust a sync.
type SyncOptions struct {
	// OnProgress is called as the sync advances (from the calling goroutine).
	OnProgress func(Progress)
}

// FileError is a file that could not be read or parsed; it was skipped.
type FileError struct {
	Path string
	Err  error
}

// SyncReport is what a sync did.
type SyncReport struct {
	Source    string
	Model     string
	Added     []string
	Changed   []string
	Unchanged []string
	Removed   []string
	Failed    []FileError
	// Chunks is the number of passages written; Embedded the texts embedded.
	Chunks   int
	Embedded int
	Elapsed  time.Duration
}

// Wrote reports whether the sync wrote a new version of the index.
func (r SyncReport) Wrote() bool { return len(r.Added)+len(r.Changed)+len(r.Removed) > 0 }

// File statuses.
const (
	StatusAdded     = "added"
	StatusChanged   = "changed"
	StatusUnchanged = "unchanged"
	StatusFailed    = "failed"
)

type docRow struct {
	id      int64
	hash    string
	model   string
	version int
}

// pendingDoc is a new or changed document, parsed and ready to write.
type pendingDoc struct {
	doc      *Document
	chunks   []Chunk
	terms    []chunkTerms
	vectors  [][]float32
	hash     string
	size     int
	existing *docRow
}

type chunkTerms struct {
	head, ctx, body string
	n               int
}

// Sync makes the index hold exactly the documents in src: new files are
// added, changed ones (by content hash) re-indexed as a new version, and
// files no longer there removed. Unchanged files are not parsed or
// embedded again, unless the embedding model changed. Everything is
// written in one transaction, so searches see the old version or the new
// one, never a mix. A file that cannot be read or parsed is reported in
// SyncReport.Failed and skipped; its previously indexed version, if any,
// stays. Syncs are serialized across processes.
func (b *Base) Sync(ctx context.Context, src Source, o SyncOptions) (SyncReport, error) {
	start := time.Now()
	progress := o.OnProgress
	if progress == nil {
		progress = func(Progress) {}
	}
	rep := SyncReport{Source: src.Name, Model: b.embedder.Model()}
	// The lock is per schema: tests (and tenants) in one database must
	// not wait for each other.
	unlock, err := b.db.LockKey(ctx, "knowledge:sync:"+b.db.Schema())
	if err != nil {
		return rep, err
	}
	defer unlock()
	existing, err := loadDocRows(ctx, b.db.Q())
	if err != nil {
		return rep, err
	}
	files, err := listDocuments(src.FS)
	if err != nil {
		return rep, fmt.Errorf("knowledge: read %s: %w", src.Name, err)
	}
	pending := b.readAll(src.FS, files, existing, &rep, progress)
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f] = true
	}
	var removed []string
	for p := range existing {
		if !seen[p] {
			removed = append(removed, p)
		}
	}
	sort.Strings(removed)
	if err := b.embedAll(ctx, pending, &rep, progress); err != nil {
		return rep, err
	}
	state, err := b.State(ctx, b.db.Q())
	if err != nil {
		return rep, err
	}
	if len(pending) == 0 && len(removed) == 0 && state.Source == src.Name && state.Model == rep.Model {
		rep.Elapsed = time.Since(start)
		return rep, nil
	}
	err = b.db.InTx(ctx, func(tx *store.Tx) error {
		return b.apply(ctx, tx.Q, pending, removed, existing, src.Name)
	})
	if err != nil {
		return rep, err
	}
	for _, p := range pending {
		rep.Chunks += len(p.chunks)
		if p.existing == nil {
			rep.Added = append(rep.Added, p.doc.Path)
		} else {
			rep.Changed = append(rep.Changed, p.doc.Path)
		}
	}
	rep.Removed = removed
	progress(Progress{Stage: StageSave, Done: 1, Total: 1})
	rep.Elapsed = time.Since(start)
	b.log.InfoContext(ctx, "knowledge base synced", "source", src.Name, "added", len(rep.Added), "changed", len(rep.Changed),
		"removed", len(rep.Removed), "unchanged", len(rep.Unchanged), "failed", len(rep.Failed), "chunks", rep.Chunks,
		"model", rep.Model, "elapsed_ms", rep.Elapsed.Milliseconds())
	return rep, nil
}

// readAll reads, hashes and (when new or changed) parses every file.
func (b *Base) readAll(fsys fs.FS, files []string, existing map[string]docRow, rep *SyncReport, progress func(Progress)) []*pendingDoc {
	model := b.embedder.Model()
	var pending []*pendingDoc
	for i, p := range files {
		ev := Progress{Stage: StageRead, Done: i + 1, Total: len(files), Path: p}
		data, err := readDocument(fsys, p)
		var doc *Document
		var sum string
		if err == nil {
			h := sha256.Sum256(data)
			sum = hex.EncodeToString(h[:])
			if ex, ok := existing[p]; ok && ex.hash == sum && ex.model == model {
				rep.Unchanged = append(rep.Unchanged, p)
				ev.Status = StatusUnchanged
				progress(ev)
				continue
			}
			doc, err = Parse(p, data)
		}
		if err != nil {
			rep.Failed = append(rep.Failed, FileError{Path: p, Err: err})
			ev.Status, ev.Err = StatusFailed, err
			b.log.Warn("knowledge: document skipped", "path", p, "error", err)
			progress(ev)
			continue
		}
		pd := &pendingDoc{doc: doc, chunks: ChunkDocument(doc), hash: sum, size: len(data)}
		if ex, ok := existing[p]; ok {
			pd.existing = &ex
			ev.Status = StatusChanged
		} else {
			ev.Status = StatusAdded
		}
		pd.terms = b.chunkTerms(doc, pd.chunks)
		pending = append(pending, pd)
		progress(ev)
	}
	return pending
}

func (b *Base) chunkTerms(doc *Document, chunks []Chunk) []chunkTerms {
	out := make([]chunkTerms, len(chunks))
	for i, c := range chunks {
		parents := c.Section
		if len(parents) > 0 && parents[len(parents)-1] == c.Heading {
			parents = parents[:len(parents)-1]
		}
		ctxText := doc.Title + " " + strings.Join(parents, " ") + " " + strings.Join(doc.Tags, " ")
		head := b.analyzer.Analyze(c.Heading, doc.Language)
		body := b.analyzer.Analyze(c.Text, doc.Language)
		out[i] = chunkTerms{head: joinTerms(head), ctx: b.analyzer.Terms(ctxText, doc.Language), body: joinTerms(body),
			n: len(head) + len(body)}
	}
	return out
}

func joinTerms(toks []Token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.Term
	}
	return strings.Join(parts, " ")
}

// embedText is what the embedder sees for a passage: where it is, then
// what it says.
func embedText(doc *Document, c Chunk) string {
	label := doc.Title
	if s := c.SectionLabel(); s != "" {
		label += " › " + s
	}
	return label + "\n" + c.Text
}

// embedAll embeds every pending passage, by language, in batches.
func (b *Base) embedAll(ctx context.Context, pending []*pendingDoc, rep *SyncReport, progress func(Progress)) error {
	type ref struct{ doc, chunk int }
	byLang := map[string][]ref{}
	total := 0
	for i, p := range pending {
		p.vectors = make([][]float32, len(p.chunks))
		for j := range p.chunks {
			byLang[p.doc.Language] = append(byLang[p.doc.Language], ref{i, j})
			total++
		}
	}
	langs := make([]string, 0, len(byLang))
	for l := range byLang {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	const batch = 256
	done := 0
	for _, lang := range langs {
		refs := byLang[lang]
		for s := 0; s < len(refs); s += batch {
			part := refs[s:min(s+batch, len(refs))]
			texts := make([]string, len(part))
			for k, r := range part {
				texts[k] = embedText(pending[r.doc].doc, pending[r.doc].chunks[r.chunk])
			}
			vecs, err := b.embedder.Embed(ctx, EmbedRequest{Texts: texts, Lang: lang, Purpose: ForDocument})
			if err != nil {
				return fmt.Errorf("knowledge: embedding with %s: %w", b.embedder.Model(), err)
			}
			if len(vecs) != len(part) {
				return fmt.Errorf("knowledge: embedder returned %d vectors for %d texts", len(vecs), len(part))
			}
			for k, r := range part {
				pending[r.doc].vectors[r.chunk] = vecs[k]
			}
			done += len(part)
			rep.Embedded += len(part)
			progress(Progress{Stage: StageEmbed, Done: done, Total: total})
		}
	}
	return nil
}

// apply writes one sync's changes; it runs in a transaction (and may run
// again if the transaction is retried).
func (b *Base) apply(ctx context.Context, q store.Q, pending []*pendingDoc, removed []string, existing map[string]docRow, source string) error {
	delta := &statsDelta{df: map[string]int{}}
	now := b.now()
	model := b.embedder.Model()
	for _, p := range removed {
		id := existing[p].id
		if err := removeChunks(ctx, q, id, delta); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM kb_documents WHERE id = $1`, id); err != nil {
			return fmt.Errorf("knowledge: remove %s: %w", p, err)
		}
	}
	dims := 0
	for _, p := range pending {
		id, err := b.writeDocument(ctx, q, p, now, delta)
		if err != nil {
			return err
		}
		if err := insertChunks(ctx, q, id, p, model); err != nil {
			return fmt.Errorf("knowledge: save %s: %w", p.doc.Path, err)
		}
		for i := range p.chunks {
			delta.add(p.terms[i], 1)
			dims = len(p.vectors[i])
		}
	}
	if err := applyDF(ctx, q, delta.df); err != nil {
		return err
	}
	if dims > 0 {
		if err := ensureHNSW(ctx, q, model, dims); err != nil {
			return err
		}
	}
	_, err := q.Exec(ctx, `UPDATE kb_state SET generation = generation + 1, chunks = chunks + $1,
		total_terms = total_terms + $2, source = $3, model = $4, synced_at = $5 WHERE id = 1`,
		delta.chunks, delta.terms, source, model, now)
	if err != nil {
		return fmt.Errorf("knowledge: update state: %w", err)
	}
	return nil
}

func (b *Base) writeDocument(ctx context.Context, q store.Q, p *pendingDoc, now time.Time, delta *statsDelta) (int64, error) {
	d := p.doc
	tags, _ := json.Marshal(append([]string{}, d.Tags...))
	model := b.embedder.Model()
	if p.existing != nil {
		if err := removeChunks(ctx, q, p.existing.id, delta); err != nil {
			return 0, err
		}
		bump := 0
		if p.existing.hash != p.hash {
			bump = 1
		}
		_, err := q.Exec(ctx, `UPDATE kb_documents SET format = $2, title = $3, language = $4, updated = $5, audience = $6,
			tags = $7, hash = $8, version = version + $9, model = $10, chunk_count = $11, size_bytes = $12, synced_at = $13,
			translation_of = $14 WHERE id = $1`, p.existing.id, string(d.Format), d.Title, d.Language, d.Updated, d.Audience,
			string(tags), p.hash, bump, model, len(p.chunks), p.size, now, d.TranslationOf)
		if err != nil {
			return 0, fmt.Errorf("knowledge: update %s: %w", d.Path, err)
		}
		return p.existing.id, nil
	}
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO kb_documents (path, format, title, language, updated, audience, tags, hash,
		version, model, chunk_count, size_bytes, synced_at, translation_of)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $13)
		RETURNING id`, d.Path, string(d.Format), d.Title, d.Language, d.Updated, d.Audience, string(tags), p.hash, model,
		len(p.chunks), p.size, now, d.TranslationOf).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("knowledge: insert %s: %w", d.Path, err)
	}
	return id, nil
}

// insertChunks writes a document's passages, many per statement (one
// round trip per document, not per passage).
func insertChunks(ctx context.Context, q store.Q, docID int64, p *pendingDoc, model string) error {
	const cols = 12
	const per = 64
	for start := 0; start < len(p.chunks); start += per {
		end := min(start+per, len(p.chunks))
		vals := make([]string, 0, end-start)
		args := make([]any, 0, cols*(end-start))
		for i := start; i < end; i++ {
			c, t := p.chunks[i], p.terms[i]
			vals = append(vals, "("+placeholders(len(args)+1, cols)+")")
			args = append(args, docID, c.Ord, c.Kind, c.SectionLabel(), c.Heading, c.Text, t.head, t.ctx, t.body, t.n, model,
				vectorArg(q.Dialect(), p.vectors[i]))
		}
		rows, err := q.Query(ctx, `INSERT INTO kb_chunks (document_id, ord, kind, section, heading, body, head_terms, ctx_terms,
			body_terms, n_terms, model, embedding) VALUES `+strings.Join(vals, ", ")+` RETURNING id, ord`, args...)
		if err != nil {
			return err
		}
		ids := map[int]int64{} // by ord: RETURNING does not promise the VALUES order
		for rows.Next() {
			var id int64
			var ord int
			if err := rows.Scan(&id, &ord); err != nil {
				rows.Close()
				return err
			}
			ids[ord] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if q.Dialect() != store.SQLite {
			continue
		}
		for i := start; i < end; i++ {
			t := p.terms[i]
			if _, err := q.Exec(ctx, `INSERT INTO kb_fts (rowid, head, body, ctx) VALUES ($1, $2, $3, $4)`,
				ids[p.chunks[i].Ord], t.head, t.body, t.ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// statsDelta accumulates changes to the term statistics.
type statsDelta struct {
	df     map[string]int
	chunks int64
	terms  int64
}

func (d *statsDelta) add(t chunkTerms, sign int) {
	for term := range distinctTerms(t.head, t.ctx, t.body) {
		d.df[term] += sign
	}
	d.chunks += int64(sign)
	d.terms += int64(sign * t.n)
}

func distinctTerms(fields ...string) map[string]bool {
	out := map[string]bool{}
	for _, f := range fields {
		for _, t := range strings.Fields(f) {
			out[t] = true
		}
	}
	return out
}

func removeChunks(ctx context.Context, q store.Q, docID int64, delta *statsDelta) error {
	rows, err := q.Query(ctx, `SELECT head_terms, ctx_terms, body_terms, n_terms FROM kb_chunks WHERE document_id = $1`, docID)
	if err != nil {
		return fmt.Errorf("knowledge: read old passages: %w", err)
	}
	for rows.Next() {
		var t chunkTerms
		if err := rows.Scan(&t.head, &t.ctx, &t.body, &t.n); err != nil {
			rows.Close()
			return err
		}
		delta.add(t, -1)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if q.Dialect() == store.SQLite {
		if _, err := q.Exec(ctx, `DELETE FROM kb_fts WHERE rowid IN (SELECT id FROM kb_chunks WHERE document_id = $1)`, docID); err != nil {
			return fmt.Errorf("knowledge: remove old passages: %w", err)
		}
	}
	if _, err := q.Exec(ctx, `DELETE FROM kb_chunks WHERE document_id = $1`, docID); err != nil {
		return fmt.Errorf("knowledge: remove old passages: %w", err)
	}
	return nil
}

// applyDF adds the document-frequency changes, many terms per statement.
func applyDF(ctx context.Context, q store.Q, df map[string]int) error {
	terms := make([]string, 0, len(df))
	for t, d := range df {
		if d != 0 {
			terms = append(terms, t)
		}
	}
	sort.Strings(terms) // a stable order: concurrent writers lock rows alike
	const per = 400
	for s := 0; s < len(terms); s += per {
		part := terms[s:min(s+per, len(terms))]
		args := make([]any, 0, 2*len(part))
		vals := make([]string, len(part))
		for i, t := range part {
			vals[i] = fmt.Sprintf("($%d, $%d)", 2*i+1, 2*i+2)
			args = append(args, t, df[t])
		}
		_, err := q.Exec(ctx, `INSERT INTO kb_terms (term, df) VALUES `+strings.Join(vals, ", ")+`
			ON CONFLICT (term) DO UPDATE SET df = kb_terms.df + excluded.df`, args...)
		if err != nil {
			return fmt.Errorf("knowledge: update term statistics: %w", err)
		}
	}
	if _, err := q.Exec(ctx, `DELETE FROM kb_terms WHERE df <= 0`); err != nil {
		return fmt.Errorf("knowledge: update term statistics: %w", err)
	}
	return nil
}

func loadDocRows(ctx context.Context, q store.Q) (map[string]docRow, error) {
	rows, err := q.Query(ctx, `SELECT id, path, hash, model, version FROM kb_documents`)
	if err != nil {
		return nil, fmt.Errorf("knowledge: list documents: %w", err)
	}
	defer rows.Close()
	out := map[string]docRow{}
	for rows.Next() {
		var r docRow
		var p string
		if err := rows.Scan(&r.id, &p, &r.hash, &r.model, &r.version); err != nil {
			return nil, err
		}
		out[p] = r
	}
	return out, rows.Err()
}

// listDocuments returns the supported files under fsys, sorted; hidden
// files and folders (".git", "~$draft.docx" lock files) are left out.
func listDocuments(fsys fs.FS) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$")) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && FormatOf(name) != "" {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// readDocument reads a file, refusing one over MaxFileBytes before reading it.
func readDocument(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, &ParseError{Path: p, Reason: "cannot open", Err: unwrapPathError(err)}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > MaxFileBytes {
		return nil, &ParseError{Path: p, Reason: fmt.Sprintf("file too large (%d MB; the limit is %d MB)", st.Size()>>20, MaxFileBytes>>20)}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, &ParseError{Path: p, Reason: "cannot read", Err: unwrapPathError(err)}
	}
	return data, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
