package prices

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/knowledge"
)

// Catalog is the clinic's price lists in the store.
type Catalog struct {
	db    *store.DB
	an    *knowledge.Analyzer
	cache indexCache
	words wordLists
}

// NewCatalog returns the price lists of db; an analyzes descriptions and
// questions the way the knowledge base does (nil: the default analyzer).
func NewCatalog(db *store.DB, an *knowledge.Analyzer) *Catalog {
	if an == nil {
		an = knowledge.DefaultAnalyzer()
	}
	return &Catalog{db: db, an: an}
}

// List is one imported price list.
type List struct {
	ID         int64
	Name       string
	File       File
	Payers     []Payer
	Items      int
	Rates      int
	Source     string // see ImportOptions.Source
	ImportedAt time.Time
}

// Payer is a payer and plan of a list's rates.
type Payer struct {
	Payer string `json:"payer"`
	Plan  string `json:"plan"`
}

// Opener opens the file to import; an import that must start again (a
// transient database conflict) opens it again rather than hold it in
// memory.
type Opener func() (io.ReadCloser, error)

// batchRates is how many rates (or items) are held before they are
// written: COPY on PostgreSQL, INSERTs of sqliteRowsPerInsert rows on
// SQLite. Memory stays flat: a batch is a few megabytes.
const batchRates = 10000

// Import reads a price file and, when it has no problems, replaces the
// price list of that name with it in one transaction: a file with a
// problem, or a failure half-way, leaves the previous list as it was.
// The report's Err says what is wrong with the file.
func (c *Catalog) Import(ctx context.Context, name string, format Format, open Opener, o ImportOptions) (Report, error) {
	if o.DryRun {
		return parseOpened(open, format, func(*Item) error { return nil })
	}
	var rep Report
	err := c.db.InTx(ctx, func(tx *store.Tx) error {
		w, err := c.startList(ctx, tx, name, format, o.Source)
		if err != nil {
			return err
		}
		defer w.close()
		var perr error
		rep, perr = parseOpened(open, format, w.add)
		werr := w.finish(perr == nil && rep.OK())
		switch {
		case werr != nil:
			return werr
		case perr != nil:
			return perr
		case !rep.OK():
			return errBroken
		}
		return w.finishList(ctx, rep)
	})
	if errors.Is(err, errBroken) {
		return rep, nil
	}
	return rep, err
}

// ImportOptions adjust an import.
type ImportOptions struct {
	// DryRun only reads and checks the file.
	DryRun bool
	// Source identifies the file's version (TEND_PRICES_DIR: size and
	// modification time), kept with the list.
	Source string
}

// errBroken rolls back the import of a file with problems.
var errBroken = errors.New("prices: the file has problems")

func parseOpened(open Opener, format Format, emit func(*Item) error) (Report, error) {
	f, err := open()
	if err != nil {
		return Report{}, err
	}
	defer f.Close()
	return Parse(f, format, emit)
}

// writer buffers one import's rows and writes them in batches.
type writer struct {
	c      *Catalog
	tx     *store.Tx
	listID int64
	name   string
	ord    int
	cur    batch
	stmts  map[string]*sql.Stmt // SQLite: the full-size INSERT of each table, prepared once
	terms  map[string]string    // description -> terms, for the last descriptions of this import
	payers map[Payer]bool
	order  []Payer
	ctx    context.Context

	// Three goroutines: the file is read and checked (Parse), its items
	// are analyzed and encoded into batches (encode), and the batches are
	// written (the writing goroutine), each stage while the others run:
	// on PostgreSQL the writing is mostly the server's, on SQLite it is
	// the heaviest stage, and the machine has more than one core. Items
	// go in chunks; a written batch comes back through free to be filled
	// again, so memory stays at batchesInFlight batches and chunksInFlight
	// chunks, and the garbage collector has little new.
	pending   []*Item
	pendingN  int // rows of pending
	chunks    chan []*Item
	writeLast bool // set before chunks is closed: write the last batch
	out       chan batch
	free      chan batch
	done      chan error
	failed    atomic.Bool
	ended     bool
}

// chunkRows is about how many rows (items and rates) go to the encoding
// goroutine at a time: few channel operations, little memory.
const chunkRows = 1000

// chunksInFlight: one being encoded, one waiting, one being filled.
const chunksInFlight = 2

// batch is one write's rows of each table (one allocation per batch, not
// per row).
type batch struct{ items, codes, rates tableRows }

// batchesInFlight: one being filled, one waiting, one being written.
const batchesInFlight = 3

// maxTermsCached bounds the descriptions whose terms are remembered during
// an import (a description repeats for each setting or code of a
// service), so that memory stays flat on a file of millions of items.
const maxTermsCached = 50_000

// errWriteFailed stops reading a file whose rows can no longer be written
// (the writer's error is the one returned).
var errWriteFailed = errors.New("prices: writing failed")

func (c *Catalog) startList(ctx context.Context, tx *store.Tx, name string, format Format, source string) (*writer, error) {
	// The new list is written beside the old one, which goes when the new
	// one is complete (finishList): a new list always gets a new id, also
	// on SQLite, which reuses the largest id once its row is gone, so that
	// a button naming an item of the old list ("<id>.<ord>") never finds
	// an item of the new one.
	var id int64
	err := tx.Querier().QueryRow(ctx, `INSERT INTO price_lists (name, format, source, imported_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		importingName(name), string(format), source, time.Now().UTC()).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("prices: new list: %w", err)
	}
	w := &writer{c: c, tx: tx, listID: id, name: name, terms: map[string]string{}, payers: map[Payer]bool{}, ctx: ctx,
		chunks: make(chan []*Item, chunksInFlight-1), out: make(chan batch, 1), free: make(chan batch, batchesInFlight),
		done: make(chan error, 1)}
	pg := tx.Querier().Dialect() == store.Postgres
	for range batchesInFlight {
		w.free <- newBatch(pg)
	}
	w.cur = <-w.free
	go w.encodeChunks()
	go func() {
		var err error
		for b := range w.out {
			if err == nil {
				if err = w.write(ctx, b); err != nil {
					w.failed.Store(true)
				}
			}
			b.items.reset()
			b.codes.reset()
			b.rates.reset()
			w.free <- b
		}
		w.done <- err
	}()
	return w, nil
}

// importingName is a list's name while its import runs (names are
// unique): a list's name ends in .json or .csv, so it is never another's.
func importingName(name string) string { return name + ".importing" }

// dropList deletes the list of that name, if any, with its rows: the
// tables have no foreign keys (migration 00177), whose check of every
// imported row was most of PostgreSQL's work in an import.
func dropList(ctx context.Context, q store.Q, name string) (int64, error) {
	for _, table := range []string{"price_rates", "price_codes", "price_items"} {
		if _, err := q.Exec(ctx, `DELETE FROM `+table+` WHERE list_id IN (SELECT id FROM price_lists WHERE name = $1)`, name); err != nil {
			return 0, fmt.Errorf("prices: delete %s: %w", table, err)
		}
	}
	return q.Exec(ctx, `DELETE FROM price_lists WHERE name = $1`, name)
}

// add queues an item (Parse's emit): the encoding goroutine takes the
// queued items a chunk at a time.
func (w *writer) add(it *Item) error {
	if w.failed.Load() {
		return errWriteFailed
	}
	if w.pending == nil {
		w.pending = make([]*Item, 0, chunkRows/2)
	}
	w.pending = append(w.pending, it)
	if w.pendingN += 1 + len(it.Rates); w.pendingN >= chunkRows {
		w.chunks <- w.pending
		w.pending, w.pendingN = nil, 0
	}
	return nil
}

// encodeChunks encodes the queued items into batches and hands full
// batches to the writing goroutine, until chunks is closed; then the last
// batch too when writeLast, and it closes out.
func (w *writer) encodeChunks() {
	for chunk := range w.chunks {
		if w.failed.Load() {
			continue // drain: the import is failing
		}
		for _, it := range chunk {
			w.encode(it)
		}
	}
	if w.writeLast && w.cur.items.len()+w.cur.rates.len() > 0 {
		w.send()
	}
	close(w.out)
}

// encode writes an item's rows into the current batch (its description's
// terms computed, or remembered).
func (w *writer) encode(it *Item) {
	w.ord++
	terms, ok := w.terms[it.Description]
	if !ok {
		terms = w.c.descriptionTerms(it.Description)
		if len(w.terms) == maxTermsCached {
			clear(w.terms)
		}
		w.terms[it.Description] = terms
	}
	b := w.cur
	for _, cd := range it.Codes {
		b.codes.row()
		b.codes.int8(w.listID)
		b.codes.int4(w.ord)
		b.codes.label(cd.Type)
		b.codes.text(cd.Code)
		b.codes.text(codeKey(cd.Code))
	}
	b.items.row()
	b.items.int8(w.listID)
	b.items.int4(w.ord)
	b.items.text(it.Description)
	b.items.text(joinCodes(it.Codes))
	b.items.label(it.Setting)
	b.items.label(strings.Join(it.Modifiers, "|"))
	b.items.label(string(it.DrugUnit))
	b.items.label(it.DrugType)
	for _, v := range [...]Amount{it.Gross, it.Cash, it.Min, it.Max} {
		b.items.text(string(v))
	}
	b.items.label(it.Notes)
	b.items.label(it.BillingClass)
	b.items.text(terms)
	for i := range it.Rates {
		r := &it.Rates[i]
		b.rates.row()
		b.rates.int8(w.listID)
		b.rates.int4(w.ord)
		b.rates.int4(i)
		b.rates.label(r.Payer)
		b.rates.label(r.Plan)
		b.rates.text(string(r.Dollar))
		b.rates.label(string(r.Percentage))
		b.rates.label(r.Algorithm)
		b.rates.label(r.Methodology)
		for _, v := range [...]Amount{r.Median, r.P10, r.P90} {
			b.rates.text(string(v))
		}
		b.rates.label(r.Count)
		b.rates.text(string(r.Estimated))
		b.rates.label(r.Notes)
		if p := (Payer{r.Payer, r.Plan}); !w.payers[p] {
			w.payers[p] = true
			w.order = append(w.order, p)
		}
	}
	if b.rates.len() >= batchRates || b.items.len() >= batchRates {
		w.send()
	}
}

// joinCodes is the item's codes as stored: "CPT 70551|RC 611".
func joinCodes(codes []Code) string {
	if len(codes) == 1 {
		return codes[0].String()
	}
	s := make([]string, len(codes))
	for i, cd := range codes {
		s[i] = cd.String()
	}
	return strings.Join(s, "|")
}

func (w *writer) send() {
	w.out <- w.cur
	w.cur = <-w.free
}

// newBatch has room for a full batch, so that no row's append copies the
// ones before it.
func newBatch(pg bool) batch {
	if pg {
		// 16 bytes per field: a buffer grows once if the file's text is
		// longer, and is reused for every batch after.
		return batch{items: newCopyRows(len(itemCols), batchRates*len(itemCols)*16),
			codes: newCopyRows(len(codeCols), batchRates*len(codeCols)*16),
			rates: newCopyRows(len(rateCols), (batchRates+maxRatesPerItem)*len(rateCols)*16)}
	}
	return batch{items: newArgRows(len(itemCols), batchRates), codes: newArgRows(len(codeCols), batchRates),
		rates: newArgRows(len(rateCols), batchRates+maxRatesPerItem)}
}

// maxRatesPerItem is slack for the rates of the item that fills a batch.
const maxRatesPerItem = 64

// finish writes the last rows when write is true, and waits for every
// batch to be written; the error is the first write's that failed.
func (w *writer) finish(write bool) error {
	if write && len(w.pending) > 0 {
		w.chunks <- w.pending
	}
	w.pending = nil
	w.writeLast = write
	if !write {
		w.failed.Store(true) // nothing more to encode: the import rolls back
	}
	w.ended = true
	close(w.chunks)
	return <-w.done
}

var (
	itemCols = []string{"list_id", "ord", "description", "codes", "setting", "modifiers", "drug_unit", "drug_type",
		"gross", "cash", "min_charge", "max_charge", "notes", "billing_class", "terms"}
	codeCols = []string{"list_id", "ord", "code_type", "code", "code_key"}
	rateCols = []string{"list_id", "ord", "seq", "payer", "plan", "dollar", "percentage", "algorithm", "methodology",
		"median", "p10", "p90", "count", "estimated", "notes"}
)

func (w *writer) write(ctx context.Context, b batch) error {
	tables := []struct {
		table string
		cols  []string
		rows  tableRows
	}{{"price_items", itemCols, b.items}, {"price_codes", codeCols, b.codes}, {"price_rates", rateCols, b.rates}}
	for _, t := range tables {
		if t.rows.len() == 0 {
			continue
		}
		var err error
		switch rows := t.rows.(type) {
		case *copyRows:
			err = rows.copyTo(ctx, w.tx.PgxTx().Conn().PgConn(), t.table, t.cols)
		case *argRows:
			err = w.insertRows(ctx, t.table, t.cols, rows.vals)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sqliteRowsPerInsert rows go in one statement: well under SQLite's
// parameter limit, and binding gets slower per parameter in big
// statements (measured: 1,000 rows of $n parameters imported 700 rows/s).
const sqliteRowsPerInsert = 100

// insertRows writes rows with multi-row INSERTs (SQLite; ? parameters,
// which bind by position). The full-size statement of a table is prepared
// once per import: preparing it for every 100 rows took a tenth of the
// import.
func (w *writer) insertRows(ctx context.Context, table string, cols []string, vals []any) error {
	for len(vals) > 0 {
		n := min(len(vals)/len(cols), sqliteRowsPerInsert)
		args := vals[:n*len(cols)]
		var err error
		if n == sqliteRowsPerInsert {
			var st *sql.Stmt
			if st, err = w.stmt(ctx, table, cols); err == nil {
				_, err = st.ExecContext(ctx, args...)
			}
		} else {
			_, err = w.tx.Querier().Exec(ctx, insertSQL(table, cols, n), args...)
		}
		if err != nil {
			return fmt.Errorf("prices: write %s: %w", table, err)
		}
		vals = vals[n*len(cols):]
	}
	return nil
}

func (w *writer) stmt(ctx context.Context, table string, cols []string) (*sql.Stmt, error) {
	if st, ok := w.stmts[table]; ok {
		return st, nil
	}
	st, err := w.tx.SQLTx().PrepareContext(ctx, insertSQL(table, cols, sqliteRowsPerInsert))
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	w.stmts[table] = st
	return st, nil
}

// close stops the writing goroutine (an import that failed half-way) and
// releases the prepared statements.
func (w *writer) close() {
	if !w.ended {
		_ = w.finish(false)
	}
	for _, st := range w.stmts {
		_ = st.Close()
	}
}

func insertSQL(table string, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

func (w *writer) finishList(ctx context.Context, rep Report) error {
	f := rep.File
	payers := w.order
	if payers == nil {
		payers = []Payer{}
	}
	license := f.LicenseNumber
	if f.LicenseState != "" {
		license += " (" + f.LicenseState + ")"
	}
	if _, err := dropList(ctx, w.tx.Querier(), w.name); err != nil {
		return err
	}
	_, err := w.tx.Querier().Exec(ctx, `UPDATE price_lists SET name = $13, format = $2, version = $3, hospital_name = $4,
		last_updated_on = $5, locations = $6, addresses = $7, license = $8, provisions = $9, payers = $10, items = $11,
		rates = $12 WHERE id = $1`, w.listID, string(f.Format), f.Version, f.HospitalName, f.LastUpdatedOn,
		mustJSON(nonNil(f.Locations)), mustJSON(nonNil(f.Addresses)), license, f.Provisions,
		mustJSON(payers), rep.Items, rep.Rates, w.name)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings and structs of strings always marshal
	}
	return string(b)
}

// codeKey is how codes are compared: upper case, without leading zeros.
func codeKey(code string) string {
	k := strings.TrimLeft(strings.ToUpper(strings.TrimSpace(code)), "0")
	if k == "" {
		return "0"
	}
	return k
}

// Lists are the imported price lists, by name.
func (c *Catalog) Lists(ctx context.Context, q store.Q) ([]List, error) {
	return store.Collect[List](q.Query(ctx, `SELECT id, name, format, version, hospital_name, last_updated_on,
		locations, addresses, license, provisions, payers, items, rates, source, imported_at FROM price_lists ORDER BY name`))(scanList)
}

func scanList(r store.Row) (List, error) {
	var l List
	var format, locs, addrs, payers string
	err := r.Scan(&l.ID, &l.Name, &format, &l.File.Version, &l.File.HospitalName, &l.File.LastUpdatedOn, &locs, &addrs,
		&l.File.LicenseNumber, &l.File.Provisions, &payers, &l.Items, &l.Rates, &l.Source, &l.ImportedAt)
	if err != nil {
		return l, err
	}
	l.File.Format = Format(format)
	for _, p := range []struct {
		raw string
		to  any
	}{{locs, &l.File.Locations}, {addrs, &l.File.Addresses}, {payers, &l.Payers}} {
		if err := json.Unmarshal([]byte(p.raw), p.to); err != nil {
			return l, fmt.Errorf("prices: list %s: %w", l.Name, err)
		}
	}
	return l, nil
}

// Delete removes a price list; false when there is none of that name.
func (c *Catalog) Delete(ctx context.Context, name string) (bool, error) {
	var n int64
	err := c.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = dropList(ctx, tx.Querier(), name)
		return err
	})
	return n > 0, err
}

// Items reads every item of a list with its rates, in file order (the
// rows a wide file splits merged). It holds the whole list in memory: for
// checks and small lists, not for a hospital's full file.
func (c *Catalog) Items(ctx context.Context, q store.Q, name string) ([]Item, error) {
	lists, err := c.Lists(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, l := range lists {
		if l.Name != name {
			continue
		}
		ords, err := store.IDs(q.Query(ctx, `SELECT ord FROM price_items WHERE list_id = $1 ORDER BY ord`, l.ID))
		if err != nil {
			return nil, err
		}
		var out []Item
		for len(ords) > 0 {
			n := min(len(ords), maxLoaded)
			hits := make([]hit, n)
			for i, o := range ords[:n] {
				hits[i] = hit{listID: l.ID, ord: int(o)}
			}
			ms, err := c.load(ctx, q, hits, map[int64]List{l.ID: l}, 0)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				out = append(out, m.Item)
			}
			ords = ords[n:]
		}
		return out, nil
	}
	return nil, fmt.Errorf("prices: no price list named %q", name)
}
