package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/csvfile"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
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
	var out []DueRow
	problems, err := csvfile.Read(r, []string{"patient", "item"}, func(get csvfile.Get) string {
		row := DueRow{Patient: get("patient"), Item: strings.ToLower(get("item")), LastDone: get("last_done"), Due: get("due")}
		if msg := row.check(); msg != "" {
			return msg
		}
		out = append(out, row)
		return ""
	})
	if err != nil {
		return nil, fmt.Errorf("due items: %w", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("due items: %d problem(s), nothing imported:\n  %s", len(problems), strings.Join(problems, "\n  "))
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
