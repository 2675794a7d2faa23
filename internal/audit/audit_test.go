package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 10, 15, 0, 0, 123456789, time.UTC)

func entry(i int, action, subject string) audit.Entry {
	return audit.Entry{At: t0.Add(time.Duration(i) * time.Minute), Actor: audit.ActorAdminToken, Action: action,
		Subject: subject, Detail: map[string]any{"n": i, "via": "bearer"}}
}

// Rows form one chain: seq 1, 2, 3 ..., each row's previous hash the hash
// of the row before; a rolled-back transaction leaves no row and the head
// where it was; lists filter and page; text is refused in the detail.
// Both stores.
func TestChain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := 1; i <= 5; i++ {
			subject := audit.Patient(int64(i % 2))
			require.NoError(t, audit.Record(ctx, db, entry(i, "patient.export", subject)))
		}
		require.NoError(t, audit.Record(ctx, db, entry(6, "kb.sync", ""), entry(7, "admin.sign_in", "")))

		rows, err := audit.List(ctx, db.Q(), audit.Filter{})
		require.NoError(t, err)
		require.Len(t, rows, 7)
		prev := audit.Genesis
		for i := len(rows) - 1; i >= 0; i-- {
			r := rows[i]
			require.Equal(t, int64(len(rows)-i), r.Seq)
			require.Equal(t, prev, r.PrevHash)
			require.Len(t, r.Hash, 64)
			prev = r.Hash
		}
		require.Equal(t, t0.Add(time.Minute).Truncate(time.Microsecond), rows[6].At, "microseconds, UTC")
		require.JSONEq(t, `{"n":1,"via":"bearer"}`, string(rows[6].Detail))

		// A row appended in a transaction that rolls back is not there.
		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			require.NoError(t, audit.Append(ctx, tx, entry(8, "patient.erase", "patient:1")))
			return boom
		})
		require.ErrorIs(t, err, boom)
		seq, hash, err := audit.Head(ctx, db.Q())
		require.NoError(t, err)
		require.Equal(t, int64(7), seq)
		require.Equal(t, rows[0].Hash, hash)

		rep, err := audit.Verify(ctx, db.Q())
		require.NoError(t, err)
		require.True(t, rep.OK(), "%+v", rep.Broken)
		require.Equal(t, int64(7), rep.Rows)

		// Filters and paging.
		got, err := audit.List(ctx, db.Q(), audit.Filter{Subject: "patient:1"})
		require.NoError(t, err)
		require.Len(t, got, 3)
		got, err = audit.List(ctx, db.Q(), audit.Filter{Action: "patient."})
		require.NoError(t, err)
		require.Len(t, got, 5)
		got, err = audit.List(ctx, db.Q(), audit.Filter{Action: "kb.sync"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		got, err = audit.List(ctx, db.Q(), audit.Filter{Before: 3, Limit: 1})
		require.NoError(t, err)
		require.Equal(t, int64(2), got[0].Seq)

		// The detail holds facts, never text.
		bad := entry(9, "patient.export", "patient:1")
		bad.Detail = map[string]any{"note": strings.Repeat("x", audit.MaxDetailString+1)}
		require.Error(t, audit.Record(ctx, db, bad))
		bad.Detail = map[string]any{"note": "two\nlines"}
		require.Error(t, audit.Record(ctx, db, bad))
		bad.Detail = map[string]any{"patient": struct{ Name string }{"Walter"}}
		require.Error(t, audit.Record(ctx, db, bad))
		bad = entry(9, "Patient Export!", "")
		require.Error(t, audit.Record(ctx, db, bad))
	})
}

// The database itself refuses to change or remove a row.
func TestAppendOnly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		require.NoError(t, audit.Record(ctx, db, entry(1, "patient.export", "patient:1")))
		_, err := db.Q().Exec(ctx, `UPDATE audit_log SET actor = 'someone-else'`)
		require.ErrorContains(t, err, "append-only")
		_, err = db.Q().Exec(ctx, `DELETE FROM audit_log`)
		require.ErrorContains(t, err, "append-only")
		if db.Dialect() == store.Postgres {
			_, err = db.Q().Exec(ctx, `TRUNCATE audit_log`)
			require.ErrorContains(t, err, "append-only")
		}
	})
}

// allowTampering drops the database's guard, as someone with the rights
// to change the schema could.
func allowTampering(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if db.Dialect() == store.Postgres {
		_, err := db.Q().Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
		require.NoError(t, err)
		return
	}
	for _, tr := range []string{"audit_log_no_update", "audit_log_no_delete"} {
		_, err := db.Q().Exec(ctx, `DROP TRIGGER `+tr)
		require.NoError(t, err)
	}
}

func rehash(seq int64, at time.Time, actor, action, subject, detail, prev string) string {
	b, _ := json.Marshal([]any{"tend-audit-v1", seq, at.UTC().Format("2006-01-02T15:04:05.000000Z"), actor, action, subject,
		detail, prev})
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Verify finds a changed row, a removed row, removed rows at the end and
// an inserted row, and names the first broken row; a chain rewritten with
// fresh hashes from some row on passes on its own but not against an
// anchor noted before. Both stores.
func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := 1; i <= 6; i++ {
			require.NoError(t, audit.Record(ctx, db, entry(i, "patient.export", audit.Patient(int64(i)))))
		}
		before, err := audit.Verify(ctx, db.Q())
		require.NoError(t, err)
		require.True(t, before.OK())
		anchor := audit.Anchor{Seq: before.HeadSeq, Hash: before.HeadHash}
		allowTampering(t, db)
		q := db.Q()
		broken := func() *audit.Break {
			t.Helper()
			rep, err := audit.Verify(ctx, q, anchor)
			require.NoError(t, err)
			return rep.Broken
		}
		exec := func(sql string, args ...any) {
			t.Helper()
			_, err := q.Exec(ctx, sql, args...)
			require.NoError(t, err)
		}

		// A changed row.
		exec(`UPDATE audit_log SET subject = 'patient:99' WHERE seq = 3`)
		b := broken()
		require.NotNil(t, b)
		require.Equal(t, int64(3), b.Seq)
		require.Contains(t, b.Reason, "changed")
		exec(`UPDATE audit_log SET subject = 'patient:3' WHERE seq = 3`)
		require.Nil(t, broken())

		// A removed row.
		rows, err := audit.List(ctx, q, audit.Filter{})
		require.NoError(t, err)
		r4 := rows[2]
		require.Equal(t, int64(4), r4.Seq)
		exec(`DELETE FROM audit_log WHERE seq = 4`)
		b = broken()
		require.Equal(t, int64(4), b.Seq)
		require.Contains(t, b.Reason, "missing")
		exec(`INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r4.Seq, r4.At, r4.Actor, r4.Action, r4.Subject, string(r4.Detail), r4.PrevHash, r4.Hash)
		require.Nil(t, broken())

		// Rows removed at the end: the head says otherwise.
		r6 := rows[0]
		exec(`DELETE FROM audit_log WHERE seq = 6`)
		b = broken()
		require.Equal(t, int64(6), b.Seq)
		require.Contains(t, b.Reason, "head")
		exec(`INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r6.Seq, r6.At, r6.Actor, r6.Action, r6.Subject, string(r6.Detail), r6.PrevHash, r6.Hash)
		require.Nil(t, broken())

		// A row slipped in with a hash of its own: the next row no longer follows.
		exec(`UPDATE audit_log SET seq = seq + 100 WHERE seq >= 5`)
		forged := rehash(5, t0, "admin-token", "patient.export", "patient:42", "", rows[2].Hash)
		exec(`INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (5, $1, 'admin-token', 'patient.export', 'patient:42', '', $2, $3)`,
			t0, rows[2].Hash, forged)
		exec(`UPDATE audit_log SET seq = seq - 99 WHERE seq >= 105`)
		b = broken()
		require.Equal(t, int64(6), b.Seq)
		require.Contains(t, b.Reason, "does not follow")

		// The whole tail rewritten with fresh hashes and the head moved: the
		// chain holds on its own, but not against the anchor noted before.
		exec(`DELETE FROM audit_log WHERE seq >= 5`)
		prev := rows[2].Hash
		for seq := int64(5); seq <= 6; seq++ {
			h := rehash(seq, t0, "admin-token", "patient.export", "patient:42", "", prev)
			exec(`INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, 'admin-token', 'patient.export', 'patient:42', '', $3, $4)`,
				seq, t0, prev, h)
			prev = h
		}
		exec(`UPDATE audit_head SET seq = 6, hash = $1 WHERE id = 1`, prev)
		rep, err := audit.Verify(ctx, q)
		require.NoError(t, err)
		require.True(t, rep.OK(), "a consistent rewrite is not caught without an anchor")
		b = broken()
		require.Equal(t, int64(6), b.Seq)
		require.Contains(t, b.Reason, "anchored")
	})
}

// Two replicas (two handles on one database) appending at once build one
// chain with no gap and no fork. Both stores.
func TestReplicasShareOneChain(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			var a, b *store.DB
			if dialect == "sqlite" {
				path := filepath.Join(t.TempDir(), "tend.db")
				a, b = storetest.OpenSQLiteAt(t, path), storetest.OpenSQLiteAt(t, path)
			} else {
				schema := storetest.NewSchemaName()
				t.Cleanup(func() { storetest.DropSchema(t, schema) })
				a = storetest.OpenPostgresSchema(t, schema)
				b = storetest.OpenPostgresSchema(t, schema)
			}
			ctx := context.Background()
			const each = 25
			var wg sync.WaitGroup
			errs := make(chan error, 4*each)
			for w, db := range []*store.DB{a, b, a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						errs <- audit.Record(ctx, db, entry(i, "patient.export", fmt.Sprintf("patient:%d", w)))
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			rep, err := audit.Verify(ctx, b.Q())
			require.NoError(t, err)
			require.True(t, rep.OK(), "%+v", rep.Broken)
			require.Equal(t, int64(4*each), rep.Rows)
		})
	}
}

func TestParseAnchor(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("ab", 32)
	a, err := audit.ParseAnchor("12:" + strings.ToUpper(h))
	require.NoError(t, err)
	require.Equal(t, audit.Anchor{Seq: 12, Hash: h}, a)
	for _, bad := range []string{"", "12", "x:" + h, "0:" + h, "12:abc"} {
		_, err := audit.ParseAnchor(bad)
		require.Error(t, err, bad)
	}
}
