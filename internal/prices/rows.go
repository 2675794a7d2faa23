package prices

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// tableRows are one batch's rows of one table, written value by value in
// the table's column order (itemCols, codeCols, rateCols), in the form
// the store takes them: a flat argument slice for SQLite's INSERTs, the
// binary COPY format for PostgreSQL. Encoding while the file is read
// keeps the writing goroutine to the database's own work.
type tableRows interface {
	row()
	int8(int64)
	int4(int)
	text(string)
	label(string) // a text value that repeats (a payer, a plan, a setting)
	len() int     // rows
	reset()
}

// argRows are SQLite's: the values of row after row in one slice, which
// the prepared INSERT takes as its arguments.
type argRows struct {
	vals   []any
	cols   int
	labels map[string]any // label values, each boxed once
	last   any            // the last int4, boxed: an item's rates share its ord
}

func newArgRows(cols, rows int) *argRows {
	return &argRows{vals: make([]any, 0, cols*rows), cols: cols, labels: map[string]any{}}
}

// maxLabels bounds the boxed labels remembered (a file of many payers).
const maxLabels = 1024

func (r *argRows) row()          {}
func (r *argRows) int8(v int64)  { r.vals = append(r.vals, v) }
func (r *argRows) text(s string) { r.vals = append(r.vals, s) }
func (r *argRows) len() int      { return len(r.vals) / r.cols }
func (r *argRows) reset()        { clear(r.vals); r.vals = r.vals[:0] }

// int4 appends an int64, a driver.Value that database/sql does not
// convert. Boxing one allocates from 256 on: the last such value is kept
// boxed, as an item's rates share its ord (seq stays below 256).
func (r *argRows) int4(v int) {
	if v < 256 {
		r.vals = append(r.vals, int64(v))
		return
	}
	if r.last != int64(v) {
		r.last = int64(v)
	}
	r.vals = append(r.vals, r.last)
}

// label appends a value that repeats row after row boxed once: putting a
// string in an interface allocates, and a batch is most of its values.
func (r *argRows) label(s string) {
	v, ok := r.labels[s]
	if !ok {
		if len(r.labels) == maxLabels {
			clear(r.labels)
		}
		v = s
		r.labels[s] = v
	}
	r.vals = append(r.vals, v)
}

// copyRows are PostgreSQL's: the body of COPY ... (FORMAT binary), each
// row its field count, then each field's length and bytes (big endian).
// The file's text needs no escaping in this format, and pgx has no value
// to convert per field.
type copyRows struct {
	buf  []byte
	rows int
	cols int
}

// copyHeader starts every binary COPY: signature, flags, extension length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func newCopyRows(cols, bytes int) *copyRows {
	r := &copyRows{buf: make([]byte, 0, bytes), cols: cols}
	r.reset()
	return r
}

func (r *copyRows) row() {
	r.buf = binary.BigEndian.AppendUint16(r.buf, uint16(r.cols))
	r.rows++
}

func (r *copyRows) int8(v int64) {
	r.buf = binary.BigEndian.AppendUint32(r.buf, 8)
	r.buf = binary.BigEndian.AppendUint64(r.buf, uint64(v))
}

func (r *copyRows) int4(v int) {
	r.buf = binary.BigEndian.AppendUint32(r.buf, 4)
	r.buf = binary.BigEndian.AppendUint32(r.buf, uint32(int32(v)))
}

func (r *copyRows) text(s string) {
	r.buf = binary.BigEndian.AppendUint32(r.buf, uint32(len(s)))
	r.buf = append(r.buf, s...)
}

func (r *copyRows) label(s string) { r.text(s) }

func (r *copyRows) len() int { return r.rows }
func (r *copyRows) reset()   { r.buf, r.rows = append(r.buf[:0], copyHeader...), 0 }

// copyTo sends the rows with one COPY on the connection of the
// transaction (which the list's INSERT has begun).
func (r *copyRows) copyTo(ctx context.Context, pc *pgconn.PgConn, table string, cols []string) error {
	body := binary.BigEndian.AppendUint16(r.buf, 0xffff) // the trailer: -1 fields
	sql := "COPY " + table + " (" + strings.Join(cols, ", ") + ") FROM STDIN (FORMAT binary)"
	if _, err := pc.CopyFrom(ctx, bytes.NewReader(body), sql); err != nil {
		return fmt.Errorf("prices: write %s: %w", table, err)
	}
	return nil
}
