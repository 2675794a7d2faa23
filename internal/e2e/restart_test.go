package e2e

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// stores prepares one database per kind and the env that points tend at it.
func stores(t *testing.T, fn func(t *testing.T, db *store.DB, env map[string]string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		db := storetest.OpenSQLiteAt(t, filepath.Join(dir, "tend.db"))
		fn(t, db, map[string]string{"TEND_DATA_DIR": dir})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		schema := storetest.NewSchemaName()
		db := storetest.OpenPostgresSchema(t, schema)
		t.Cleanup(func() { storetest.DropSchema(t, schema) })
		fn(t, db, map[string]string{"TEND_DATA_DIR": t.TempDir(), "DATABASE_URL": schemaURL(schema)})
	})
}

func schemaURL(schema string) string {
	u, _ := url.Parse(storetest.PostgresURL())
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

// burst runs patients concurrently, each sending n messages, against
// whichever server base() names at the moment; after every `every` acks
// across all patients, onAck is called (to kill or restart a server).
func burst(t *testing.T, patients, n int, base func(i int) string, onAck func(total int64)) ([]*patient, int64) {
	ctx := ctxTimeout(t, 4*time.Minute)
	var acks, retries atomic.Int64
	ps := make([]*patient, patients)
	var wg sync.WaitGroup
	errs := make(chan error, patients)
	for p := range patients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pt, err := newPatient(ctx, func() string { return base(0) })
			if err != nil {
				errs <- err
				return
			}
			ps[p] = pt
			for i := range n {
				if err := pt.send(ctx, base(i), i, &retries); err != nil {
					errs <- err
					return
				}
				if onAck != nil {
					onAck(acks.Add(1))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ps, retries.Load()
}

// verify checks that every message was stored once and answered exactly once.
func verify(t *testing.T, db *store.DB, ps []*patient, n int) {
	ctx := context.Background()
	q := db.Q()
	var inbound, notDone int
	mustNil(t, q.QueryRow(ctx, `SELECT count(*) FROM inbound_messages`).Scan(&inbound))
	mustNil(t, q.QueryRow(ctx, `SELECT count(*) FROM inbound_messages WHERE status <> 'done'`).Scan(&notDone))
	if inbound != len(ps)*n {
		t.Fatalf("stored %d messages, want %d (each once)", inbound, len(ps)*n)
	}
	if notDone != 0 {
		t.Fatalf("%d messages not handled", notDone)
	}
	rs, err := q.Query(ctx, `SELECT i.id, count(o.id) FROM inbound_messages i
		LEFT JOIN outbound_messages o ON o.inbound_id = i.id GROUP BY i.id`)
	mustNil(t, err)
	defer rs.Close()
	for rs.Next() {
		var id int64
		var replies int
		mustNil(t, rs.Scan(&id, &replies))
		if replies != 1 {
			t.Fatalf("message %d has %d replies, want exactly 1", id, replies)
		}
	}
	mustNil(t, rs.Err())
	// What each patient was told is what is stored: no reply lost or replaced.
	for _, p := range ps {
		for i := range n {
			ids := p.replyIDs[i]
			if len(ids) != 1 {
				t.Fatalf("message %d got %d replies in its response", i, len(ids))
			}
			if _, err := q.GetOutbound(ctx, ids[0]); err != nil {
				t.Fatalf("reply %d not stored: %v", ids[0], err)
			}
		}
	}
}

func TestKillAndRestartDuringBurst(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, db *store.DB, env map[string]string) {
		const patients, n = 12, 12
		s := newServer(t, env)
		s.mustStart()
		var mu sync.Mutex
		current := s
		var restarted atomic.Bool
		var restartErr atomic.Value
		ps, retries := burst(t, patients, n, func(int) string {
			mu.Lock()
			defer mu.Unlock()
			return current.url()
		}, func(total int64) {
			if total == patients*n/3 && restarted.CompareAndSwap(false, true) {
				mu.Lock()
				defer mu.Unlock()
				current.kill() // mid-burst: requests in flight are cut off
				next := newServerAt(t, env, current.addr)
				if err := next.start(); err != nil {
					restartErr.Store(err)
				}
				current = next
			}
		})
		if err, _ := restartErr.Load().(error); err != nil {
			t.Fatal(err)
		}
		if !restarted.Load() {
			t.Fatal("the server was never killed")
		}
		t.Logf("%d requests were retried across the crash", retries)
		verify(t, db, ps, n)
		mu.Lock()
		current.stop()
		mu.Unlock()
	})
}

func TestGracefulStopDuringBurst(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, db *store.DB, env map[string]string) {
		const patients, n = 8, 10
		s := newServer(t, env)
		s.mustStart()
		var mu sync.Mutex
		current := s
		var restarted atomic.Bool
		var restartErr atomic.Value
		ps, _ := burst(t, patients, n, func(int) string {
			mu.Lock()
			defer mu.Unlock()
			return current.url()
		}, func(total int64) {
			if total == patients*n/2 && restarted.CompareAndSwap(false, true) {
				mu.Lock()
				defer mu.Unlock()
				current.stop() // SIGTERM: finish what is in flight, then exit 0
				next := newServerAt(t, env, current.addr)
				if err := next.start(); err != nil {
					restartErr.Store(err)
				}
				current = next
			}
		})
		if err, _ := restartErr.Load().(error); err != nil {
			t.Fatal(err)
		}
		verify(t, db, ps, n)
		// After a graceful stop and restart every reply is delivered.
		deadline := time.Now().Add(60 * time.Second)
		for {
			var undelivered int
			mustNil(t, db.Q().QueryRow(context.Background(),
				`SELECT count(*) FROM outbound_messages WHERE status <> 'sent'`).Scan(&undelivered))
			if undelivered == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d replies still undelivered", undelivered)
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		current.stop()
		mu.Unlock()
	})
}

func TestTwoReplicasKeepOrderAndSendOnce(t *testing.T) {
	t.Parallel()
	schema := storetest.NewSchemaName()
	db := storetest.OpenPostgresSchema(t, schema)
	t.Cleanup(func() { storetest.DropSchema(t, schema) })
	env := map[string]string{"DATABASE_URL": schemaURL(schema)}
	a, b := newServer(t, withDir(t, env)), newServer(t, withDir(t, env))
	a.mustStart()
	b.mustStart()
	defer a.stop()
	defer b.stop()
	const patients, n = 10, 12
	// Each patient alternates replicas message by message.
	ps, _ := burst(t, patients, n, func(i int) string {
		if i%2 == 0 {
			return a.url()
		}
		return b.url()
	}, nil)
	verify(t, db, ps, n)
	ctx := context.Background()
	q := db.Q()
	// In order: message i of each patient has sequence number i+1, and the
	// replies follow the messages they answer.
	rs, err := q.Query(ctx, `SELECT i.conversation_id, i.seq, i.external_id, o.seq
		FROM inbound_messages i JOIN outbound_messages o ON o.inbound_id = i.id ORDER BY i.conversation_id, i.seq`)
	mustNil(t, err)
	lastOut := map[int64]int64{}
	for rs.Next() {
		var conv, seq, outSeq int64
		var ext string
		mustNil(t, rs.Scan(&conv, &seq, &ext, &outSeq))
		var idx int64
		if _, err := fmt.Sscanf(ext[len(ext)-3:], "%03d", &idx); err != nil || seq != idx+1 {
			t.Fatalf("conversation %d: message %q handled as #%d", conv, ext, seq)
		}
		if outSeq <= lastOut[conv] {
			t.Fatalf("conversation %d: reply out of order", conv)
		}
		lastOut[conv] = outSeq
	}
	rs.Close()
	// Once: every reply delivered by exactly one attempt, whichever replica ran its job.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending, multi int
		mustNil(t, q.QueryRow(ctx, `SELECT count(*) FROM outbound_messages WHERE status <> 'sent'`).Scan(&pending))
		mustNil(t, q.QueryRow(ctx, `SELECT count(*) FROM outbound_messages WHERE attempts > 1`).Scan(&multi))
		if multi != 0 {
			t.Fatalf("%d replies were sent more than once", multi)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d replies still undelivered", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func withDir(t *testing.T, env map[string]string) map[string]string {
	out := map[string]string{"TEND_DATA_DIR": t.TempDir()}
	for k, v := range env {
		out[k] = v
	}
	return out
}
