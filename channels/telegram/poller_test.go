package telegram_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestRestartDuringBurst: many updates wait at Telegram; the poller is
// stopped and replaced again and again while it works through them (and
// twice a new one starts before the old one has stopped, as in a rolling
// deploy). Every update is recorded once and answered once.
func TestRestartDuringBurst(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.startJobs()
		const chats, perChat = 6, 10
		var first, last int64
		for i := range perChat {
			for c := range chats {
				id := h.fake.PushText(patient(int64(3000+c)), fmt.Sprintf("hello %d", i))
				if first == 0 {
					first = id
				}
				last = id
			}
		}
		opts := testOptions()
		opts.PollLimit = 4

		var prev *telegram.Bot
		var prevCancel context.CancelFunc
		for round := 0; h.countInbound() < chats*perChat; round++ {
			require.Less(t, round, 100, "no progress")
			b := telegram.New(h.app.Host, opts)
			ctx, cancel := context.WithCancel(context.Background())
			b.Start(ctx)
			overlap := round%4 == 1
			if prev != nil && !overlap {
				prevCancel()
				prev.Wait()
			}
			before := h.countInbound()
			require.Eventually(t, func() bool {
				n := h.countInbound()
				return n >= before+5 || n == chats*perChat
			}, waitFor, 5*time.Millisecond)
			if prev != nil && overlap {
				prevCancel()
				prev.Wait()
			}
			prev, prevCancel = b, cancel
		}
		prevCancel()
		prev.Wait()

		require.Equal(t, chats*perChat, h.countInbound())
		offset, err := db.Q().GetKV(context.Background(), "telegram:offset:"+strconv.Itoa(telegramtest.BotID))
		require.NoError(t, err)
		// Overlapping pollers may leave an older offset than the last one
		// confirmed: harmless, Telegram answers from what it has confirmed.
		n, err := strconv.ParseInt(offset, 10, 64)
		require.NoError(t, err)
		require.Greater(t, n, first)
		require.LessOrEqual(t, n, last+1)
		h.requireRepliedOnce(chats*perChat, 3000, chats, perChat)
	})
}

// requireRepliedOnce waits for every delivery to finish and checks that each
// chat got exactly one reply per message.
func (h *harness) requireRepliedOnce(total int, firstChat int64, chats, perChat int) {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		return len(h.fake.Sent()) >= total && len(h.deliverJobs("available")) == 0 &&
			len(h.deliverJobs("running")) == 0 && len(h.deliverJobs("retryable")) == 0
	}, waitFor, 20*time.Millisecond, "sent %d of %d; deliveries available %d, running %d, retryable %d, inbound pending %d",
		len(h.fake.Sent()), total, len(h.deliverJobs("available")), len(h.deliverJobs("running")),
		len(h.deliverJobs("retryable")), h.countPending())
	require.Len(h.t, h.fake.Sent(), total)
	for c := range chats {
		require.Len(h.t, h.fake.SentTo(firstChat+int64(c)), perChat)
	}
}

// TestCrashBetweenRecordAndConfirm: the process dies after recording a
// batch but before the offset reached Telegram; Telegram sends the batch
// again to the next process, which recognises every update.
func TestCrashBetweenRecordAndConfirm(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.startJobs()
		var first int64
		for i := range 5 {
			id := h.fake.PushText(patient(int64(4000+i)), "hello")
			if first == 0 {
				first = id
			}
		}
		h.acceptAll()
		require.Equal(t, 5, h.countInbound())
		h.requireRepliedOnce(5, 4000, 5, 1)

		// Roll back to just before the crash: the offset still at the batch's
		// start and Telegram still holding the batch.
		require.NoError(t, db.Q().PutKV(context.Background(), "telegram:offset:"+strconv.Itoa(telegramtest.BotID),
			strconv.FormatInt(first, 10), time.Now()))
		h.fake.Redeliver(first)
		h.acceptAllAgain()
		require.Equal(t, 5, h.countInbound())
		h.requireRepliedOnce(5, 4000, 5, 1)
	})
}

// acceptAllAgain runs a poller until Telegram holds nothing unconfirmed.
func (h *harness) acceptAllAgain() {
	h.t.Helper()
	b := telegram.New(h.app.Host, testOptions())
	ctx, cancel := context.WithCancel(context.Background())
	b.Start(ctx)
	require.Eventually(h.t, func() bool { return h.fake.Pending() == 0 }, waitFor, 20*time.Millisecond)
	cancel()
	b.Wait()
}

// TestPollingRepairsStart: a webhook left by an earlier deployment blocks
// polling (409) and getUpdates is rate limited once; the poller removes the
// webhook, waits, and goes on.
func TestPollingRepairsStart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.fake.SetWebhook("https://old.example.org/hook")
		h.fake.FailNext("getMe", 1, telegramtest.Failure{Status: 502, HTML: true})
		h.fake.FailNext("getUpdates", 1, telegramtest.TooManyRequests(1))
		h.start()
		u := patient(5001)
		h.fake.PushText(u, "hello")
		h.waitSent(u.ID, 1)
		require.NotEmpty(t, h.fake.Calls("deleteWebhook"))
		url, _ := h.fake.Webhook()
		require.Empty(t, url)
	})
}

// TestUnreadableUpdatesDoNotStall: updates the decoder cannot read are
// skipped and counted; the ones after them are handled.
func TestUnreadableUpdatesDoNotStall(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.start()
		id := h.fake.NextUpdateID()
		h.fake.PushRaw([]byte(fmt.Sprintf(`{"update_id":%d,"message":{"chat":"not an object"}}`, id+1)))
		h.fake.Push("channel_post", map[string]any{"message_id": 1, "date": 1, "text": "news", "chat": map[string]any{"id": -1001, "type": "channel"}})
		u := patient(5002)
		h.fake.PushText(u, "hello")
		h.waitSent(u.ID, 1)
		require.Equal(t, 1, h.countInbound())
		require.Eventually(t, func() bool { return h.fake.Pending() == 0 }, waitFor, 20*time.Millisecond)
	})
}
