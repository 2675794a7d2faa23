package patients

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Limits bound identity verification across every conversation, web
// session and channel. Wrong answers (a birth date that does not match, a
// wrong one-time code) are counted per subject in the database: the
// registry patient the attempt was about, the phone number or e-mail address
// it used, and the conversation. A new chat never starts from zero.
type Limits struct {
	// MaxFailures wrong answers in a row lock the subject.
	MaxFailures int
	// Backoff is the wait after a wrong answer before the next is heard;
	// it doubles with each further wrong answer.
	Backoff time.Duration
	// LockFor is the first lock; each further lock doubles it, up to LockMax.
	LockFor time.Duration
	LockMax time.Duration
	// CodesPerHour and CodesPerDay cap the one-time codes sent to one
	// patient, and to one phone number or address.
	CodesPerHour int
	CodesPerDay  int
	// Forget is how long after the last wrong answer (or the end of the last
	// lock) a subject's count starts again from zero.
	Forget time.Duration
}

// WithDefaults fills unset fields: 5 wrong answers lock for 1 hour,
// doubling up to 24 hours; a 2-second wait after a wrong answer, doubling;
// 3 codes an hour and 10 a day; counts forgotten after a day.
func (l Limits) WithDefaults() Limits {
	if l.MaxFailures <= 0 {
		l.MaxFailures = 5
	}
	if l.Backoff < 0 {
		l.Backoff = 0
	} else if l.Backoff == 0 {
		l.Backoff = 2 * time.Second
	}
	if l.LockFor <= 0 {
		l.LockFor = time.Hour
	}
	if l.LockMax < l.LockFor {
		l.LockMax = max(24*time.Hour, l.LockFor)
	}
	if l.CodesPerHour <= 0 {
		l.CodesPerHour = 3
	}
	if l.CodesPerDay < l.CodesPerHour {
		l.CodesPerDay = max(10, l.CodesPerHour)
	}
	if l.Forget <= 0 {
		l.Forget = 24 * time.Hour
	}
	return l
}

// LimitPatient is the limit subject of a registry patient.
func LimitPatient(id int64) string { return "patient:" + strconv.FormatInt(id, 10) }

// LimitConversation is the limit subject of one conversation.
func LimitConversation(id int64) string { return "conversation:" + strconv.FormatInt(id, 10) }

// LimitState is one subject's count.
type LimitState struct {
	Subject       string     `json:"subject"`
	Failures      int        `json:"failures"`
	LastFailureAt *time.Time `json:"last_failure_at,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	Locks         int        `json:"locks"`
	LockedUntil   *time.Time `json:"locked_until,omitempty"`
}

// Locked reports whether the subject is locked at now.
func (s LimitState) Locked(now time.Time) bool {
	return s.LockedUntil != nil && now.Before(*s.LockedUntil)
}

// Waiting reports whether the subject must wait before its next answer.
func (s LimitState) Waiting(now time.Time) bool {
	return s.NextAttemptAt != nil && now.Before(*s.NextAttemptAt)
}

// Verification events, kept for staff and for the code caps.
const (
	EventFailure      = "failure"       // a wrong answer
	EventLock         = "lock"          // too many wrong answers
	EventSuccess      = "success"       // verified
	EventCodeSent     = "code_sent"     // a one-time code went out
	EventCodeWithheld = "code_withheld" // a code was due but a cap or a lock held it back
	EventUnlock       = "unlock"        // staff lifted the lock
)

// LimitEvent is one entry of a subject's verification history.
type LimitEvent struct {
	Subject        string    `json:"subject"`
	Kind           string    `json:"kind"`
	ConversationID *int64    `json:"conversation_id,omitempty"`
	Channel        string    `json:"channel,omitempty"`
	At             time.Time `json:"at"`
}

// Attempt names where an answer came from, for the history.
type Attempt struct {
	ConversationID int64
	Channel        string
}

// Lock loads and locks the subjects' counts until the transaction ends, so
// answers about the same patient are judged one at a time on every replica
// (PostgreSQL; SQLite has one writer). Empty subjects are skipped. Counts
// older than Forget come back as zero.
func (l Limits) Lock(ctx context.Context, q store.Q, now time.Time, subjects ...string) (map[string]LimitState, error) {
	keys := slices.Clone(subjects)
	keys = slices.DeleteFunc(keys, func(s string) bool { return s == "" })
	slices.Sort(keys) // one order everywhere: no deadlocks
	keys = slices.Compact(keys)
	out := make(map[string]LimitState, len(keys))
	for _, k := range keys {
		if _, err := q.Exec(ctx, `INSERT INTO verification_limits (subject, updated_at) VALUES ($1, $2)
			ON CONFLICT (subject) DO NOTHING`, k, now); err != nil {
			return nil, fmt.Errorf("patients: verification limits: %w", err)
		}
		s := LimitState{Subject: k}
		err := q.QueryRow(ctx, `SELECT failures, last_failure_at, next_attempt_at, locks, locked_until
			FROM verification_limits WHERE subject = $1`+q.ForUpdate(), k).
			Scan(&s.Failures, &s.LastFailureAt, &s.NextAttemptAt, &s.Locks, &s.LockedUntil)
		if err != nil {
			return nil, fmt.Errorf("patients: verification limits: %w", err)
		}
		out[k] = l.forget(s, now)
	}
	return out, nil
}

// forget starts a quiet subject's count again.
func (l Limits) forget(s LimitState, now time.Time) LimitState {
	if s.Locked(now) {
		return s
	}
	if s.LastFailureAt != nil && now.Sub(*s.LastFailureAt) > l.Forget {
		s.Failures, s.NextAttemptAt = 0, nil
	}
	if s.LockedUntil != nil && now.Sub(*s.LockedUntil) > l.Forget {
		s.Locks, s.LockedUntil = 0, nil
	}
	return s
}

// Left is how many wrong answers the subjects allow before a lock.
func (l Limits) Left(states map[string]LimitState, subjects ...string) int {
	most := 0
	for _, k := range subjects {
		if s, ok := states[k]; ok && s.Failures > most {
			most = s.Failures
		}
	}
	return max(l.MaxFailures-most, 1)
}

// AnyLocked reports whether one of the subjects is locked.
func AnyLocked(states map[string]LimitState, now time.Time, subjects ...string) bool {
	for _, k := range subjects {
		if s, ok := states[k]; ok && s.Locked(now) {
			return true
		}
	}
	return false
}

// AnyWaiting reports whether one of the subjects must wait.
func AnyWaiting(states map[string]LimitState, now time.Time, subjects ...string) bool {
	for _, k := range subjects {
		if s, ok := states[k]; ok && s.Waiting(now) {
			return true
		}
	}
	return false
}

// Fail counts a wrong answer against each subject (locked by Lock first)
// and reports whether one of them is now locked. The wait before the next
// answer doubles with each wrong one; the MaxFailures-th locks for LockFor,
// doubling with each lock, at most LockMax.
func (l Limits) Fail(ctx context.Context, q store.Q, states map[string]LimitState, now time.Time, a Attempt, subjects ...string) (bool, error) {
	locked := false
	for _, k := range subjects {
		s, ok := states[k]
		if !ok || k == "" || s.Locked(now) {
			continue // a locked subject's answers are not judged
		}
		s.Failures++
		at := now
		s.LastFailureAt = &at
		kind := EventFailure
		if s.Failures >= l.MaxFailures {
			s.Locks++
			until := now.Add(l.lockLength(s.Locks))
			s.LockedUntil, s.Failures, s.NextAttemptAt = &until, 0, nil
			kind, locked = EventLock, true
		} else if l.Backoff > 0 {
			wait := min(l.Backoff<<(s.Failures-1), l.LockFor)
			next := now.Add(wait)
			s.NextAttemptAt = &next
		}
		if _, err := q.Exec(ctx, `UPDATE verification_limits SET failures = $2, last_failure_at = $3, next_attempt_at = $4,
			locks = $5, locked_until = $6, updated_at = $7 WHERE subject = $1`,
			k, s.Failures, s.LastFailureAt, s.NextAttemptAt, s.Locks, s.LockedUntil, now); err != nil {
			return false, fmt.Errorf("patients: verification limits: %w", err)
		}
		states[k] = s
		if err := recordEvent(ctx, q, k, kind, a, now); err != nil {
			return false, err
		}
		if kind == EventLock {
			if err := l.prune(ctx, q, now); err != nil {
				return false, err
			}
		}
	}
	return locked, nil
}

func (l Limits) lockLength(locks int) time.Duration {
	d := l.LockFor
	for i := 1; i < locks && d < l.LockMax; i++ {
		d *= 2
	}
	return min(d, l.LockMax)
}

// Succeed clears the subjects' counts: the patient proved who they are.
func (l Limits) Succeed(ctx context.Context, q store.Q, now time.Time, a Attempt, subjects ...string) error {
	for _, k := range subjects {
		if k == "" {
			continue
		}
		if _, err := q.Exec(ctx, `DELETE FROM verification_limits WHERE subject = $1`, k); err != nil {
			return fmt.Errorf("patients: verification limits: %w", err)
		}
	}
	for _, k := range subjects {
		if k != "" && isPatientSubject(k) {
			if err := recordEvent(ctx, q, k, EventSuccess, a, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func isPatientSubject(k string) bool { return len(k) > 8 && k[:8] == "patient:" }

// Unlock lifts the subjects' locks and counts (staff), and records it.
func Unlock(ctx context.Context, q store.Q, now time.Time, subjects ...string) error {
	for _, k := range subjects {
		if k == "" {
			continue
		}
		if _, err := q.Exec(ctx, `DELETE FROM verification_limits WHERE subject = $1`, k); err != nil {
			return fmt.Errorf("patients: unlock: %w", err)
		}
		if err := recordEvent(ctx, q, k, EventUnlock, Attempt{}, now); err != nil {
			return err
		}
	}
	return nil
}

// LimitStates reads subjects' counts without locking them (staff view);
// a subject with no count is absent.
func (l Limits) LimitStates(ctx context.Context, q store.Q, now time.Time, subjects ...string) ([]LimitState, error) {
	var out []LimitState
	for _, k := range subjects {
		if k == "" {
			continue
		}
		s := LimitState{Subject: k}
		err := q.QueryRow(ctx, `SELECT failures, last_failure_at, next_attempt_at, locks, locked_until
			FROM verification_limits WHERE subject = $1`, k).
			Scan(&s.Failures, &s.LastFailureAt, &s.NextAttemptAt, &s.Locks, &s.LockedUntil)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("patients: verification limits: %w", err)
		}
		out = append(out, l.forget(s, now))
	}
	return out, nil
}

// CodesSent counts the one-time codes sent to a subject since a time.
func CodesSent(ctx context.Context, q store.Q, subject string, since time.Time) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM verification_events WHERE subject = $1 AND kind = $2 AND at > $3`,
		subject, EventCodeSent, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("patients: codes sent: %w", err)
	}
	return n, nil
}

// CodeAllowed reports whether another code may go to every subject now
// (CodesPerHour and CodesPerDay each).
func (l Limits) CodeAllowed(ctx context.Context, q store.Q, now time.Time, subjects ...string) (bool, error) {
	for _, k := range subjects {
		if k == "" {
			continue
		}
		day, err := CodesSent(ctx, q, k, now.Add(-24*time.Hour))
		if err != nil {
			return false, err
		}
		hour, err := CodesSent(ctx, q, k, now.Add(-time.Hour))
		if err != nil {
			return false, err
		}
		if day >= l.CodesPerDay || hour >= l.CodesPerHour {
			return false, nil
		}
	}
	return true, nil
}

// RecordCode records a code sent (EventCodeSent) or held back
// (EventCodeWithheld) for each subject.
func RecordCode(ctx context.Context, q store.Q, kind string, now time.Time, a Attempt, subjects ...string) error {
	for _, k := range subjects {
		if k == "" {
			continue
		}
		if err := recordEvent(ctx, q, k, kind, a, now); err != nil {
			return err
		}
	}
	return nil
}

// LimitEvents is a subject's verification history since a time, newest
// first, at most limit entries.
func LimitEvents(ctx context.Context, q store.Q, subject string, since time.Time, limit int) ([]LimitEvent, error) {
	return store.Collect[LimitEvent](q.Query(ctx, `SELECT subject, kind, conversation_id, channel, at FROM verification_events
		WHERE subject = $1 AND at > $2 ORDER BY at DESC, id DESC LIMIT $3`, subject, since, limit))(func(r store.Row) (LimitEvent, error) {
		var e LimitEvent
		err := r.Scan(&e.Subject, &e.Kind, &e.ConversationID, &e.Channel, &e.At)
		return e, err
	})
}

// eventsKept is how long verification history is kept.
const eventsKept = 30 * 24 * time.Hour

func recordEvent(ctx context.Context, q store.Q, subject, kind string, a Attempt, now time.Time) error {
	var conv *int64
	if a.ConversationID != 0 {
		conv = &a.ConversationID
	}
	if _, err := q.Exec(ctx, `INSERT INTO verification_events (subject, kind, conversation_id, channel, at)
		VALUES ($1, $2, $3, $4, $5)`, subject, kind, conv, a.Channel, now); err != nil {
		return fmt.Errorf("patients: verification history: %w", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM verification_events WHERE subject = $1 AND at < $2`,
		subject, now.Add(-eventsKept)); err != nil {
		return fmt.Errorf("patients: verification history: %w", err)
	}
	return nil
}

// prune drops counts nobody has touched for a while and that hold no lock.
func (l Limits) prune(ctx context.Context, q store.Q, now time.Time) error {
	// Rows another transaction holds are skipped on PostgreSQL, so pruning
	// never waits for (or deadlocks with) an answer being judged.
	skip := ""
	if q.Dialect() == store.Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	_, err := q.Exec(ctx, `DELETE FROM verification_limits WHERE subject IN (SELECT subject FROM verification_limits
		WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $2) LIMIT 500`+skip+`)`, now.Add(-2*l.Forget), now)
	if err != nil {
		return fmt.Errorf("patients: verification limits: %w", err)
	}
	return nil
}
