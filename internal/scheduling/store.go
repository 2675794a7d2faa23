package scheduling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// ErrNoSchedule means no schedule was ever imported.
var ErrNoSchedule = errors.New("scheduling: no schedule imported")

// Save validates a schedule and stores it as the current version, in the
// caller's transaction. Providers and locations that still have upcoming
// booked appointments may not disappear.
func Save(ctx context.Context, tx *store.Tx, s Schedule, source string, now time.Time, holidays ...string) (*Directory, error) {
	d, err := Compile(s, holidays...)
	if err != nil {
		return nil, err
	}
	if err := checkOrphans(ctx, tx.Q, d, now); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(d.Schedule)
	if err != nil {
		return nil, fmt.Errorf("scheduling: encode: %w", err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO schedule_versions (document, source, imported_at) VALUES ($1, $2, $3) RETURNING id`,
		string(doc), source, now).Scan(&d.Version); err != nil {
		return nil, fmt.Errorf("scheduling: save: %w", err)
	}
	return d, nil
}

func checkOrphans(ctx context.Context, q store.Q, d *Directory, now time.Time) error {
	rs, err := q.Query(ctx, `SELECT DISTINCT provider_id, location_id, visit_type FROM appointments
		WHERE status = 'booked' AND starts_at > $1`, now)
	if err != nil {
		return fmt.Errorf("scheduling: check appointments: %w", err)
	}
	defer rs.Close()
	var errs []LineError
	for rs.Next() {
		var p, l, v string
		if err := rs.Scan(&p, &l, &v); err != nil {
			return err
		}
		if _, ok := d.Provider(p); !ok {
			errs = append(errs, LineError{Path: "providers", Msg: fmt.Sprintf("%q has upcoming appointments and cannot be removed", p)})
		}
		if _, ok := d.Location(l); !ok {
			errs = append(errs, LineError{Path: "locations", Msg: fmt.Sprintf("%q has upcoming appointments and cannot be removed", l)})
		}
		if _, ok := d.VisitType(v); !ok {
			errs = append(errs, LineError{Path: "visit_types", Msg: fmt.Sprintf("%q has upcoming appointments and cannot be removed", v)})
		}
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if len(errs) > 0 {
		return &ImportError{Errors: errs}
	}
	return nil
}

// currentVersion is the id of the newest schedule (0 when none).
func currentVersion(ctx context.Context, q store.Q) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM schedule_versions ORDER BY id DESC LIMIT 1`).Scan(&id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return id, err
}

// Load reads and compiles the current schedule.
func Load(ctx context.Context, q store.Q, holidays ...string) (*Directory, error) {
	var id int64
	var doc string
	err := q.QueryRow(ctx, `SELECT id, document FROM schedule_versions ORDER BY id DESC LIMIT 1`).Scan(&id, &doc)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSchedule
	}
	if err != nil {
		return nil, fmt.Errorf("scheduling: load: %w", err)
	}
	var s Schedule
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		return nil, fmt.Errorf("scheduling: decode version %d: %w", id, err)
	}
	d, err := Compile(s, holidays...)
	if err != nil {
		return nil, fmt.Errorf("scheduling: version %d: %w", id, err)
	}
	d.Version = id
	return d, nil
}

// cache keeps the compiled directory; one cheap query per use tells
// whether another replica imported a newer version.
type cache struct {
	mu  sync.Mutex
	dir *Directory
}

func (c *cache) get(ctx context.Context, q store.Q, holidays []string) (*Directory, error) {
	id, err := currentVersion(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("scheduling: version: %w", err)
	}
	if id == 0 {
		return nil, ErrNoSchedule
	}
	c.mu.Lock()
	d := c.dir
	c.mu.Unlock()
	if d != nil && d.Version == id {
		return d, nil
	}
	d, err = Load(ctx, q, holidays...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.dir == nil || c.dir.Version < d.Version {
		c.dir = d
	}
	c.mu.Unlock()
	return d, nil
}
