package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
)

// RunConformance checks the store's contract against a fresh database from
// open. Every store implementation must pass it unchanged.
func RunConformance(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := map[string]func(t *testing.T, db *store.DB){
		"MigrateIsIdempotent":          testMigrateIdempotent,
		"ConversationRoundTrip":        testConversationRoundTrip,
		"OpenConversationConcurrently": testOpenConversationConcurrently,
		"InboundDeduplicates":          testInboundDedup,
		"PendingInboundInOrder":        testPendingOrder,
		"OutboundLifecycle":            testOutboundLifecycle,
		"RollbackDiscardsEverything":   testRollback,
		"KV":                           testKV,
		"LockKeyExcludes":              testLockKey,
		"TimesKeepMicroseconds":        testTimes,
		"AdvanceConversation":          testAdvanceConversation,
		"AcceptInbound":                testAcceptInbound,
		"OpenWithInbound":              testOpenWithInbound,
		"NoWaitLockIsBusy":             testNoWait,
		"LaterWrites":                  testLaterWrites,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func testMigrateIdempotent(t *testing.T, db *store.DB) {
	ctx := context.Background()
	res, err := db.Migrate(ctx)
	require.NoError(t, err)
	require.Empty(t, res.Applied, "a second migrate applies nothing")
	pending, err := db.MigrationsPending(ctx)
	require.NoError(t, err)
	require.False(t, pending)
}

func testConversationRoundTrip(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var c store.Conversation
	require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
		var created bool
		var err error
		c, created, err = tx.OpenConversation(ctx, "web", "chat-1", "es", t0)
		require.True(t, created)
		return err
	}))
	require.Equal(t, "es", c.Lang)
	require.Equal(t, store.ModeBot, c.Mode)
	require.Equal(t, "{}", string(c.State))
	require.Nil(t, c.PatientID)
	require.Nil(t, c.FlaggedAt)
	require.True(t, c.CreatedAt.Equal(t0))

	pid := int64(42)
	flagged := t0.Add(time.Minute)
	c.Dialog, c.State, c.Mode, c.PatientID, c.FlaggedAt = "booking", []byte(`{"booking":{"step":"slot"}}`), store.ModeStaff, &pid, &flagged
	c.NextInSeq, c.NextOutSeq, c.Unreachable = 3, 5, true
	require.NoError(t, db.Q().SaveConversation(ctx, &c, t0.Add(2*time.Minute)))

	got, err := db.Q().GetConversation(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "booking", got.Dialog)
	require.JSONEq(t, `{"booking":{"step":"slot"}}`, string(got.State))
	require.Equal(t, store.ModeStaff, got.Mode)
	require.Equal(t, int64(42), *got.PatientID)
	require.True(t, got.FlaggedAt.Equal(flagged))
	require.Equal(t, int64(3), got.NextInSeq)
	require.Equal(t, int64(5), got.NextOutSeq)
	require.True(t, got.Unreachable)

	again, created, err := db.Q().OpenConversation(ctx, "web", "chat-1", "en", t0)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, c.ID, again.ID)
	require.Equal(t, "es", again.Lang, "reopening keeps the conversation's language")

	_, err = db.Q().GetConversation(ctx, c.ID+1000)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.Q().FindConversation(ctx, "web", "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, db.Q().SaveConversation(ctx, &store.Conversation{ID: 99999}, t0), store.ErrNotFound)
}

func testOpenConversationConcurrently(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const n = 8
	ids := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.InTx(ctx, func(tx *store.Tx) error {
				c, _, err := tx.OpenConversation(ctx, "telegram", "same-chat", "en", t0)
				ids[i] = c.ID
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, id := range ids {
		require.Equal(t, ids[0], id, "all callers see one conversation")
	}
}

func newConversation(t *testing.T, db *store.DB, chat string) store.Conversation {
	t.Helper()
	c, _, err := db.Q().OpenConversation(context.Background(), "web", chat, "en", t0)
	require.NoError(t, err)
	return c
}

func testInboundDedup(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := newConversation(t, db, "dedup")
	m := store.Inbound{ConversationID: c.ID, Seq: 1, Channel: "web", ExternalID: "m1", Text: "hello", ReceivedAt: t0}
	ok, err := db.Q().InsertInbound(ctx, &m)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotZero(t, m.ID)

	dup := store.Inbound{ConversationID: c.ID, Seq: 2, Channel: "web", ExternalID: "m1", Text: "hello again", ReceivedAt: t0}
	ok, err = db.Q().InsertInbound(ctx, &dup)
	require.NoError(t, err)
	require.False(t, ok, "same (channel, external id) is a repeat")

	other := store.Inbound{ConversationID: c.ID, Seq: 2, Channel: "telegram", ExternalID: "m1", ReceivedAt: t0}
	ok, err = db.Q().InsertInbound(ctx, &other)
	require.NoError(t, err)
	require.True(t, ok, "the same id on another channel is another message")

	got, err := db.Q().FindInbound(ctx, "web", "m1")
	require.NoError(t, err)
	require.Equal(t, "hello", got.Text)
	require.Equal(t, store.InboundPending, got.Status)
	require.JSONEq(t, "{}", string(got.Meta))
}

func testPendingOrder(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := newConversation(t, db, "order")
	for _, seq := range []int64{3, 1, 2} {
		m := store.Inbound{ConversationID: c.ID, Seq: seq, Channel: "web", ExternalID: fmt.Sprintf("o%d", seq), ReceivedAt: t0}
		_, err := db.Q().InsertInbound(ctx, &m)
		require.NoError(t, err)
	}
	p, err := db.Q().PendingInbound(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, p, 3)
	require.Equal(t, []int64{1, 2, 3}, []int64{p[0].Seq, p[1].Seq, p[2].Seq})

	require.NoError(t, db.Q().FinishInbound(ctx, p[0].ID, store.InboundDone, "", t0))
	p, err = db.Q().PendingInbound(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, p, 2)

	ids, err := db.Q().ConversationsWithPending(ctx, t0.Add(time.Second), 10)
	require.NoError(t, err)
	require.Equal(t, []int64{c.ID}, ids)
	ids, err = db.Q().ConversationsWithPending(ctx, t0, 10)
	require.NoError(t, err)
	require.Empty(t, ids, "only messages received before the cutoff count")

	recent, err := db.Q().RecentInbound(ctx, c.ID, 2)
	require.NoError(t, err)
	require.Equal(t, []int64{2, 3}, []int64{recent[0].Seq, recent[1].Seq})
}

func testOutboundLifecycle(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := newConversation(t, db, "out")
	in := store.Inbound{ConversationID: c.ID, Seq: 1, Channel: "web", ExternalID: "x", ReceivedAt: t0}
	_, err := db.Q().InsertInbound(ctx, &in)
	require.NoError(t, err)
	for seq := int64(1); seq <= 3; seq++ {
		o := store.Outbound{ConversationID: c.ID, Seq: seq, InboundID: &in.ID, Channel: "web", Body: []byte(`{"text":"hi"}`), CreatedAt: t0}
		require.NoError(t, db.Q().InsertOutbound(ctx, &o))
	}
	dupSeq := store.Outbound{ConversationID: c.ID, Seq: 2, Channel: "web", Body: []byte(`{}`), CreatedAt: t0}
	require.Error(t, db.Q().InsertOutbound(ctx, &dupSeq), "seq is unique per conversation")

	und, err := db.Q().UndeliveredUpTo(ctx, c.ID, 2)
	require.NoError(t, err)
	require.Len(t, und, 2)
	require.NoError(t, db.Q().MarkOutboundSending(ctx, und[0].ID))
	require.NoError(t, db.Q().MarkOutboundSent(ctx, und[0].ID, "ext-1", t0))
	require.NoError(t, db.Q().MarkOutboundSending(ctx, und[1].ID))
	require.NoError(t, db.Q().MarkOutboundRetry(ctx, und[1].ID, "503"))

	got, err := db.Q().GetOutbound(ctx, und[0].ID)
	require.NoError(t, err)
	require.Equal(t, store.OutboundSent, got.Status)
	require.Equal(t, "ext-1", got.ExternalID)
	require.Equal(t, 1, got.Attempts)
	require.True(t, got.SentAt.Equal(t0))
	require.JSONEq(t, `{"text":"hi"}`, string(got.Body))

	und, err = db.Q().UndeliveredUpTo(ctx, c.ID, 10)
	require.NoError(t, err)
	require.Len(t, und, 2)
	require.Equal(t, "503", und[0].Error)
	require.NoError(t, db.Q().MarkOutboundFailed(ctx, und[1].ID, "blocked"))

	counts, err := db.Q().CountOutboundByStatus(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"sent": 1, "queued": 1, "failed": 1}, counts)

	after, err := db.Q().OutboundAfter(ctx, c.ID, 1, 10)
	require.NoError(t, err)
	require.Len(t, after, 2)
	byIn, err := db.Q().OutboundForInbound(ctx, in.ID)
	require.NoError(t, err)
	require.Len(t, byIn, 3)
}

func testRollback(t *testing.T, db *store.DB) {
	ctx := context.Background()
	boom := errors.New("boom")
	ran := false
	err := db.InTx(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(func() { ran = true })
		if _, _, err := tx.OpenConversation(ctx, "web", "rolled-back", "en", t0); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.False(t, ran, "after-commit hooks do not run on rollback")
	_, err = db.Q().FindConversation(ctx, "web", "rolled-back")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testKV(t *testing.T, db *store.DB) {
	ctx := context.Background()
	_, err := db.Q().GetKV(ctx, "telegram.offset")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, db.Q().PutKV(ctx, "telegram.offset", "10", t0))
	require.NoError(t, db.Q().PutKV(ctx, "telegram.offset", "11", t0))
	v, err := db.Q().GetKV(ctx, "telegram.offset")
	require.NoError(t, err)
	require.Equal(t, "11", v)

	// EnsureKV keeps the first value written: two replicas starting at once
	// agree on one secret.
	v, err = db.Q().EnsureKV(ctx, "booking:code_secret", "first", t0)
	require.NoError(t, err)
	require.Equal(t, "first", v)
	v, err = db.Q().EnsureKV(ctx, "booking:code_secret", "second", t0)
	require.NoError(t, err)
	require.Equal(t, "first", v)
}

func testLockKey(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := db.LockKey(ctx, "deliver:1")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			if n > maxInside.Load() {
				maxInside.Store(n)
			}
			time.Sleep(5 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	require.Equal(t, int32(1), maxInside.Load())
}

func testTimes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := newConversation(t, db, "times")
	got, err := db.Q().GetConversation(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, t0.Truncate(time.Microsecond), got.CreatedAt)
	require.Equal(t, time.UTC, got.CreatedAt.Location())
}

func testAdvanceConversation(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const n = 12
	seqs := make(chan int64, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
				c, err := tx.AdvanceConversation(ctx, "whatsapp", "15550100", "15550100", "es", t0.Add(-time.Minute), t0)
				seqs <- c.NextInSeq
				return err
			}))
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[int64]bool{}
	for s := range seqs {
		require.False(t, seen[s], "seq %d taken twice", s)
		seen[s] = true
	}
	for i := int64(1); i <= n; i++ {
		require.True(t, seen[i], "seq %d missing", i)
	}
	c, err := db.Q().FindConversation(ctx, "whatsapp", "15550100")
	require.NoError(t, err)
	require.Equal(t, "es", c.Lang)
	require.True(t, c.LastInboundAt.Equal(t0.Add(-time.Minute)), "the patient's write time, not the arrival time")
	require.Equal(t, int64(n), c.NextInSeq)
}

// testAcceptInbound: concurrent messages to one chat, its first among
// them, each get their own seq and row; a message seen before is reported
// (and its transaction rolled back, so the seq it took is given back).
func testAcceptInbound(t *testing.T, db *store.DB) {
	// AcceptInboundLater holds its statement back (PostgreSQL) until the
	// next one, or until its result is asked for; either way the outcome is
	// AcceptInbound's.
	type acceptFunc func(ctx context.Context, tx *store.Tx, chat string, wrote time.Time, m *store.Inbound) (bool, error)
	variants := map[string]acceptFunc{
		"at once": func(ctx context.Context, tx *store.Tx, chat string, wrote time.Time, m *store.Inbound) (bool, error) {
			return tx.AcceptInbound(ctx, chat, "es", wrote, t0, m)
		},
		"later, with the next statement": func(ctx context.Context, tx *store.Tx, chat string, wrote time.Time, m *store.Inbound) (bool, error) {
			result, err := tx.AcceptInboundLater(ctx, chat, "es", wrote, t0, m)
			if err != nil {
				return false, err
			}
			if _, err := tx.Exec(ctx, `SELECT 1`); err != nil {
				return false, err
			}
			return result()
		},
		"later, alone": func(ctx context.Context, tx *store.Tx, chat string, wrote time.Time, m *store.Inbound) (bool, error) {
			result, err := tx.AcceptInboundLater(ctx, chat, "es", wrote, t0, m)
			if err != nil {
				return false, err
			}
			return result()
		},
	}
	for name, accept := range variants {
		t.Run(name, func(t *testing.T) { testAcceptInboundWith(t, db, "chat-"+name, accept) })
	}
}

func testAcceptInboundWith(t *testing.T, db *store.DB, chat string,
	accept func(ctx context.Context, tx *store.Tx, chat string, wrote time.Time, m *store.Inbound) (bool, error)) {
	ctx := context.Background()
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
				m := store.Inbound{Channel: "telegram", ExternalID: fmt.Sprintf("%s-m%d", chat, i), SenderID: "77", Text: "hi",
					ReceivedAt: t0}
				ok, err := accept(ctx, tx, chat, t0.Add(-time.Minute), &m)
				if err == nil && (!ok || m.ID == 0) {
					err = fmt.Errorf("message %d not stored", i)
				}
				return err
			}))
		}()
	}
	wg.Wait()
	c, err := db.Q().FindConversation(ctx, "telegram", chat)
	require.NoError(t, err)
	require.Equal(t, int64(n), c.NextInSeq)
	require.Equal(t, "es", c.Lang)
	require.True(t, c.LastInboundAt.Equal(t0.Add(-time.Minute)))
	pending, err := db.Q().PendingInbound(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, pending, n)
	for i, m := range pending {
		require.Equal(t, int64(i+1), m.Seq)
		require.Equal(t, c.ID, m.ConversationID)
	}

	errDup := errors.New("duplicate")
	err = db.InTx(ctx, func(tx *store.Tx) error {
		m := store.Inbound{Channel: "telegram", ExternalID: chat + "-m3", SenderID: "77", ReceivedAt: t0}
		ok, err := accept(ctx, tx, chat, t0, &m)
		require.NoError(t, err)
		require.False(t, ok, "a redelivered message is not stored twice")
		require.Equal(t, c.ID, m.ConversationID)
		return errDup
	})
	require.ErrorIs(t, err, errDup)
	c, err = db.Q().FindConversation(ctx, "telegram", chat)
	require.NoError(t, err)
	require.Equal(t, int64(n), c.NextInSeq, "the rolled-back duplicate gave its seq back")
}

// testOpenWithInbound: a turn's first statement opens (or creates) and
// locks the conversation and stores the message with the next seq; with
// handleNow the message is done at once only when nothing older waits.
func testOpenWithInbound(t *testing.T, db *store.DB) {
	ctx := context.Background()
	open := func(id string, handleNow bool) (store.Conversation, store.Inbound, bool) {
		var c store.Conversation
		var ok bool
		m := store.Inbound{Channel: "web", ExternalID: id, SenderID: "s1", Text: "hello " + id, ReceivedAt: t0}
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			c, ok, err = tx.OpenWithInbound(ctx, "chat-1", "es", t0, &m, handleNow)
			if err != nil || !ok {
				return err
			}
			saved := c // as the engine does after the turn
			saved.NextInSeq = m.Seq
			if m.Status == store.InboundDone {
				saved.HandledSeq = m.Seq
			}
			return tx.SaveConversation(ctx, &saved, t0)
		}))
		return c, m, ok
	}

	c, m, ok := open("a", true) // a new chat, nothing waiting: done now
	require.True(t, ok)
	require.Equal(t, "es", c.Lang)
	require.Equal(t, int64(1), m.Seq)
	require.Equal(t, store.InboundDone, m.Status)
	require.NotNil(t, m.HandledAt)

	_, m, ok = open("b", false) // accepted for later
	require.True(t, ok)
	require.Equal(t, int64(2), m.Seq)
	require.Equal(t, store.InboundPending, m.Status)

	c, m, ok = open("c", true) // "b" still waits: this one waits behind it
	require.True(t, ok)
	require.Equal(t, int64(3), m.Seq)
	require.Equal(t, store.InboundPending, m.Status)
	require.Nil(t, m.HandledAt)
	require.Equal(t, int64(2), c.NextInSeq, "the conversation as it was before the message")

	_, m, ok = open("a", true) // seen before
	require.False(t, ok)
	require.Equal(t, c.ID, m.ConversationID)

	pending, err := db.Q().PendingInbound(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	require.Equal(t, "hello b", pending[0].Text)
	require.Equal(t, "hello c", pending[1].Text)
}

// testNoWait: a NoWait conversation lock taken while another transaction
// holds the conversation fails at once with ErrBusy (PostgreSQL), and
// succeeds once it is free. SQLite has one writer at a time: there, a
// NoWait lock is an ordinary one.
func testNoWait(t *testing.T, db *store.DB) {
	ctx := context.Background()
	nowait := func(id string) (store.Inbound, error) {
		m := store.Inbound{Channel: "web", ExternalID: id, SenderID: "s1", Text: "hi", ReceivedAt: t0}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			c, _, err := tx.NoWait().OpenWithInbound(ctx, "chat-nw", "en", t0, &m, true)
			if err != nil {
				return err
			}
			c.NextInSeq, c.HandledSeq = m.Seq, m.Seq
			return tx.SaveConversation(ctx, &c, t0)
		})
		return m, err
	}
	first, err := nowait("a")
	require.NoError(t, err)
	if db.Dialect() != store.Postgres {
		return
	}
	locked, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.LockChat(ctx, "web", "chat-nw"); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	_, err = nowait("b")
	require.ErrorIs(t, err, store.ErrBusy)
	for _, lock := range []func(tx *store.Tx) error{
		func(tx *store.Tx) error { _, err := tx.NoWait().LockChat(ctx, "web", "chat-nw"); return err },
		func(tx *store.Tx) error {
			_, err := tx.NoWait().LockConversation(ctx, first.ConversationID)
			return err
		},
	} {
		require.ErrorIs(t, db.InTx(ctx, lock), store.ErrBusy)
	}
	close(release)
	require.NoError(t, <-held)
	m, err := nowait("b")
	require.NoError(t, err, "free again")
	require.Equal(t, int64(2), m.Seq, "the refused attempt took no seq")
}
