package patients

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Verification is what one conversation has proven about who it is.
type Verification struct {
	ConversationID int64
	// PatientID is the candidate while a code is outstanding, and the
	// verified patient afterwards.
	PatientID     *int64
	Method        string
	Phone         string // a number the channel vouched for (Telegram contact)
	CodeHash      string
	CodeExpiresAt *time.Time
	Failures      int
	LockedUntil   *time.Time
	VerifiedAt    *time.Time
	ExpiresAt     *time.Time
}

// Valid reports whether the conversation is verified at now.
func (v Verification) Valid(now time.Time) bool {
	return v.PatientID != nil && v.VerifiedAt != nil && v.ExpiresAt != nil && now.Before(*v.ExpiresAt)
}

// Locked reports whether verification is locked after too many failures.
func (v Verification) Locked(now time.Time) bool {
	return v.LockedUntil != nil && now.Before(*v.LockedUntil)
}

// Policy says how long things last and how many tries a patient gets.
type Policy struct {
	// TTL is how long a verification holds.
	TTL time.Duration
	// MaxFailures wrong answers lock verification for LockFor.
	MaxFailures int
	LockFor     time.Duration
	// CodeTTL is how long a one-time code may be entered.
	CodeTTL time.Duration
}

// WithDefaults fills unset fields: 30 minutes, 3 failures, a 30-minute
// lock, 10-minute codes.
func (p Policy) WithDefaults() Policy {
	if p.TTL <= 0 {
		p.TTL = 30 * time.Minute
	}
	if p.MaxFailures <= 0 {
		p.MaxFailures = 3
	}
	if p.LockFor <= 0 {
		p.LockFor = 30 * time.Minute
	}
	if p.CodeTTL <= 0 {
		p.CodeTTL = 10 * time.Minute
	}
	return p
}

// Fail counts a wrong answer and reports whether it locked verification.
func (p Policy) Fail(v *Verification, now time.Time) (locked bool) {
	v.Failures++
	if v.Failures >= p.MaxFailures {
		until := now.Add(p.LockFor)
		v.LockedUntil, v.Failures = &until, 0
		v.PatientID, v.Phone, v.CodeHash, v.CodeExpiresAt = nil, "", "", nil
		return true
	}
	return false
}

// Succeed marks v verified as patient id until now+TTL.
func (p Policy) Succeed(v *Verification, id int64, now time.Time) {
	exp := now.Add(p.TTL)
	v.PatientID, v.VerifiedAt, v.ExpiresAt = &id, &now, &exp
	v.Failures, v.LockedUntil, v.CodeHash, v.CodeExpiresAt = 0, nil, "", nil
}

const verificationCols = `conversation_id, patient_id, method, phone, code_hash, code_expires_at, failures,
	locked_until, verified_at, expires_at`

// LoadVerification returns the conversation's verification record (a blank
// one when there is none).
func LoadVerification(ctx context.Context, q store.Q, conversationID int64) (Verification, error) {
	v := Verification{ConversationID: conversationID}
	err := q.QueryRow(ctx, `SELECT `+verificationCols+` FROM patient_verifications WHERE conversation_id = $1`,
		conversationID).Scan(&v.ConversationID, &v.PatientID, &v.Method, &v.Phone, &v.CodeHash, &v.CodeExpiresAt,
		&v.Failures, &v.LockedUntil, &v.VerifiedAt, &v.ExpiresAt)
	if errors.Is(err, store.ErrNotFound) {
		return Verification{ConversationID: conversationID}, nil
	}
	if err == nil {
		v.Phone, err = q.Open(purposeVerifiedPhone, v.Phone)
	}
	if err != nil {
		return v, fmt.Errorf("patients: load verification: %w", err)
	}
	return v, nil
}

// purposeVerifiedPhone seals the number a channel vouched for.
const purposeVerifiedPhone = "patient_verifications.phone"

// SaveVerification writes the conversation's verification record.
func SaveVerification(ctx context.Context, q store.Q, v Verification, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO patient_verifications (`+verificationCols+`, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (conversation_id) DO UPDATE SET patient_id = excluded.patient_id, method = excluded.method,
		phone = excluded.phone, code_hash = excluded.code_hash, code_expires_at = excluded.code_expires_at,
		failures = excluded.failures, locked_until = excluded.locked_until, verified_at = excluded.verified_at,
		expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
		v.ConversationID, v.PatientID, v.Method, q.Seal(purposeVerifiedPhone, v.Phone), v.CodeHash, v.CodeExpiresAt, v.Failures, v.LockedUntil,
		v.VerifiedAt, v.ExpiresAt, now)
	if err != nil {
		return fmt.Errorf("patients: save verification: %w", err)
	}
	return nil
}

// OutstandingCodes counts the unexpired codes issued for a patient across
// all conversations, to stop anyone from flooding a patient's phone.
func OutstandingCodes(ctx context.Context, q store.Q, patientID int64, now time.Time) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM patient_verifications WHERE patient_id = $1 AND code_hash <> ''
		AND code_expires_at > $2`, patientID, now).Scan(&n)
	return n, err
}

// NewCode returns a random six-digit one-time code.
func NewCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // the system's random source failed: nothing is safe to issue
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// HashCode binds a code to its conversation, so that the stored hash is
// useless elsewhere; codes are never stored in the clear.
func HashCode(conversationID int64, code string) string {
	m := hmac.New(sha256.New, []byte("tend-otp:"+strconv.FormatInt(conversationID, 10)))
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckCode reports whether code is the conversation's outstanding code.
func CheckCode(v Verification, code string, now time.Time) bool {
	if v.CodeHash == "" || v.CodeExpiresAt == nil || !now.Before(*v.CodeExpiresAt) {
		return false
	}
	return hmac.Equal([]byte(v.CodeHash), []byte(HashCode(v.ConversationID, code)))
}

// MatchDOB returns the one patient among candidates born on dob, if exactly one.
func MatchDOB(candidates []Patient, dob Date) (Patient, bool) {
	var found []Patient
	for _, p := range candidates {
		if p.BirthDate == dob.String() {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		return Patient{}, false
	}
	return found[0], true
}
