// Package patients is the patient registry (name, date of birth, contact
// details, language, channel, time zone, consent) with its CSV import, and
// the record of which conversation has proven to be which patient.
//
// Patient details are personal data: they are shown only to a verified
// patient and never logged; logs carry patient ids.
package patients

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Patient is one registered patient.
type Patient struct {
	ID               int64  `json:"id"`
	ExternalID       string `json:"external_id"` // the clinic's record number
	FirstName        string `json:"first_name"`
	LastName         string `json:"last_name"`
	BirthDate        string `json:"birth_date"` // YYYY-MM-DD
	Phone            string `json:"phone,omitempty"`
	Email            string `json:"email,omitempty"`
	Lang             string `json:"language,omitempty"`
	Channel          string `json:"channel,omitempty"`
	TimeZone         string `json:"time_zone,omitempty"`
	ConsentReminders bool   `json:"consent_reminders"`
	ConsentMessages  bool   `json:"consent_messages"`
	LastProviderID   string `json:"last_provider,omitempty"`
	// Sex is F, M, X or empty, as the clinic records it (campaign audiences).
	Sex       string    `json:"sex,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Location is the patient's time zone, or fallback when unset or unknown.
func (p Patient) Location(fallback *time.Location) *time.Location {
	if p.TimeZone != "" {
		if loc, err := time.LoadLocation(p.TimeZone); err == nil {
			return loc
		}
	}
	return fallback
}

const cols = `id, external_id, first_name, last_name, birth_date, phone, email, lang, channel, time_zone,
	consent_reminders, consent_messages, last_provider_id, created_at, updated_at, sex`

// The identifying fields (names, birth date, phone, e-mail) and sex are
// sealed at rest when a key is configured (docs/security.md, "Encryption at
// rest"); phone and e-mail also get keyed lookup hashes, which FindByPhone
// and FindByEmail search. The record number (external_id) stays plaintext:
// the import upserts on it and staff look patients up by it; so do the
// settings (language, channel, time zone, consent flags, last provider).
const (
	purposeFirstName = "patients.first_name"
	purposeLastName  = "patients.last_name"
	purposeBirthDate = "patients.birth_date"
	purposePhone     = "patients.phone"
	purposeEmail     = "patients.email"
	purposeSex       = "patients.sex"
)

// scanner reads one patient row for q, opening the sealed fields.
func scanner(q store.Q) func(store.Row) (Patient, error) {
	return func(r store.Row) (Patient, error) {
		var p Patient
		err := r.Scan(&p.ID, &p.ExternalID, &p.FirstName, &p.LastName, &p.BirthDate, &p.Phone, &p.Email, &p.Lang,
			&p.Channel, &p.TimeZone, &p.ConsentReminders, &p.ConsentMessages, &p.LastProviderID, &p.CreatedAt, &p.UpdatedAt, &p.Sex)
		if err != nil {
			return p, err
		}
		for _, f := range []struct {
			purpose string
			v       *string
		}{
			{purposeFirstName, &p.FirstName}, {purposeLastName, &p.LastName}, {purposeBirthDate, &p.BirthDate},
			{purposePhone, &p.Phone}, {purposeEmail, &p.Email}, {purposeSex, &p.Sex},
		} {
			if *f.v, err = q.Open(f.purpose, *f.v); err != nil {
				return Patient{}, fmt.Errorf("patients: read patient %d: %w", p.ID, err)
			}
		}
		return p, nil
	}
}

// Get loads a patient by id.
func Get(ctx context.Context, q store.Q, id int64) (Patient, error) {
	p, err := scanner(q)(q.QueryRow(ctx, `SELECT `+cols+` FROM patients WHERE id = $1`, id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("patients: get %d: %w", id, err)
	}
	return p, err
}

// FindByPhone lists the patients with a phone number (families may share one).
func FindByPhone(ctx context.Context, q store.Q, phone string) ([]Patient, error) {
	phone = NormalizePhone(phone)
	if phone == "" {
		return nil, nil
	}
	return findBy(ctx, q, "phone", purposePhone, phone)
}

// findBy lists the patients whose column equals value: by the keyed hashes
// under every key, and by the plaintext for rows written before a key was
// configured (a sealed value never equals a plaintext one).
func findBy(ctx context.Context, q store.Q, column, purpose, value string) ([]Patient, error) {
	var w store.Where
	cond, vals := column+" = %s", []any{value}
	if hashes := q.LookupHashes(purpose, value); len(hashes) > 0 {
		ph := make([]string, len(hashes))
		for i, h := range hashes {
			ph[i], vals = "%s", append(vals, h)
		}
		cond = "(" + cond + " OR " + column + "_hash IN (" + strings.Join(ph, ", ") + "))"
	}
	w.Add(cond, vals...)
	return list(ctx, q, `SELECT `+cols+` FROM patients`+w.SQL()+` ORDER BY id`, w.Args()...)
}

// FindByEmail lists the patients with an email address.
func FindByEmail(ctx context.Context, q store.Q, email string) ([]Patient, error) {
	email = NormalizeEmail(email)
	if email == "" {
		return nil, nil
	}
	return findBy(ctx, q, "email", purposeEmail, email)
}

// List returns patients by id, at most limit after the given id (paging).
func List(ctx context.Context, q store.Q, afterID int64, limit int) ([]Patient, error) {
	return list(ctx, q, `SELECT `+cols+` FROM patients WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
}

func list(ctx context.Context, q store.Q, sql string, args ...any) ([]Patient, error) {
	rs, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("patients: query: %w", err)
	}
	defer rs.Close()
	var out []Patient
	scan := scanner(q)
	for rs.Next() {
		p, err := scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rs.Err()
}

// Upsert inserts a patient or updates the one with the same external id,
// and sets p.ID.
func Upsert(ctx context.Context, q store.Q, p *Patient, now time.Time) error {
	p.Phone, p.Email = NormalizePhone(p.Phone), NormalizeEmail(p.Email)
	p.Lang = strings.ToLower(p.Lang)
	err := q.QueryRow(ctx, `INSERT INTO patients (external_id, first_name, last_name, birth_date, phone, email, lang,
		channel, time_zone, consent_reminders, consent_messages, last_provider_id, created_at, updated_at, sex,
		phone_hash, email_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16)
		ON CONFLICT (external_id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
		birth_date = excluded.birth_date, phone = excluded.phone, email = excluded.email, lang = excluded.lang,
		channel = excluded.channel, time_zone = excluded.time_zone, consent_reminders = excluded.consent_reminders,
		consent_messages = excluded.consent_messages, last_provider_id = excluded.last_provider_id,
		updated_at = excluded.updated_at, sex = excluded.sex, phone_hash = excluded.phone_hash,
		email_hash = excluded.email_hash
		RETURNING id, created_at`,
		p.ExternalID, q.Seal(purposeFirstName, p.FirstName), q.Seal(purposeLastName, p.LastName),
		q.Seal(purposeBirthDate, p.BirthDate), q.Seal(purposePhone, p.Phone), q.Seal(purposeEmail, p.Email), p.Lang,
		p.Channel, p.TimeZone, p.ConsentReminders, p.ConsentMessages, p.LastProviderID, now, q.Seal(purposeSex, p.Sex),
		q.LookupHash(purposePhone, p.Phone), q.LookupHash(purposeEmail, p.Email)).Scan(&p.ID, &p.CreatedAt)
	if err != nil {
		return fmt.Errorf("patients: upsert: %w", err)
	}
	p.UpdatedAt = now
	return nil
}

// SetLastProvider remembers whom the patient saw (or booked with) last, the
// default the booking dialog offers next time.
func SetLastProvider(ctx context.Context, q store.Q, id int64, providerID string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE patients SET last_provider_id = $2, updated_at = $3 WHERE id = $1`, id, providerID, now)
	if err != nil {
		return fmt.Errorf("patients: set last provider: %w", err)
	}
	return nil
}

// Count returns how many patients are registered.
func Count(ctx context.Context, q store.Q) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM patients`).Scan(&n)
	return n, err
}

// GetByExternalID loads a patient by the clinic's record number.
func GetByExternalID(ctx context.Context, q store.Q, externalID string) (Patient, error) {
	p, err := scanner(q)(q.QueryRow(ctx, `SELECT `+cols+` FROM patients WHERE external_id = $1`, externalID))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("patients: get by record number: %w", err)
	}
	return p, err
}
