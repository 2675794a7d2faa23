// Package csvfile reads the small CSV files staff import (visits, due
// items): a header row naming the columns in any order, then records read
// by column name, every problem collected by line.
package csvfile

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Get returns a record's value in a column ("" when absent), trimmed.
type Get func(column string) string

// Read calls row for each record after the header; row returns a problem
// ("" for none). The problems come back as "line N: problem".
func Read(r io.Reader, required []string, row func(get Get) string) ([]string, error) {
	cr := NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, errors.New("line 1: a header row is required")
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, col := range required {
		if _, ok := idx[col]; !ok {
			return nil, fmt.Errorf("line 1: column %q is missing", col)
		}
	}
	var problems []string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return problems, nil
		}
		if err != nil {
			return append(problems, err.Error()), nil
		}
		get := func(col string) string {
			if i, ok := idx[col]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if msg := row(get); msg != "" {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, msg))
		}
	}
}
