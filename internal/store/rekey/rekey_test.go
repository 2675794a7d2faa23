package rekey_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/rekey"
	"github.com/tend-health/tend/internal/store/storetest"
)

// Small batches, so that a handful of rows takes several jobs.
func TestMain(m *testing.M) {
	rekey.BatchSize = 3
	os.Exit(m.Run())
}

var at = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// phone is patient i's number in the rows fill writes for tag, as a
// patient would type it.
func phone(tag string, i int) string {
	return fmt.Sprintf("(555) %03d-20%02d", map[string]int{"plain": 1, "k1": 2, "k2": 3}[tag], i)
}

// fill writes, through the repository methods, a little of everything that
// is sealed: messages, replies and state, registry patients, a verified
// phone, Slack copies and the calendar-link secret.
func fill(t *testing.T, db *store.DB, tag string) {
	t.Helper()
	ctx := context.Background()
	for i := range 4 {
		chat := fmt.Sprintf("%s-chat-%d", tag, i)
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			m := store.Inbound{Channel: "web", ExternalID: chat + "-m", SenderID: chat, Text: "secret words " + tag,
				Meta: []byte(`{"first_name":"Zebulon"}`), ReceivedAt: at}
			c, _, err := tx.OpenWithInbound(ctx, chat, "en", at, &m, true)
			require.NoError(t, err)
			c.NextInSeq, c.HandledSeq, c.NextOutSeq = m.Seq, m.Seq, c.NextOutSeq+1
			c.State = []byte(`{"booking":{"claim":"zebulon@example.com"}}`)
			out := store.Outbound{ConversationID: c.ID, Seq: c.NextOutSeq, InboundID: &m.ID, Channel: "web",
				Body: []byte(`{"text":"Hello Zebulon"}`), CreatedAt: at}
			if err := tx.InsertOutbound(ctx, &out); err != nil {
				return err
			}
			if err := tx.SaveConversation(ctx, &c, at); err != nil {
				return err
			}
			p := patients.Patient{ExternalID: chat, FirstName: "Zebulon", LastName: "Quixote", BirthDate: "1931-07-04", Sex: "X",
				Phone: phone(tag, i), Email: fmt.Sprintf("zq%d-%s@example.com", i, tag)}
			if err := patients.Upsert(ctx, tx.Q, &p, at); err != nil {
				return err
			}
			v := patients.Verification{ConversationID: c.ID, PatientID: &p.ID, Phone: p.Phone}
			if err := patients.SaveVerification(ctx, tx.Q, v, at); err != nil {
				return err
			}
			h, _, err := handoff.Open(ctx, tx.Q, c.ID, "asked", false, at)
			if err != nil {
				return err
			}
			root := tx.SealJSON("slack_threads.root", `{"snapshot":{"first_name":"Zebulon"}}`)
			if _, err := tx.Exec(ctx, `INSERT INTO slack_threads (handoff_id, channel, root, created_at) VALUES ($1, 'C1', $2, $3)`,
				h.ID, root, at); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO slack_outbox (handoff_id, seq, op, body, created_at) VALUES ($1, 1, 'thread', $2, $3)`,
				h.ID, tx.SealJSON("slack_outbox.body", `{"text":"secret words"}`), at); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO console_users (email, role, totp_secret, created_at) VALUES ($1, 'staff', $2, $3)`,
				chat+"@clinic.example", tx.Seal("console_users.totp_secret", "JBSWY3DPEHPK3PXP"), at); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO slack_inbox (dedupe_key, thread, kind, body, received_at) VALUES ($1, 'C1:1', 'message', $2, $3)`,
				chat, tx.SealJSON("slack_inbox.body", `{"text":"staff words"}`), at)
			return err
		}))
	}
	_, err := db.Q().EnsureSecretKV(ctx, "booking:link_secret", "link-secret-"+tag, at)
	require.NoError(t, err)
}

// workers runs the rekey job on db until the test ends, as `tend serve` does.
func workers(t *testing.T, db *store.DB) {
	t.Helper()
	w := river.NewWorkers()
	river.AddWorker(w, &rekey.Worker{DB: db})
	c, err := jobs.New(db, jobs.Options{Workers: w})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, c.Start(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = c.Stop(sctx)
		cancel()
	})
}

func waitFinished(t *testing.T, db *store.DB, target string) rekey.Progress {
	t.Helper()
	var p rekey.Progress
	require.Eventually(t, func() bool {
		var ok bool
		var err error
		p, ok, err = rekey.LoadProgress(context.Background(), db.Q())
		require.NoError(t, err)
		return ok && p.Target == target && p.FinishedAt != nil
	}, 60*time.Second, 20*time.Millisecond)
	return p
}

// onlyKey asserts that every sealed value and lookup hash is under kid.
func onlyKey(t *testing.T, db *store.DB, kid string) rekey.Status {
	t.Helper()
	s, err := rekey.CountKeys(context.Background(), db)
	require.NoError(t, err)
	require.Equal(t, []string{kid}, s.InUse(), "%+v", s.Totals)
	require.Zero(t, s.Totals[""], "no plaintext left: %+v", s.Columns)
	for _, c := range s.Columns {
		require.NotEmpty(t, c.Keys, "every sealed column has values in this test: %s", c.Column)
	}
	return s
}

// readable asserts that everything reads back and lookups by phone and
// e-mail find their patient.
func readable(t *testing.T, db *store.DB, tag string) {
	t.Helper()
	ctx := context.Background()
	for i := range 4 {
		chat := fmt.Sprintf("%s-chat-%d", tag, i)
		c, err := db.Q().FindConversation(ctx, "web", chat)
		require.NoError(t, err)
		require.Contains(t, string(c.State), "zebulon@example.com")
		in, err := db.Q().RecentInbound(ctx, c.ID, 1)
		require.NoError(t, err)
		require.Equal(t, "secret words "+tag, in[0].Text)
		ps, err := patients.FindByPhone(ctx, db.Q(), phone(tag, i))
		require.NoError(t, err)
		require.Len(t, ps, 1, "phone lookup")
		require.Equal(t, "Quixote", ps[0].LastName)
		ps, err = patients.FindByEmail(ctx, db.Q(), fmt.Sprintf("ZQ%d-%s@example.com", i, tag))
		require.NoError(t, err)
		require.Len(t, ps, 1, "e-mail lookup")
		v, err := patients.LoadVerification(ctx, db.Q(), c.ID)
		require.NoError(t, err)
		require.Equal(t, ps[0].Phone, v.Phone)
	}
}

// TestRotation: plaintext written before any key is sealed by the job once
// a key is configured; a second key takes over from the first; the first
// can then be removed. Both stores, through River.
func TestRotation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		workers(t, db)
		fill(t, db, "plain")
		s, err := rekey.CountKeys(ctx, db)
		require.NoError(t, err)
		require.Empty(t, s.InUse(), "no key: everything is plaintext")
		require.Positive(t, s.Totals[""])

		// A key for the first time: what was written before reads back,
		// lookups find plaintext rows, and the job seals them.
		k1, k2 := sealed.Generate(), sealed.Generate()
		first := parse(t, k1)
		db.SetKeyring(first)
		readable(t, db, "plain")
		fill(t, db, "k1")
		started, err := rekey.AtStart(ctx, db, at)
		require.NoError(t, err)
		require.True(t, started, "a start with a new key seals what is not")
		p := waitFinished(t, db, first.Current())
		require.Positive(t, p.Rewritten)
		require.Zero(t, p.Unreadable)
		onlyKey(t, db, first.Current())
		readable(t, db, "plain")
		readable(t, db, "k1")
		started, err = rekey.AtStart(ctx, db, at)
		require.NoError(t, err)
		require.False(t, started, "nothing left to do")

		// Rotation: the new key first, the old one still configured.
		keys := parse(t, k2, k1)
		db.SetKeyring(keys)
		readable(t, db, "plain") // found under the old key's hashes
		fill(t, db, "k2")
		_, err = rekey.Start(ctx, db, at)
		require.NoError(t, err)
		waitFinished(t, db, keys.Current())
		onlyKey(t, db, keys.Current())

		// Nothing uses the old key any more: it can go.
		db.SetKeyring(parse(t, k2))
		for _, tag := range []string{"plain", "k1", "k2"} {
			readable(t, db, tag)
		}
		secret, err := db.Q().EnsureSecretKV(ctx, "booking:link_secret", "other", at)
		require.NoError(t, err)
		require.Equal(t, "link-secret-plain", secret)
	})
}

func parse(t *testing.T, keys ...string) *sealed.Keyring {
	t.Helper()
	k, err := sealed.Parse(strings.Join(keys, "\n"))
	require.NoError(t, err)
	return k
}
