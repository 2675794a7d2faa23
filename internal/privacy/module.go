package privacy

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"golang.org/x/time/rate"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
)

// Module installs audit, retention, export and erase: every admin request
// is recorded (httpserver.SetAuditor), the retention job runs every hour,
// and staff get GET /api/v1/audit, GET /api/v1/patients/{id}/export and
// POST /api/v1/patients/{id}/erase. In serve mode it records at start what
// changed in the configuration and the knowledge base since last recorded.
type Module struct {
	// Contacts gives the verification subjects of a patient's phone and
	// e-mail (booking's Locks.Subjects), for export and erase; nil: none.
	Contacts Subjects
	// Policy, when set, replaces the retention policy of the configuration
	// (tests).
	Policy *Policy

	a       *host.Host
	dropped atomic.Int64
}

// Name implements host.Module.
func (m *Module) Name() string { return "privacy" }

// RetentionPolicy is the policy in force: TEND_RETENTION_MESSAGES,
// TEND_RETENTION_SURVEYS, TEND_RETENTION_APPOINTMENTS and the fixed periods
// of the other kinds.
func (m *Module) RetentionPolicy() Policy {
	if m.Policy != nil {
		return m.Policy.WithDefaults()
	}
	c := m.a.Config
	return Policy{Messages: c.RetentionMessages, Surveys: c.RetentionSurveys, Appointments: c.RetentionAppointments}.WithDefaults()
}

// Install registers the retention job and, with an HTTP server, the
// auditor and the routes.
func (m *Module) Install(_ context.Context, a *host.Host) error {
	m.a = a
	river.AddWorker(a.Workers, &RetentionWorker{DB: a.DB, Policy: m.RetentionPolicy(), Now: a.Clock.Now, Log: a.Log})
	a.AddPeriodic(retentionJob())
	if a.HTTP != nil {
		a.HTTP.SetAuditor(m.auditor())
		m.routes(a.HTTP, a.Config.AdminToken.Reveal())
	}
	return nil
}

// Start records what changed in the configuration and the knowledge base
// since the last start (serve mode).
func (m *Module) Start(ctx context.Context) error {
	if m.a == nil || m.a.Mode != host.ModeServe {
		return nil
	}
	if err := RecordConfigChanges(ctx, m.a.DB, m.a.Config, m.a.Clock.Now()); err != nil {
		return err
	}
	return RecordKBChange(ctx, m.a.DB, m.a.Clock.Now())
}

// refusedRate bounds the rows refused admin requests add (30 at once, then
// one every 2 s per replica), so that a flood of bad tokens cannot fill
// the trail; beyond it they are counted in the log.
const refusedBurst, refusedEvery = 30, 2 * time.Second

// auditor records each admin request before its handler runs.
func (m *Module) auditor() httpserver.Auditor {
	lim := rate.NewLimiter(rate.Every(refusedEvery), refusedBurst)
	return func(r *http.Request, refusal string) error {
		now := m.a.Clock.Now()
		if refusal != "" {
			if !lim.Allow() {
				if n := m.dropped.Add(1); n == 1 || n%100 == 0 {
					m.a.Log.Warn("audit: refused admin requests beyond the rate are not recorded", "dropped", n)
				}
				return nil
			}
			return audit.Record(r.Context(), m.a.DB, audit.Refused(r, now, refusal))
		}
		e, ok := audit.ForRequest(r, now)
		if !ok {
			return nil
		}
		if err := audit.Record(r.Context(), m.a.DB, e); err != nil {
			m.a.Log.Error("audit: could not record an admin request; refused it", "action", e.Action, "error", err)
			return err
		}
		return nil
	}
}
