package csvfile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// NewReader reads a staff file as spreadsheets write it: rows may have
// fewer cells than the header (the rest read as empty) and spaces after a
// comma are dropped.
func NewReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	return cr
}

// ReadHeader reads the header row. When there is none, problem says why
// ("the file is empty", or what could not be parsed) and line where.
func ReadHeader(cr *csv.Reader) (header []string, line int, problem string) {
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, 1, "the file is empty"
	}
	if err != nil {
		line, problem = ErrorAt(err, 1)
		return nil, line, problem
	}
	return header, 0, ""
}

// ErrorAt splits a read error into the line it names (line when it names
// none) and what went wrong, for a problem listed by line.
func ErrorAt(err error, line int) (int, string) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Line, pe.Err.Error()
	}
	return line, err.Error()
}

// Summary is the message of an import that stopped on problems: how many,
// then the first most of them, one a line.
func Summary[E error](problems []E, most int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s), nothing imported:", len(problems))
	for i, p := range problems {
		if i == most {
			fmt.Fprintf(&b, "\n  ... and %d more", len(problems)-most)
			break
		}
		b.WriteString("\n  " + p.Error())
	}
	return b.String()
}
