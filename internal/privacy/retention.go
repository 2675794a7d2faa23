package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/store"
)

// Policy says how long each kind of personal data is kept
// (docs/security.md, "Retention", has the table and the reasons).
type Policy struct {
	// Messages: conversations' messages (both directions), what a
	// conversation's dialogs remember once it has been idle that long, the
	// questions kept for editors, WhatsApp replies held and delivery
	// statuses, and the Slack card of a handoff closed that long ago
	// (TEND_RETENTION_MESSAGES, 2 years; 0 keeps them). A conversation with
	// no activity for as long and nothing left or pending also loses its
	// channel address: see expireConversations.
	Messages time.Duration
	// Surveys: the free-text answers of a survey response (the reason for a
	// low score, the comment), that long after the visit
	// (TEND_RETENTION_SURVEYS, 2 years; 0 keeps them). The score and the
	// options chosen stay: they are what the survey reports count (NPS and
	// item means per provider, location and month), and they hold nothing
	// the patient wrote. The response stays tied to the registry record
	// until the patient is erased, which makes it anonymous.
	Surveys time.Duration
	// Appointments: Tend's own record of an appointment, that long after
	// it ended (TEND_RETENTION_APPOINTMENTS, 2 years; 0 keeps them). The
	// clinic's record system (the FHIR server, when the schedule uses one)
	// keeps the visit; Tend needs a past appointment only for a few days
	// (the survey after it, "same provider as last time").
	Appointments time.Duration
	// Verification: identity check records, counts and history (30 days).
	Verification time.Duration
	// Rejections: updates a channel sent that could not be recorded (90 days).
	Rejections time.Duration
	// BatchSize rows are deleted per statement (500).
	BatchSize int
	// Budget bounds one run (20 s); what is left is done by the same job
	// after a short snooze.
	Budget time.Duration
}

// What is not here is kept on purpose (docs/security.md, "Retention"):
//
//   - consent states and history of a registry patient ("patient:<id>")
//     stay while the patient exists: they are the proof that the clinic
//     could send what it sent, and that it stopped when asked; they hold
//     no message text, and an erase removes them;
//   - an opt-out said in a chat ("chat:<channel>:<address>") stays for
//     good, with its conversation's address and links, while it is in
//     force: Tend must go on honouring it whenever that address or that
//     patient is reached again. Consent looks opt-outs up by the address
//     itself, so it is kept as written, not as a keyed hash;
//   - the audit trail, which holds no personal data.

// Default retention periods.
const (
	DefaultMessages     = 2 * 365 * 24 * time.Hour
	DefaultSurveys      = 2 * 365 * 24 * time.Hour
	DefaultAppointments = 2 * 365 * 24 * time.Hour
	DefaultVerification = 30 * 24 * time.Hour
	DefaultRejections   = 90 * 24 * time.Hour
)

// WithDefaults fills unset fields (Messages, Surveys and Appointments stay
// as given: 0 keeps them).
func (p Policy) WithDefaults() Policy {
	if p.Verification <= 0 {
		p.Verification = DefaultVerification
	}
	if p.Rejections <= 0 {
		p.Rejections = DefaultRejections
	}
	if p.BatchSize <= 0 {
		p.BatchSize = 500
	}
	if p.Budget <= 0 {
		p.Budget = 20 * time.Second
	}
	return p
}

// rule is one kind of data: a statement that deletes (or clears) at most
// $2 rows older than $1, and the cutoff's age; or, for what one statement
// cannot do on both stores, a batch function.
type rule struct {
	name string
	age  func(Policy) time.Duration
	sql  string
	// now: the statement also takes $3, the current time.
	now bool
	// batch, when set, replaces sql.
	batch func(ctx context.Context, db *store.DB, b batch) (batchResult, error)
}

// batch is one batch of a rule done in Go: at most limit rows older than
// cutoff whose id is above after, in one transaction.
type batch struct {
	cutoff, now time.Time
	limit       int
	after       int64
}

// batchResult: how many rows the batch looked at (a full batch means more
// may follow), how many it changed, and the last id it looked at.
type batchResult struct {
	seen    int
	changed int64
	last    int64
}

func messagesAge(p Policy) time.Duration     { return p.Messages }
func surveysAge(p Policy) time.Duration      { return p.Surveys }
func appointmentsAge(p Policy) time.Duration { return p.Appointments }
func verificationAge(p Policy) time.Duration { return p.Verification }
func rejectionsAge(p Policy) time.Duration   { return p.Rejections }

// rules are applied in this order. Each statement touches at most one batch
// and commits on its own, so a crash loses at most a batch's work and the
// next run takes up where this one stopped.
var rules = []rule{
	{name: "inbound_messages", age: messagesAge, sql: `DELETE FROM inbound_messages WHERE id IN (SELECT id FROM inbound_messages
		WHERE received_at < $1 AND status <> 'pending' ORDER BY id LIMIT $2)`},
	{name: "outbound_messages", age: messagesAge, sql: `DELETE FROM outbound_messages WHERE id IN (SELECT id FROM outbound_messages
		WHERE created_at < $1 AND status IN ('sent', 'failed') ORDER BY id LIMIT $2)`},
	{name: "conversation_state", age: messagesAge, sql: `UPDATE conversations SET state = '{}', dialog = '' WHERE id IN (SELECT id
		FROM conversations WHERE updated_at < $1 AND (dialog <> '' OR state <> '{}') ORDER BY id LIMIT $2)`},
	{name: "kb_unanswered", age: messagesAge, sql: `DELETE FROM kb_unanswered WHERE id IN (SELECT id FROM kb_unanswered
		WHERE asked_at < $1 ORDER BY id LIMIT $2)`},
	{name: "whatsapp_held", age: messagesAge, sql: `DELETE FROM whatsapp_held WHERE id IN (SELECT id FROM whatsapp_held
		WHERE created_at < $1 ORDER BY id LIMIT $2)`},
	{name: "whatsapp_statuses", age: messagesAge, sql: `DELETE FROM whatsapp_statuses WHERE wamid IN (SELECT wamid FROM whatsapp_statuses
		WHERE updated_at < $1 ORDER BY wamid LIMIT $2)`},
	{name: "slack_cards", age: messagesAge, sql: `UPDATE slack_threads SET root = '{}' WHERE handoff_id IN (SELECT s.handoff_id
		FROM slack_threads s JOIN handoffs h ON h.id = s.handoff_id WHERE h.closed_at < $1 AND s.root <> '{}'
		ORDER BY s.handoff_id LIMIT $2)`},
	// After the messages: a conversation whose messages just went can lose
	// its address in the same run.
	{name: "conversations", age: messagesAge, batch: expireConversations},
	{name: "verification_events", age: verificationAge, sql: `DELETE FROM verification_events WHERE id IN (SELECT id
		FROM verification_events WHERE at < $1 ORDER BY id LIMIT $2)`},
	{name: "verification_limits", age: verificationAge, sql: `DELETE FROM verification_limits WHERE subject IN (SELECT subject
		FROM verification_limits WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $3)
		ORDER BY subject LIMIT $2)`, now: true},
	{name: "patient_verifications", age: verificationAge, sql: `DELETE FROM patient_verifications WHERE conversation_id IN (SELECT
		conversation_id FROM patient_verifications WHERE updated_at < $1 ORDER BY conversation_id LIMIT $2)`},
	{name: "inbound_rejections", age: rejectionsAge, sql: `DELETE FROM inbound_rejections WHERE id IN (SELECT id FROM inbound_rejections
		WHERE created_at < $1 ORDER BY id LIMIT $2)`},
	{name: "survey_free_text", age: surveysAge, batch: surveyFreeText},
	// Appointments that ended before the cutoff (starts_at too, for its
	// index), whatever their status; their slot rows go with them. The
	// newest row is never deleted: SQLite gives a new row the highest id
	// plus one, so deleting it could hand its id to the next appointment,
	// and "appt:<id>" is the survey's key for a visit.
	{name: "appointments", age: appointmentsAge, sql: `DELETE FROM appointments WHERE id IN (SELECT id FROM appointments
		WHERE starts_at < $1 AND ends_at < $1 AND id < (SELECT max(id) FROM appointments) ORDER BY id LIMIT $2)`},
}

// Applied counts what one run removed, per rule.
type Applied struct {
	Rows    map[string]int64
	Batches int
	// More is true when the budget ran out with work left.
	More bool
}

// Total is every row removed or cleared.
func (a Applied) Total() int64 {
	var n int64
	for _, v := range a.Rows {
		n += v
	}
	return n
}

// Apply runs the policy at now, batch by batch, until nothing is left or
// the budget is spent.
func (p Policy) Apply(ctx context.Context, db *store.DB, now time.Time) (Applied, error) {
	p = p.WithDefaults()
	res := Applied{Rows: map[string]int64{}}
	deadline := time.Now().Add(p.Budget)
	for _, r := range rules {
		age := r.age(p)
		if age <= 0 {
			continue
		}
		cutoff := now.Add(-age)
		var after int64
		for {
			if time.Now().After(deadline) {
				res.More = true
				return res, nil
			}
			var n int64
			var full bool
			if r.batch != nil {
				b, err := r.batch(ctx, db, batch{cutoff: cutoff, now: now, limit: p.BatchSize, after: after})
				if err != nil {
					return res, fmt.Errorf("retention: %s: %w", r.name, err)
				}
				n, full, after = b.changed, b.seen >= p.BatchSize, b.last
			} else {
				args := []any{cutoff, p.BatchSize}
				if r.now {
					args = append(args, now)
				}
				var err error
				if n, err = db.Q().Exec(ctx, r.sql, args...); err != nil {
					return res, fmt.Errorf("retention: %s: %w", r.name, err)
				}
				full = n >= int64(p.BatchSize)
			}
			res.Batches++
			if n > 0 {
				res.Rows[r.name] += n
			}
			if !full {
				break
			}
		}
	}
	return res, nil
}

// RetentionArgs is the durable periodic job that applies the policy.
type RetentionArgs struct{}

// Kind implements river.JobArgs.
func (RetentionArgs) Kind() string { return "retention" }

// InsertOpts: one retention job per period, whichever replica inserts it
// (a run with work left snoozes and goes on as the same job).
func (RetentionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: retentionEvery}}
}

// RetentionWorker runs RetentionArgs jobs.
type RetentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	DB     *store.DB
	Policy Policy
	Now    func() time.Time
	Log    *slog.Logger
	// After, when set, is called after each run (tests).
	After func(Applied)
}

// retentionEvery is how often the leader inserts the job.
const retentionEvery = time.Hour

// Work applies the policy; with work left it snoozes and goes on. What it
// removed is recorded in the audit trail (counts per kind, actor
// "system:retention"), and the chain's head is logged, so the logs hold
// anchors for `tend audit verify --anchor`.
func (w *RetentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error {
	now := w.Now()
	res, err := w.Policy.Apply(ctx, w.DB, now)
	if total := res.Total(); total > 0 {
		detail := map[string]any{"batches": res.Batches}
		for k, v := range res.Rows {
			detail[k] = v
		}
		actx := audit.WithActor(ctx, audit.System("retention"))
		if aerr := audit.Record(actx, w.DB, audit.For(actx, now, "retention.apply", "", detail)); aerr != nil && err == nil {
			err = aerr
		}
		w.Log.InfoContext(ctx, "retention: removed old personal data", "rows", total, "batches", res.Batches)
	}
	if seq, hash, herr := audit.Head(ctx, w.DB.Q()); herr == nil {
		w.Log.InfoContext(ctx, "audit chain head", "seq", seq, "hash", hash)
	}
	if w.After != nil {
		w.After(res)
	}
	if err != nil {
		return err
	}
	if res.More {
		return river.JobSnooze(time.Second)
	}
	return nil
}

// retentionJob inserts the job every hour, and once at start.
func retentionJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(retentionEvery),
		func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
