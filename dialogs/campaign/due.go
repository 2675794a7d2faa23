package campaign

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/patients"
)

// DueRow is one imported due item: the patient's record number, the item
// ("mammogram", "flu-shot", "refill"), when it was last done and when it is
// next due (either may be empty).
type DueRow struct {
	Patient  string `json:"patient"`
	Item     string `json:"item"`
	LastDone string `json:"last_done,omitempty"`
	Due      string `json:"due,omitempty"`
}

// ParseDueCSV reads "patient,item,last_done,due" (header required; dates
// YYYY-MM-DD); every problem is reported by line and nothing is returned.
func ParseDueCSV(r io.Reader) ([]DueRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, errors.New("due items: line 1: a header row patient,item,last_done,due is required")
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, col := range []string{"patient", "item"} {
		if _, ok := idx[col]; !ok {
			return nil, fmt.Errorf("due items: line 1: column %q is missing", col)
		}
	}
	var out []DueRow
	var errs []string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, err.Error())
			break
		}
		get := func(col string) string {
			if i, ok := idx[col]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := DueRow{Patient: get("patient"), Item: strings.ToLower(get("item")), LastDone: get("last_done"), Due: get("due")}
		if msg := row.check(); msg != "" {
			errs = append(errs, fmt.Sprintf("line %d: %s", line, msg))
			continue
		}
		out = append(out, row)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("due items: %d problem(s), nothing imported:\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
	return out, nil
}

func (r DueRow) check() string {
	switch {
	case r.Patient == "":
		return "patient (the record number) is missing"
	case r.Item == "" || len(r.Item) > 48:
		return "item must be 1-48 characters"
	case r.LastDone == "" && r.Due == "":
		return "give last_done, due or both"
	}
	for _, d := range []string{r.LastDone, r.Due} {
		if d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return fmt.Sprintf("%q is not a date like 2026-10-01", d)
			}
		}
	}
	return ""
}

// ImportDue stores due items in one transaction; an unknown record number
// fails the whole import.
func ImportDue(ctx context.Context, db *store.DB, rows []DueRow, now time.Time) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		for i, r := range rows {
			p, err := patients.GetByExternalID(ctx, tx.Q, r.Patient)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("due items: row %d: no patient with that record number", i+1)
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO patient_due_items (patient_id, item, last_done_on, due_on, updated_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (patient_id, item) DO UPDATE SET
				last_done_on = excluded.last_done_on, due_on = excluded.due_on, updated_at = excluded.updated_at`,
				p.ID, r.Item, r.LastDone, r.Due, now); err != nil {
				return fmt.Errorf("due items: %w", err)
			}
		}
		return nil
	})
}
