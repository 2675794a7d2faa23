package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// jobsOf counts the River jobs of a kind.
func jobsOf(t *testing.T, db *store.DB, kind string) int {
	t.Helper()
	var n int
	require.NoError(t, db.Q().QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n))
	return n
}

// repliesOf are the texts of a conversation's replies, in order.
func repliesOf(t *testing.T, db *store.DB, chat string) []string {
	t.Helper()
	ctx := context.Background()
	conv, err := db.Q().FindConversation(ctx, "web", chat)
	require.NoError(t, err)
	outs, err := db.Q().OutboundAfter(ctx, conv.ID, 0, 50)
	require.NoError(t, err)
	var got []string
	for _, o := range outs {
		r, err := bot.DecodeReply(o.Body)
		require.NoError(t, err)
		got = append(got, r.Text)
	}
	return got
}

// TestReceiveHandlesInTheRequest: a webhook's message to a free
// conversation is answered in the transaction that stores it: done, its
// reply queued for delivery, no handling job. A repeat is recognised.
func TestReceiveHandlesInTheRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := apptest.New(t, db, apptest.Options{Modules: []app.Module{alarmModule{}}}).Engine
		out, err := e.Receive(ctx, in("rx", "1", "echo one"))
		require.NoError(t, err)
		require.False(t, out.Duplicate)
		require.Len(t, out.Replies, 1)
		m, err := db.Q().FindInbound(ctx, "web", "1")
		require.NoError(t, err)
		require.Equal(t, store.InboundDone, m.Status)
		require.Zero(t, jobsOf(t, db, "process_inbound"), "handled in the request, no job")
		require.Equal(t, 1, jobsOf(t, db, "deliver"))

		again, err := e.Receive(ctx, in("rx", "1", "echo one"))
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, []string{"one"}, repliesOf(t, db, "rx"), "answered once")

		// The guards (triage) run first on this path too, captions included.
		photo := in("rx", "3", "help me")
		photo.Meta = map[string]string{bot.MetaUnsupported: "photo"}
		for _, m := range []bot.Inbound{in("rx", "2", "help me"), photo} {
			out, err = e.Receive(ctx, m)
			require.NoError(t, err)
			require.Len(t, out.Replies, 1, m.MessageID)
			require.Equal(t, bot.ActionEmergency, out.Replies[0].Action, m.MessageID)
		}
	})
}

// TestReceiveNeverOvertakesQueued: a message accepted for its job and not
// yet handled is handled first, in the same transaction, when the next
// message of its conversation is received; its job then finds nothing.
func TestReceiveNeverOvertakesQueued(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		_, err := e.Accept(ctx, in("q", "1", "echo first"))
		require.NoError(t, err)
		_, err = e.Accept(ctx, in("q", "2", "echo second"))
		require.NoError(t, err)
		out, err := e.Receive(ctx, in("q", "3", "echo third"))
		require.NoError(t, err)
		require.Len(t, out.Replies, 1)
		require.Equal(t, "third", out.Replies[0].Text)
		require.Equal(t, []string{"first", "second", "third"}, repliesOf(t, db, "q"))
		require.NoError(t, e.ProcessPendingChat(ctx, "web", "q"), "the queued jobs find nothing left")
		require.Equal(t, []string{"first", "second", "third"}, repliesOf(t, db, "q"))
	})
}

// TestReceiveQueuesWhenBusy: while another transaction holds the
// conversation (a turn running elsewhere), a received message is accepted
// with its handling job rather than answered after the wait; the next one
// received once the conversation is free is answered after it, in order.
// (PostgreSQL only: SQLite has one writer, and nothing else holds a
// conversation while a transaction runs.)
func TestReceiveQueuesWhenBusy(t *testing.T) {
	t.Parallel()
	db := storetest.OpenPostgres(t)
	ctx := context.Background()
	e := newEngine(t, db, nil)
	_, err := e.Receive(ctx, in("busy", "1", "echo first"))
	require.NoError(t, err)

	locked, release, held := make(chan int, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.LockChat(ctx, "web", "busy"); err != nil {
				return err
			}
			var pid int
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			locked <- pid
			<-release
			return nil
		})
	}()
	holder := <-locked
	received := make(chan error, 1)
	go func() {
		_, err := e.Receive(ctx, in("busy", "2", "echo second"))
		received <- err
	}()
	// The message is refused the conversation at once, and its accept then
	// waits for the holder (the seq is taken on the conversation's row).
	require.Eventually(t, func() bool {
		var waiting int
		err := db.Q().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
			holder).Scan(&waiting)
		return err == nil && waiting > 0
	}, 30*time.Second, 5*time.Millisecond)
	close(release)
	require.NoError(t, <-held)
	require.NoError(t, <-received)
	m, err := db.Q().FindInbound(ctx, "web", "2")
	require.NoError(t, err)
	require.Equal(t, store.InboundPending, m.Status, "queued, not handled after waiting")
	require.Equal(t, 1, jobsOf(t, db, "process_inbound"))

	// The conversation is free again: the next message is answered in the
	// request, after the queued one.
	out, err := e.Receive(ctx, in("busy", "3", "echo third"))
	require.NoError(t, err)
	require.Equal(t, "third", out.Replies[0].Text)
	require.Equal(t, []string{"first", "second", "third"}, repliesOf(t, db, "busy"))
	for i := range 3 {
		m, err := db.Q().FindInbound(ctx, "web", fmt.Sprint(i+1))
		require.NoError(t, err)
		require.Equal(t, int64(i+1), m.Seq)
		require.Equal(t, store.InboundDone, m.Status)
	}
}
