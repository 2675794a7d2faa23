package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// echo is a test dialog: "echo …" is answered with the text; "fail" writes
// then fails; "panic" panics.
type echo struct{}

func (echo) Name() string { return "echo" }
func (echo) Match(t *bot.Turn) int {
	if strings.HasPrefix(t.Text(), "echo ") || t.Text() == "fail" || t.Text() == "panic" {
		return 100
	}
	return 0
}
func (echo) Handle(t *bot.Turn) (bool, error) {
	switch t.Text() {
	case "fail":
		if _, _, err := handoff.Open(t.Ctx, t.Q(), t.ConversationID(), "should be rolled back", false, t.Now); err != nil {
			return true, err
		}
		t.Start("echo")
		return true, errors.New("dialog failed on purpose")
	case "panic":
		panic("dialog panicked on purpose")
	}
	t.Reply(bot.Reply{Text: strings.TrimPrefix(t.Text(), "echo ")})
	return true, nil
}

type echoModule struct{}

func (echoModule) Name() string { return "echo" }
func (echoModule) Install(_ context.Context, a *host.Host) error {
	a.Engine.AddDialog(echo{})
	return nil
}

func newEngine(t *testing.T, db *store.DB, clk clock.Clock) *bot.Engine {
	a := apptest.New(t, db, apptest.Options{Clock: clk, Modules: []app.Module{echoModule{}}})
	return a.Engine
}

func in(chat, id, text string) bot.Inbound {
	return bot.Inbound{Channel: "web", ChatID: chat, SenderID: chat, MessageID: id, Text: text}
}

func TestHandleGreetingQueuesDelivery(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		out, err := e.Handle(ctx, in("c1", "m1", "hello"))
		require.NoError(t, err)
		require.False(t, out.Duplicate)
		require.Len(t, out.Replies, 1)
		r := out.Replies[0]
		require.Contains(t, r.Text, "Maple Grove Family Clinic")
		require.NotEmpty(t, r.Buttons)
		require.Equal(t, int64(1), r.Seq)

		var jobs int
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'deliver'`).Scan(&jobs))
		require.Equal(t, 1, jobs, "one delivery job per reply, in the same transaction")
		o, err := db.Q().GetOutbound(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, store.OutboundQueued, o.Status)
	})
}

func TestDuplicateMessageIsHandledOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		first, err := e.Handle(ctx, in("c1", "m1", "echo one"))
		require.NoError(t, err)
		again, err := e.Handle(ctx, in("c1", "m1", "echo one"))
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, first.Replies[0].ID, again.Replies[0].ID, "a repeat returns the original reply")
		counts, err := db.Q().CountOutboundByStatus(ctx, first.ConversationID)
		require.NoError(t, err)
		require.Equal(t, 1, counts[store.OutboundQueued])
	})
}

// Many messages to one conversation at once are handled one at a time, in
// the order they were accepted, each reply following its message.
func TestConcurrentMessagesKeepOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		const n = 30
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.Handle(ctx, in("busy", fmt.Sprintf("m%d", i), fmt.Sprintf("echo %d", i)))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		conv, err := db.Q().FindConversation(ctx, "web", "busy")
		require.NoError(t, err)
		ins, err := db.Q().RecentInbound(ctx, conv.ID, 100)
		require.NoError(t, err)
		require.Len(t, ins, n)
		outs, err := db.Q().OutboundAfter(ctx, conv.ID, 0, 100)
		require.NoError(t, err)
		require.Len(t, outs, n)
		seqOf := map[int64]int64{}
		for _, m := range ins {
			require.Equal(t, store.InboundDone, m.Status)
			seqOf[m.ID] = m.Seq
		}
		for i, o := range outs {
			require.Equal(t, int64(i+1), o.Seq)
			require.Equal(t, int64(i+1), seqOf[*o.InboundID], "reply %d answers message %d", o.Seq, seqOf[*o.InboundID])
		}
	})
}

func TestFailingDialogRollsBackItsWritesAndApologises(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		for i, text := range []string{"fail", "panic"} {
			out, err := e.Handle(ctx, in("c-fail", fmt.Sprint(i), text))
			require.NoError(t, err, "a dialog error is not a request error")
			require.Len(t, out.Replies, 1)
			require.Contains(t, out.Replies[0].Text, "something went wrong")
			m, err := db.Q().FindInbound(ctx, "web", fmt.Sprint(i))
			require.NoError(t, err)
			require.Equal(t, store.InboundFailed, m.Status, "the message is kept, marked failed")
		}
		conv, err := db.Q().FindConversation(ctx, "web", "c-fail")
		require.NoError(t, err)
		require.Empty(t, conv.Dialog, "the failed turn's state change is rolled back")
		_, err = handoff.ActiveFor(ctx, db.Q(), conv.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "the failed turn's writes are rolled back")
		out, err := e.Handle(ctx, in("c-fail", "2", "echo still here"))
		require.NoError(t, err)
		require.Equal(t, "still here", out.Replies[0].Text, "the conversation goes on")
	})
}

// TestFailingDialogInProcessJob: a webhook's message handled by its job
// fails the same way: alone (no savepoint; the job's transaction runs again)
// or among others (a savepoint each, the others' replies kept).
func TestFailingDialogInProcessJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		replies := func(chat string, texts ...string) ([]string, store.Conversation) {
			t.Helper()
			for i, text := range texts {
				_, err := e.Accept(ctx, in(chat, fmt.Sprintf("%s-%d", chat, i), text))
				require.NoError(t, err)
			}
			require.NoError(t, e.ProcessPendingChat(ctx, "web", chat))
			conv, err := db.Q().FindConversation(ctx, "web", chat)
			require.NoError(t, err)
			outs, err := db.Q().OutboundAfter(ctx, conv.ID, 0, 10)
			require.NoError(t, err)
			var got []string
			for _, o := range outs {
				r, err := bot.DecodeReply(o.Body)
				require.NoError(t, err)
				got = append(got, r.Text)
			}
			return got, conv
		}
		status := func(id string) string {
			m, err := db.Q().FindInbound(ctx, "web", id)
			require.NoError(t, err)
			return m.Status
		}

		got, conv := replies("alone", "fail")
		require.Len(t, got, 1)
		require.Contains(t, got[0], "something went wrong")
		require.Equal(t, store.InboundFailed, status("alone-0"))
		require.Empty(t, conv.Dialog, "the failed turn's state change is rolled back")
		_, err := handoff.ActiveFor(ctx, db.Q(), conv.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "the failed turn's writes are rolled back")

		got, conv = replies("among", "echo a", "fail", "echo b")
		require.Len(t, got, 3)
		require.Equal(t, "a", got[0])
		require.Contains(t, got[1], "something went wrong")
		require.Equal(t, "b", got[2])
		require.Equal(t, []string{store.InboundDone, store.InboundFailed, store.InboundDone},
			[]string{status("among-0"), status("among-1"), status("among-2")})
		_, err = handoff.ActiveFor(ctx, db.Q(), conv.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Equal(t, conv.NextInSeq, conv.HandledSeq, "nothing left pending")
	})
}

// TestProcessJobOfEarlierVersion: a process_inbound job queued by an
// earlier version names the conversation by id, not the chat; it still runs.
func TestProcessJobOfEarlierVersion(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Modules: []app.Module{echoModule{}}})
		out, err := a.Engine.Accept(ctx, in("legacy", "legacy-1", "echo from before"))
		require.NoError(t, err)
		// Swap the job the accept queued for one as an earlier version wrote it.
		_, err = db.Q().Exec(ctx, `DELETE FROM river_job WHERE kind = 'process_inbound'`)
		require.NoError(t, err)
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			return tx.Enqueue(ctx, bot.ProcessArgs{ConversationID: out.ConversationID}, nil)
		}))
		var args string
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT args ->> 'conversation_id' FROM river_job WHERE kind = 'process_inbound'`).Scan(&args))
		require.Equal(t, fmt.Sprint(out.ConversationID), args)

		jobCtx, cancel := context.WithCancel(ctx)
		require.NoError(t, a.Start(jobCtx))
		t.Cleanup(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			_ = a.Stop(sctx)
			cancel()
		})
		// (The recovery job leaves a message this young alone: it is the old job's.)
		require.Eventually(t, func() bool {
			m, err := db.Q().FindInbound(ctx, "web", "legacy-1")
			var state string
			serr := db.Q().QueryRow(ctx, `SELECT state FROM river_job WHERE kind = 'process_inbound'`).Scan(&state)
			return err == nil && m.Status == store.InboundDone && serr == nil && state == "completed"
		}, 20*time.Second, 20*time.Millisecond, "the old job ran and handled the message")
		outs, err := db.Q().OutboundAfter(ctx, out.ConversationID, 0, 10)
		require.NoError(t, err)
		require.Len(t, outs, 1)
		r, err := bot.DecodeReply(outs[0].Body)
		require.NoError(t, err)
		require.Equal(t, "from before", r.Text)
	})
}

func TestBadInputGetsPoliteReplies(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		cases := []struct {
			name    string
			in      bot.Inbound
			contain string
		}{
			{"empty", in("b", "1", "   \n\t "), "didn't get any text"},
			{"binary", in("b", "2", "\x00\x01\x02\xff\xfe"), "didn't get any text"},
			{"too long", in("b", "3", strings.Repeat("word ", 1000)), "too long"},
			{"photo", bot.Inbound{Channel: "web", ChatID: "b", MessageID: "4", Meta: map[string]string{bot.MetaUnsupported: "photo"}}, "only read text"},
			{"unknown button", bot.Inbound{Channel: "web", ChatID: "b", MessageID: "5", Payload: "nosuch:thing"}, "no longer available"},
			{"stale menu button", bot.Inbound{Channel: "web", ChatID: "b", MessageID: "6", Payload: "menu:topic:nosuch"}, "no longer available"},
		}
		for _, c := range cases {
			out, err := e.Handle(ctx, c.in)
			require.NoError(t, err, c.name)
			require.NotEmpty(t, out.Replies, c.name)
			require.Contains(t, out.Replies[0].Text, c.contain, c.name)
		}
		m, err := db.Q().FindInbound(ctx, "web", "3")
		require.NoError(t, err)
		require.Equal(t, 5000, len(m.Text), "an over-long message is kept, not dropped")
	})
}

func TestAcceptThenProcessAndRecover(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(apptest.Epoch)
		e := newEngine(t, db, clk)
		var convID int64
		for i := range 3 {
			out, err := e.Accept(ctx, in("async", fmt.Sprint(i), fmt.Sprintf("echo %d", i)))
			require.NoError(t, err)
			convID = out.ConversationID
		}
		dup, err := e.Accept(ctx, in("async", "0", "echo 0"))
		require.NoError(t, err)
		require.True(t, dup.Duplicate)
		pending, err := db.Q().PendingInbound(ctx, convID)
		require.NoError(t, err)
		require.Len(t, pending, 3)

		// Recovery leaves young messages to their process job...
		require.NoError(t, e.RecoverPending(ctx))
		pending, err = db.Q().PendingInbound(ctx, convID)
		require.NoError(t, err)
		require.Len(t, pending, 3)
		// ...and handles them once they are overdue, in order.
		clk.Advance(time.Minute)
		require.NoError(t, e.RecoverPending(ctx))
		pending, err = db.Q().PendingInbound(ctx, convID)
		require.NoError(t, err)
		require.Empty(t, pending)
		outs, err := db.Q().OutboundAfter(ctx, convID, 0, 10)
		require.NoError(t, err)
		require.Len(t, outs, 3)
		for i, o := range outs {
			r, err := bot.DecodeReply(o.Body)
			require.NoError(t, err)
			require.Equal(t, fmt.Sprint(i), r.Text)
		}
		require.NoError(t, e.ProcessPending(ctx, convID), "processing again finds nothing to do")
	})
}

func TestLanguageFromLocaleAndSwitch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, nil)
		m := in("es", "1", "hola")
		m.Locale = "es-MX"
		out, err := e.Handle(ctx, m)
		require.NoError(t, err)
		require.Contains(t, out.Replies[0].Text, "asistente virtual")
		out, err = e.Handle(ctx, in("es", "2", "English"))
		require.NoError(t, err)
		require.Contains(t, out.Replies[0].Text, "English from now on")
	})
}
