package privacy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

type auditPage struct {
	Rows       []audit.Row `json:"rows"`
	NextBefore int64       `json:"next_before"`
	HeadSeq    int64       `json:"head_seq"`
	HeadHash   string      `json:"head_hash"`
}

// TestAdminAPIIsAudited: every staff request is in the audit trail with its
// actor, action and subject: reading the registry, a patient's
// verification and consent, unlocking, the sign-in, refused attempts, and
// reading the audit trail itself. No row holds a name or a contact detail.
// When the trail cannot be written, nothing is read or changed (503).
// Both stores.
func TestAdminAPIIsAudited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		p := e.patient(walter.record)
		id := strconv.FormatInt(p.ID, 10)
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/v1/patients"},
			{"GET", "/api/v1/patients/" + id + "/verification"},
			{"POST", "/api/v1/patients/" + id + "/verification/unlock"},
			{"GET", "/api/v1/patients/" + id + "/consent"},
			{"GET", "/api/v1/appointments?patient_id=" + id},
		} {
			rec := e.do(r.method, r.path, "")
			require.Equal(t, http.StatusOK, rec.Code, "%s %s: %s", r.method, r.path, rec.Body.String())
		}
		// A browser signs in, and someone guesses a token.
		signIn := httptest.NewRequest("POST", "/api/v1/admin/session", nil)
		signIn.Header.Set("Authorization", "Bearer "+staff)
		rec := httptest.NewRecorder()
		e.http.ServeHTTP(rec, signIn)
		require.Equal(t, http.StatusOK, rec.Code)
		guess := httptest.NewRequest("GET", "/api/v1/patients", nil)
		guess.Header.Set("Authorization", "Bearer not-the-token-0123456789")
		rec = httptest.NewRecorder()
		e.http.ServeHTTP(rec, guess)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		// The cookie's CSRF rule still holds, and the refusal is recorded.
		forged := httptest.NewRequest("POST", "/api/v1/patients/"+id+"/erase", nil)
		forged.AddCookie(&http.Cookie{Name: httpserver.AdminCookie, Value: httpserver.AdminBrowserKey(staff)})
		forged.Header.Set("Sec-Fetch-Site", "same-origin")
		rec = httptest.NewRecorder()
		e.http.ServeHTTP(rec, forged)
		require.Equal(t, http.StatusForbidden, rec.Code)

		page := decode[auditPage](t, e.do("GET", "/api/v1/audit?limit=50", ""))
		type row struct{ actor, action, subject string }
		var got []row
		for i := len(page.Rows) - 1; i >= 0; i-- {
			r := page.Rows[i]
			got = append(got, row{r.Actor, r.Action, r.Subject})
		}
		require.Equal(t, []row{
			{"admin-token", "patients.list", ""},
			{"admin-token", "patient.verification.read", "patient:" + id},
			{"admin-token", "patient.verification.unlock", "patient:" + id},
			{"admin-token", "patient.consent.read", "patient:" + id},
			{"admin-token", "appointments.list", "patient:" + id},
			{"admin-token", "admin.sign_in", ""},
			{"anonymous", "admin.refused", ""},
			{"anonymous", "admin.refused", ""},
			{"admin-token", "audit.list", ""},
		}, got)
		require.Equal(t, page.Rows[0].Seq, page.HeadSeq)
		require.Contains(t, string(page.Rows[1].Detail), `"reason":"csrf"`)
		for _, r := range page.Rows {
			for _, s := range []string{"Walter", "Brooks", walter.email, walter.phone, walter.dob} {
				require.NotContains(t, string(r.Detail)+r.Subject+r.Action, s)
			}
		}
		// Filtered by subject; the audit trail's own reads are audited.
		page = decode[auditPage](t, e.do("GET", "/api/v1/audit?subject=patient:"+id+"&limit=2", ""))
		require.Len(t, page.Rows, 2)
		require.Positive(t, page.NextBefore)
		n, err := audit.List(ctx, db.Q(), audit.Filter{Action: "audit.list"})
		require.NoError(t, err)
		require.Len(t, n, 2)
		require.Equal(t, http.StatusBadRequest, e.do("GET", "/api/v1/audit?before=x", "").Code)

		// The trail cannot be written: the unlock does not happen, the export
		// does not answer.
		_, err = db.Q().Exec(ctx, `ALTER TABLE audit_head RENAME TO audit_head_away`)
		require.NoError(t, err)
		rec = e.do("GET", "/api/v1/patients/"+id+"/export", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.NotContains(t, rec.Body.String(), walter.last)
		require.Equal(t, http.StatusServiceUnavailable, e.do("GET", "/api/v1/patients", "").Code)
		_, err = db.Q().Exec(ctx, `ALTER TABLE audit_head_away RENAME TO audit_head`)
		require.NoError(t, err)
		rep, err := audit.Verify(ctx, db.Q())
		require.NoError(t, err)
		require.True(t, rep.OK())
	})
}
