package store

import (
	"fmt"
	"strings"
	"time"
)

// Where builds the WHERE clause of a filtered list query with numbered
// placeholders, so optional filters need no hand-counted $n.
type Where struct {
	conds []string
	args  []any
}

// Add appends a condition; each %s in cond stands for the next placeholder
// and takes the next value, e.g. w.Add("starts_at >= %s", from).
func (w *Where) Add(cond string, values ...any) {
	ph := make([]any, len(values))
	for i, v := range values {
		w.args = append(w.args, v)
		ph[i] = fmt.Sprintf("$%d", len(w.args))
	}
	w.conds = append(w.conds, fmt.Sprintf(cond, ph...))
}

// Between keeps rows whose col is in [from, to); a zero time leaves that
// end open, as a list's unset date filter.
func (w *Where) Between(col string, from, to time.Time) {
	if !from.IsZero() {
		w.Add(col+" >= %s", from)
	}
	if !to.IsZero() {
		w.Add(col+" < %s", to)
	}
}

// Equal keeps rows whose col is v, unless v is unset ("" or a zero int):
// a list's optional exact-match filter.
func (w *Where) Equal(col string, v any) {
	switch v {
	case "", 0, int64(0):
		return
	}
	w.Add(col+" = %s", v)
}

// Limit is " LIMIT $n" for n rows, or for most when n is not in 1..most:
// a list asked for none or too many gets the most it gives.
func (w *Where) Limit(n, most int) string {
	if n <= 0 || n > most {
		n = most
	}
	return " LIMIT " + w.Arg(n)
}

// Arg adds a value used outside the conditions (LIMIT) and returns its placeholder.
func (w *Where) Arg(v any) string {
	w.args = append(w.args, v)
	return fmt.Sprintf("$%d", len(w.args))
}

// SQL is " WHERE c1 AND c2 ..." or "" with no conditions.
func (w *Where) SQL() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Args are the values for the placeholders, in order.
func (w *Where) Args() []any { return w.args }
