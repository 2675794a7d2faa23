package bot_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// fakeSender records sends and fails on demand.
type fakeSender struct {
	mu   sync.Mutex
	sent []string
	fail func(text string) error
}

func (f *fakeSender) Send(_ context.Context, _ bot.Recipient, r bot.Reply) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(r.Text); err != nil {
			return "", err
		}
	}
	f.sent = append(f.sent, r.Text)
	return fmt.Sprintf("ext-%d", len(f.sent)), nil
}

func (f *fakeSender) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// newDeliveringEngine is an engine whose web replies go to a fakeSender.
func newDeliveringEngine(t *testing.T, db *store.DB) (*bot.Engine, *fakeSender) {
	e := newEngine(t, db, nil)
	s := &fakeSender{}
	e.RegisterSender("web", s)
	return e, s
}

// handleN sends "echo 1".."echo n" and returns the delivery args of each reply.
func handleN(t *testing.T, e *bot.Engine, chat string, n int) []bot.DeliverArgs {
	var args []bot.DeliverArgs
	for i := 1; i <= n; i++ {
		out, err := e.Handle(context.Background(), in(chat, fmt.Sprintf("%s-%d", chat, i), fmt.Sprintf("echo %d", i)))
		require.NoError(t, err)
		r := out.Replies[0]
		args = append(args, bot.DeliverArgs{ConversationID: out.ConversationID, OutboundID: r.ID, Seq: r.Seq})
	}
	return args
}

func TestDeliveryInOrderAndOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e, s := newDeliveringEngine(t, db)
		args := handleN(t, e, "d1", 3)
		// The last job runs first: it delivers everything before it, in order.
		require.NoError(t, e.Deliver(ctx, args[2]))
		require.Equal(t, []string{"1", "2", "3"}, s.texts())
		// The earlier jobs find their messages delivered and send nothing.
		require.NoError(t, e.Deliver(ctx, args[0]))
		require.NoError(t, e.Deliver(ctx, args[1]))
		require.Equal(t, []string{"1", "2", "3"}, s.texts())
		o, err := db.Q().GetOutbound(ctx, args[1].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundSent, o.Status)
		require.Equal(t, "ext-2", o.ExternalID)
		require.Equal(t, 1, o.Attempts)
	})
}

func TestDeliveryConcurrentJobsSendEachOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e, s := newDeliveringEngine(t, db)
		args := handleN(t, e, "d2", 10)
		var wg sync.WaitGroup
		for _, a := range args {
			wg.Add(1)
			go func() {
				defer wg.Done()
				require.NoError(t, e.Deliver(ctx, a))
			}()
		}
		wg.Wait()
		require.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, s.texts())
	})
}

func TestDeliveryFailuresKeepOrderAndDecide(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		down := true
		s := &fakeSender{fail: func(text string) error {
			if down {
				return errors.New("503 service unavailable")
			}
			return nil
		}}
		e.RegisterSender("web", s)
		args := handleN(t, e, "d3", 2)

		// Outage: the first message fails, so the second is not sent ahead of it.
		err := e.Deliver(ctx, args[1])
		require.Error(t, err)
		require.Empty(t, s.texts())
		o, err := db.Q().GetOutbound(ctx, args[0].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundQueued, o.Status)
		require.Contains(t, o.Error, "503")

		down = false
		require.NoError(t, e.Deliver(ctx, args[1]))
		require.Equal(t, []string{"1", "2"}, s.texts())

		// Rate limited: the job snoozes for the wait asked.
		s.fail = func(string) error { return &bot.RetryAfterError{After: 7 * time.Second, Err: errors.New("429")} }
		more := handleN(t, e, "d4", 1)
		err = e.Deliver(ctx, more[0])
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, err, &snooze)
		require.Equal(t, 7*time.Second, snooze.Duration)

		// Blocked: the conversation becomes unreachable and later messages fail fast.
		s.fail = func(string) error { return fmt.Errorf("403 blocked: %w", bot.ErrUnreachable) }
		blocked := handleN(t, e, "d5", 2)
		require.NoError(t, e.Deliver(ctx, blocked[0]))
		conv, err := db.Q().GetConversation(ctx, blocked[0].ConversationID)
		require.NoError(t, err)
		require.True(t, conv.Unreachable)
		s.fail = nil
		before := len(s.texts())
		require.NoError(t, e.Deliver(ctx, blocked[1]))
		o, err = db.Q().GetOutbound(ctx, blocked[1].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundFailed, o.Status)
		require.Len(t, s.texts(), before, "nothing is sent to an unreachable patient")

		// The patient writing again makes them reachable.
		_, err = e.Handle(ctx, in("d5", "d5-again", "echo back"))
		require.NoError(t, err)
		conv, err = db.Q().GetConversation(ctx, blocked[0].ConversationID)
		require.NoError(t, err)
		require.False(t, conv.Unreachable)

		// Permanent: that message fails, the next goes out.
		s.fail = func(text string) error {
			if text == "1" {
				return fmt.Errorf("400 bad: %w", bot.ErrPermanent)
			}
			return nil
		}
		perm := handleN(t, e, "d6", 2)
		require.NoError(t, e.Deliver(ctx, perm[1]))
		o, err = db.Q().GetOutbound(ctx, perm[0].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundFailed, o.Status)
		o, err = db.Q().GetOutbound(ctx, perm[1].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundSent, o.Status)
	})
}

func TestDeliveryWithoutSenderRetries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, nil)
		args := handleN(t, e, "nosender", 1)
		err := e.Deliver(context.Background(), args[0])
		require.ErrorContains(t, err, "no sender for channel")
	})
}

func TestSendQueuesProactiveMessages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		args := handleN(t, e, "p1", 1)
		var sent []bot.Sent
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			sent, err = e.Send(ctx, tx, args[0].ConversationID, bot.Reply{Text: "Your visit is tomorrow.", Kind: bot.KindReminder})
			return err
		}))
		require.Len(t, sent, 1)
		require.Equal(t, int64(2), sent[0].Seq, "proactive messages continue the conversation's sequence")
		hist, err := e.History(ctx, args[0].ConversationID, 1, 10)
		require.NoError(t, err)
		require.Len(t, hist, 1)
		require.Equal(t, bot.KindReminder, hist[0].Kind)
	})
}

func TestStalledDeliveriesGetAnotherJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		handleN(t, e, "stall", 2)
		count := func() int {
			var n int
			require.NoError(t, db.Q().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'deliver'`).Scan(&n))
			return n
		}
		require.Equal(t, 2, count())
		require.NoError(t, e.RecoverPending(ctx))
		require.Equal(t, 2, count(), "young messages are left to their own jobs")
		clk.Advance(3 * time.Minute)
		require.NoError(t, e.RecoverPending(ctx))
		require.Equal(t, 3, count(), "one extra job for the conversation's last stalled message")
		require.NoError(t, e.RecoverPending(ctx))
		require.Equal(t, 3, count(), "not again within the period")
	})
}

// TestOneDeliveryJobPerTurn: a turn with several replies enqueues one
// delivery job, naming the last reply, and that job sends them all in order.
func TestOneDeliveryJobPerTurn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e, s := newDeliveringEngine(t, db)
		// An unknown button gets two replies: "no longer available", then the fallback.
		out, err := e.Handle(ctx, bot.Inbound{Channel: "web", ChatID: "j1", MessageID: "j1-1", Payload: "nosuch:thing"})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(out.Replies), 2)
		rs, err := db.Q().Query(ctx, `SELECT args ->> 'conversation_id', args ->> 'seq' FROM river_job WHERE kind = 'deliver'`)
		require.NoError(t, err)
		var jobs [][2]string
		for rs.Next() {
			var conv, seq string
			require.NoError(t, rs.Scan(&conv, &seq))
			jobs = append(jobs, [2]string{conv, seq})
		}
		rs.Close()
		require.NoError(t, rs.Err())
		last := out.Replies[len(out.Replies)-1]
		require.Equal(t, [][2]string{{fmt.Sprint(out.ConversationID), fmt.Sprint(last.Seq)}}, jobs,
			"one job for the turn, naming its last reply")

		require.NoError(t, e.Deliver(ctx, bot.DeliverArgs{ConversationID: out.ConversationID, Seq: last.Seq}))
		var want []string
		for _, r := range out.Replies {
			want = append(want, r.Text)
		}
		require.Equal(t, want, s.texts(), "every reply of the turn, in order")
	})
}
