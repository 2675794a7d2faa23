package store

import (
	"fmt"
	"strings"
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
