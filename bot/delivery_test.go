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
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
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
		// The failed job's grace is waited out by whoever delivers next.
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, e.Deliver(ctx, args[1]), &snooze)
		require.Equal(t, bot.LeaseGrace, snooze.Duration)
		require.Empty(t, s.texts())
		clk.Advance(bot.LeaseGrace)
		require.NoError(t, e.Deliver(ctx, args[1]))
		require.Equal(t, []string{"1", "2"}, s.texts())

		// Rate limited: the job snoozes for the wait asked, and the
		// messages are held until then for any other sender: a recovery
		// takeover (queued while the job's retry was picked and not yet
		// sending) or a send in a webhook's request waits as well.
		limited := true
		s.fail = func(string) error {
			if limited {
				return &bot.RetryAfterError{After: 7 * time.Second, Err: errors.New("429")}
			}
			return nil
		}
		more := handleN(t, e, "d4", 2)
		err = e.Deliver(ctx, more[0])
		require.ErrorAs(t, err, &snooze)
		require.Equal(t, 7*time.Second, snooze.Duration)
		sent := len(s.texts())
		limited = false
		clk.Advance(3 * time.Second)
		for _, a := range more { // the job's retry, a takeover, the next turn's job
			require.ErrorAs(t, e.Deliver(ctx, a), &snooze)
			require.Equal(t, 4*time.Second, snooze.Duration)
		}
		require.Len(t, s.texts(), sent, "nothing sent before the retry_after")
		clk.Advance(4 * time.Second)
		require.NoError(t, e.Deliver(ctx, more[0]))
		require.NoError(t, e.Deliver(ctx, more[1]))
		require.Equal(t, []string{"1", "2"}, s.texts()[sent:])

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

// errKilled stands for the process dying in the middle of a send.
var errKilled = errors.New("killed mid-send")

// crashingSender dies (panics, leaving no outcome recorded, as kill -9
// does) on the first send of crashOn; the channel never got that attempt.
type crashingSender struct {
	*fakeSender
	crashOn string
	crashed bool
}

func (c *crashingSender) Send(ctx context.Context, to bot.Recipient, r bot.Reply) (string, error) {
	if r.Text == c.crashOn && !c.crashed {
		c.crashed = true
		panic(errKilled)
	}
	return c.fakeSender.Send(ctx, to, r)
}

// crashMidSend delivers args with a sender that dies while sending text,
// as a process killed mid-send: the message stays "sending", and the jobs
// the process had fetched (here: every delivery job so far) stay "running"
// in River until its rescuer takes them, minutes later.
func crashMidSend(t *testing.T, db *store.DB, e *bot.Engine, args bot.DeliverArgs, text string) *fakeSender {
	s := &crashingSender{fakeSender: &fakeSender{}, crashOn: text}
	e.RegisterSender("web", s)
	require.PanicsWithValue(t, errKilled, func() { _ = e.Deliver(context.Background(), args) })
	_, err := db.Q().Exec(context.Background(), `UPDATE river_job SET state = 'running', attempt = 1 WHERE kind = 'deliver'`)
	require.NoError(t, err)
	return s.fakeSender
}

// newDeliverJobs lists the delivery jobs inserted after the first skip, as
// (conversation, seq).
func newDeliverJobs(t *testing.T, db *store.DB, skip int) []bot.DeliverArgs {
	rs, err := db.Q().Query(context.Background(), `SELECT args ->> 'conversation_id', args ->> 'seq' FROM river_job
		WHERE kind = 'deliver' ORDER BY id`)
	require.NoError(t, err)
	defer rs.Close()
	var out []bot.DeliverArgs
	for i := 0; rs.Next(); i++ {
		var conv, seq string
		require.NoError(t, rs.Scan(&conv, &seq))
		if i >= skip {
			var a bot.DeliverArgs
			_, err := fmt.Sscan(conv+" "+seq, &a.ConversationID, &a.Seq)
			require.NoError(t, err)
			out = append(out, a)
		}
	}
	require.NoError(t, rs.Err())
	return out
}

// TestInterruptedSendRetriedWithinSeconds: a send cut off by a crash is
// taken over seconds later, not when River rescues its job (minutes), and
// the replies queued behind it follow in order.
func TestInterruptedSendRetriedWithinSeconds(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		args := handleN(t, e, "cut", 3)
		crashMidSend(t, db, e, args[0], "1")
		o, err := db.Q().GetOutbound(ctx, args[0].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundSending, o.Status)

		// The later replies' jobs died with it, waiting for the lock.
		s := &fakeSender{}
		e.RegisterSender("web", s)
		clk.Advance(10 * time.Second)
		require.NoError(t, e.RecoverPending(ctx))
		jobs := newDeliverJobs(t, db, 3)
		require.Equal(t, []bot.DeliverArgs{{ConversationID: args[0].ConversationID, Seq: args[2].Seq}}, jobs,
			"ten seconds after the crash the conversation has a job again, up to its last reply")
		require.NoError(t, e.Deliver(ctx, bot.DeliverArgs{ConversationID: jobs[0].ConversationID, OutboundID: args[0].OutboundID, Seq: jobs[0].Seq}))
		require.Equal(t, []string{"1", "2", "3"}, s.texts(), "the cut-off reply first, then the ones behind it")
		o, err = db.Q().GetOutbound(ctx, args[0].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundSent, o.Status)
		require.Equal(t, 2, o.Attempts)

		require.NoError(t, e.RecoverPending(ctx))
		require.Len(t, newDeliverJobs(t, db, 3), 1, "nothing left to take over")
	})
}

// TestSendingMessageIsLeased: within its lease a message being sent belongs
// to its sender. A job that finds it then (the sender died moments ago, or
// lost its lock while still sending) waits out the lease instead of
// sending it a second time, and takes it over when the lease ends.
func TestSendingMessageIsLeased(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		args := handleN(t, e, "lease", 2)
		crashMidSend(t, db, e, args[1], "1")
		s := &fakeSender{}
		e.RegisterSender("web", s)

		clk.Advance(2 * time.Second)
		require.NoError(t, e.RecoverPending(ctx))
		require.Empty(t, newDeliverJobs(t, db, 2), "no takeover while the lease holds")
		err := e.Deliver(ctx, args[1])
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, err, &snooze)
		require.Equal(t, bot.DeliverLease-2*time.Second, snooze.Duration, "the job waits for the rest of the lease")
		require.Empty(t, s.texts(), "and sends nothing ahead of the leased message")

		clk.Advance(snooze.Duration)
		require.NoError(t, e.Deliver(ctx, args[1]))
		require.Equal(t, []string{"1", "2"}, s.texts())
	})
}

// TestLongSendKeepsItsLease: a send slower than the lease renews it, so
// recovery does not hand the message to another worker while it is sent.
func TestLongSendKeepsItsLease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		args := handleN(t, e, "slow", 1)
		started, release := make(chan struct{}), make(chan struct{})
		e.RegisterSender("web", bot.SenderFunc(func(context.Context, bot.Recipient, bot.Reply) (string, error) {
			close(started)
			<-release
			return "ext-slow", nil
		}))
		done := make(chan error, 1)
		go func() { done <- e.Deliver(ctx, args[0]) }()
		<-started
		clk.Advance(time.Minute)
		leaseEnd := func() time.Time {
			var until *time.Time
			require.NoError(t, db.Q().QueryRow(ctx, `SELECT sending_until FROM outbound_messages WHERE id = $1`, args[0].OutboundID).Scan(&until))
			require.NotNil(t, until)
			return *until
		}
		require.Eventually(t, func() bool { return leaseEnd().After(clk.Now()) }, 5*time.Second, 5*time.Millisecond,
			"the sender renews its lease")
		require.NoError(t, e.RecoverPending(ctx))
		require.Empty(t, newDeliverJobs(t, db, 1), "a send in progress is not taken over")
		close(release)
		require.NoError(t, <-done)
		o, err := db.Q().GetOutbound(ctx, args[0].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundSent, o.Status)
		require.Equal(t, 1, o.Attempts)
	})
}

// TestJobCutOffBetweenMessagesIsTakenOver: a job that dies between two
// sends leaves no message "sending", only messages queued that it had
// leased, and maybe one whose own job died before it got to it; recovery
// gives the conversation a job for them within seconds.
func TestJobCutOffBetweenMessagesIsTakenOver(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		args := handleN(t, e, "between", 3)
		// The job for 1-2 dies sending 1, after which 1 is recorded as sent
		// (it stands for a crash just after recording it); 3's job died
		// before it leased anything.
		crashMidSend(t, db, e, args[1], "1")
		_, err := db.Q().Exec(ctx, `UPDATE outbound_messages SET status = 'sent' WHERE id = $1`, args[0].OutboundID)
		require.NoError(t, err)
		for i, want := range map[int]bool{1: true, 2: false} {
			var until *time.Time
			require.NoError(t, db.Q().QueryRow(ctx, `SELECT sending_until FROM outbound_messages WHERE id = $1`, args[i].OutboundID).Scan(&until))
			require.Equal(t, want, until != nil && until.After(clk.Now()), "lease of reply %d", i+1)
		}

		s := &fakeSender{}
		e.RegisterSender("web", s)
		clk.Advance(10 * time.Second)
		require.NoError(t, e.RecoverPending(ctx))
		jobs := newDeliverJobs(t, db, 3)
		require.Equal(t, []bot.DeliverArgs{{ConversationID: args[0].ConversationID, Seq: args[2].Seq}}, jobs)
		require.NoError(t, e.Deliver(ctx, jobs[0]))
		require.Equal(t, []string{"2", "3"}, s.texts())
	})
}

// TestFailedDeliveryIsLeftToRiver: a job that stops on a failure keeps
// its lease on the messages still queued only for a short grace (while
// River records its new state), and River's retry (backoff, or the wait a
// rate limit asks for) is not cut short by a takeover, not even in the
// moment the job still looks "running".
func TestFailedDeliveryIsLeftToRiver(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		args := handleN(t, e, "fail", 2)
		// Older than a lease, as after an earlier retry: only the grace
		// keeps recovery off them while River records the job's new state.
		clk.Advance(bot.DeliverLease + time.Second)
		for _, fail := range []error{errors.New("503"), &bot.RetryAfterError{After: time.Minute, Err: errors.New("429")}} {
			clk.Advance(bot.LeaseGrace) // the first failure's grace
			e.RegisterSender("web", &fakeSender{fail: func(string) error { return fail }})
			require.Error(t, e.Deliver(ctx, args[1]))
			var leased int
			hold := bot.LeaseGrace // a failure: no longer than the grace
			if _, limited := fail.(*bot.RetryAfterError); limited {
				hold = time.Minute // a rate limit: until its retry_after
			}
			require.NoError(t, db.Q().QueryRow(ctx, `SELECT count(*) FROM outbound_messages
				WHERE conversation_id = $1 AND sending_until = $2 AND status = 'queued'`,
				args[0].ConversationID, clk.Now().Add(hold)).Scan(&leased))
			require.Equal(t, 2, leased, "the failed job holds its messages for %s", hold)
			// The job still looks running (River has not recorded the retry yet).
			_, err := db.Q().Exec(ctx, `UPDATE river_job SET state = 'running' WHERE kind = 'deliver'`)
			require.NoError(t, err)
			require.NoError(t, e.RecoverPending(ctx))
			require.Empty(t, newDeliverJobs(t, db, 2), "not taken for a dead job within the grace")
		}
		// River holds the job (retryable or snoozed); the message is not taken over.
		_, err := db.Q().Exec(ctx, `UPDATE river_job SET state = 'retryable' WHERE kind = 'deliver'`)
		require.NoError(t, err)
		clk.Advance(10 * time.Second)
		require.NoError(t, e.RecoverPending(ctx))
		require.Empty(t, newDeliverJobs(t, db, 2))
	})
}

// TestRecoveryJobKeepsItselfGoing: a recovery job runs again every few
// seconds for a while by snoozing, no longer than River's scheduler
// interval (5 s), so that it becomes available again without a River
// leader (a restarted process has none for up to about 20 s).
func TestRecoveryJobKeepsItselfGoing(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	e := newEngine(t, db, nil)
	ctx := context.Background()
	err := bot.RecoverWork(ctx, e, time.Now())
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Positive(t, snooze.Duration)
	require.LessOrEqual(t, snooze.Duration, 5*time.Second)
	require.NoError(t, bot.RecoverWork(ctx, e, time.Now().Add(-2*time.Minute)), "the chain ends; the next periodic job starts another")
}

// TestRecoveryWakesWhenALeaseRunsOut: recovery looks again just after the
// earliest delivery lease runs out, so that a delivery whose job died is
// taken over then, not up to 5 s later.
func TestRecoveryWakesWhenALeaseRunsOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		args := handleN(t, e, "wake", 1)
		crashMidSend(t, db, e, args[0], "1")
		clk.Advance(3 * time.Second)
		err := bot.RecoverWork(ctx, e, time.Now())
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, err, &snooze)
		require.Equal(t, bot.DeliverLease-3*time.Second+100*time.Millisecond, snooze.Duration)
		require.Empty(t, newDeliverJobs(t, db, 1))

		clk.Advance(snooze.Duration)
		require.ErrorAs(t, bot.RecoverWork(ctx, e, time.Now()), &snooze)
		require.Len(t, newDeliverJobs(t, db, 1), 1, "taken over as the lease ran out")
	})
}

// TestSendOutcomeRecordedAfterJobEnds: a message the channel accepted just
// as the job's context ended (shutdown, timeout) is recorded as sent, not
// left "sending" to go out a second time.
func TestSendOutcomeRecordedAfterJobEnds(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, nil)
		args := handleN(t, e, "late", 1)
		ctx, cancel := context.WithCancel(context.Background())
		e.RegisterSender("web", bot.SenderFunc(func(context.Context, bot.Recipient, bot.Reply) (string, error) {
			cancel()
			return "ext-late", nil
		}))
		require.NoError(t, e.Deliver(ctx, args[0]))
		o, err := db.Q().GetOutbound(context.Background(), args[0].OutboundID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundSent, o.Status)
		require.Equal(t, "ext-late", o.ExternalID)
	})
}

// TestYoungMessageNotTakenOver: a message younger than a lease whose
// delivery job River already calls "running" (picked, not yet holding its
// lease) is not taken for abandoned; once a lease's time has passed with no
// lease on it, it is.
func TestYoungMessageNotTakenOver(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		handleN(t, e, "young", 1)
		_, err := db.Q().Exec(ctx, `UPDATE river_job SET state = 'running' WHERE kind = 'deliver'`)
		require.NoError(t, err)
		require.NoError(t, e.RecoverPending(ctx))
		require.Empty(t, newDeliverJobs(t, db, 1), "its job is starting")

		clk.Advance(bot.DeliverLease + time.Second)
		require.NoError(t, e.RecoverPending(ctx))
		require.Len(t, newDeliverJobs(t, db, 1), 1, "no lease after a lease's time: its job died")
	})
}

// TestReceiveSendsInTheRequest: with ReceiveAndSend, a received message's
// reply is sent in the request once its turn has committed; its delivery
// job, still queued, finds it sent. A rate limit met in the request holds
// the reply: the job (or any takeover) waits for the channel's
// retry_after and then sends it once; a failure leaves it to the job
// after the grace.
func TestReceiveSendsInTheRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e, s := newEngine(t, db, clk), &fakeSender{}
		e.RegisterSender("web", s)

		out, err := e.ReceiveAndSend(ctx, in("now", "1", "echo one"))
		require.NoError(t, err)
		require.Equal(t, []string{"one"}, s.texts(), "sent in the request")
		o, err := db.Q().GetOutbound(ctx, out.Replies[0].ID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundSent, o.Status)
		jobs := newDeliverJobs(t, db, 0)
		require.Len(t, jobs, 1, "the job is kept")
		require.NoError(t, e.Deliver(ctx, jobs[0]))
		require.Equal(t, []string{"one"}, s.texts(), "the job finds it sent")

		// A repeat of the message sends nothing.
		_, err = e.ReceiveAndSend(ctx, in("now", "1", "echo one"))
		require.NoError(t, err)
		require.Len(t, s.texts(), 1)

		// Rate limited in the request: held until the retry_after.
		limited := true
		s.fail = func(string) error {
			if limited {
				return &bot.RetryAfterError{After: 9 * time.Second, Err: errors.New("429")}
			}
			return nil
		}
		_, err = e.ReceiveAndSend(ctx, in("now", "2", "echo two"))
		require.NoError(t, err, "the message is committed whatever the send")
		limited = false
		job := newDeliverJobs(t, db, 1)[0]
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, e.Deliver(ctx, job), &snooze)
		require.Equal(t, 9*time.Second, snooze.Duration, "the job waits for the retry_after")
		// A later message's send in its request waits too, behind it.
		_, err = e.ReceiveAndSend(ctx, in("now", "3", "echo three"))
		require.NoError(t, err)
		require.Len(t, s.texts(), 1, "nothing goes before the retry_after")
		clk.Advance(9 * time.Second)
		require.NoError(t, e.Deliver(ctx, job))
		require.NoError(t, e.Deliver(ctx, newDeliverJobs(t, db, 2)[0]))
		require.Equal(t, []string{"one", "two", "three"}, s.texts())

		// A failure in the request: the job sends it after the grace.
		s.fail = func(string) error { return errors.New("502 bad gateway") }
		_, err = e.ReceiveAndSend(ctx, in("now", "4", "echo four"))
		require.NoError(t, err)
		s.fail = nil
		job = newDeliverJobs(t, db, 3)[0]
		require.ErrorAs(t, e.Deliver(ctx, job), &snooze)
		clk.Advance(bot.LeaseGrace)
		require.NoError(t, e.Deliver(ctx, job))
		require.Equal(t, []string{"one", "two", "three", "four"}, s.texts())
	})
}
