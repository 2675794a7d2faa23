package prices

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// maxProblems is how many problems a report lists; the rest are counted.
// A file broken on every row says so in its first lines.
const maxProblems = 100

// Report is what reading a file found.
type Report struct {
	File  File
	Items int // items and modifiers read (valid ones)
	Rates int // payer-specific charges of those items
	// Problems are the first maxProblems ways the file breaks the format;
	// More counts the others.
	Problems []Problem
	More     int
}

// OK reports a file without problems.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) count() int { return len(r.Problems) + r.More }

func (r *Report) problem(where, msg string) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, Problem{Where: where, Message: msg})
	} else {
		r.More++
	}
}

// Err is the report's problems as one error (nil when none).
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return &FormatError{Problems: r.Problems, More: r.More}
}

// FormatError is a file that breaks the format, with every problem found.
type FormatError struct {
	Problems []Problem
	More     int
}

func (e *FormatError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prices: the file breaks the CMS format in %d place(s):", len(e.Problems)+e.More)
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", e.More)
	}
	return b.String()
}

// FormatOf tells a file's layout by its name: ".json" is JSON, ".csv" is
// CSV (tall or wide, which the header row decides).
func FormatOf(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return JSON, nil
	case ".csv":
		return anyCSV, nil
	}
	return noFormat, fmt.Errorf("prices: %s: a price file ends in .json or .csv", filepath.Base(name))
}

// Parse reads a price file of the given layout (from FormatOf), calling
// emit for each valid item in file order; it holds one item at a time.
// Problems with the file are in the report; the error is for reading
// failures and emit's own errors, which stop the parse.
func Parse(r io.Reader, format Format, emit func(*Item) error) (Report, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	// A byte-order mark (Excel writes one) is not part of the first header.
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	if b, err := br.Peek(2); err == nil && (bytes.Equal(b, []byte("\xff\xfe")) || bytes.Equal(b, []byte("\xfe\xff"))) {
		var rep Report
		rep.problem("line 1", "the file is UTF-16: save it as UTF-8")
		return rep, nil
	}
	switch format {
	case JSON:
		return parseJSON(br, emit)
	case anyCSV, TallCSV, WideCSV:
		return parseCSV(br, emit)
	}
	return Report{}, fmt.Errorf("prices: unknown format %q", format)
}
