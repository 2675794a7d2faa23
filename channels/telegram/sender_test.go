package telegram_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestOutboundOutage: sendMessage fails for a while (a proxy's 502 pages,
// then the API's own 5xx); replies wait, then go out in order, once each.
func TestOutboundOutage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.fake.SetDown(true, "sendMessage")
		h.start()
		u := patient(6001)
		for _, text := range []string{"hello", "/help", "menu"} {
			h.fake.PushText(u, text)
		}
		// Several failed attempts, River's backoff cut short each time.
		require.Eventually(t, func() bool {
			h.retryNow()
			return len(h.fake.Calls("sendMessage")) >= 5
		}, waitFor, 50*time.Millisecond)
		require.Empty(t, h.fake.Sent())
		h.fake.SetDown(false)
		h.fake.FailNext("sendMessage", 2, telegramtest.Failure{Status: 500, Description: "Internal Server Error"})

		conv := h.conversation(itoa(u.ID))
		var want []string
		require.Eventually(t, func() bool {
			h.retryNow()
			rows, err := db.Q().OutboundAfter(context.Background(), conv.ID, 0, 100)
			require.NoError(t, err)
			want = want[:0]
			for _, o := range rows {
				r, err := bot.DecodeReply(o.Body)
				require.NoError(t, err)
				want = append(want, r.Text)
			}
			return len(want) == 3 && len(h.fake.Sent()) >= 3 && len(h.deliverJobs("retryable")) == 0 &&
				len(h.deliverJobs("available")) == 0 && len(h.deliverJobs("running")) == 0
		}, waitFor, 50*time.Millisecond)
		var got []string
		for _, m := range h.fake.Sent() {
			got = append(got, m.Text)
		}
		require.Equal(t, want, got, "in order, once each")
		counts, err := db.Q().CountOutboundByStatus(context.Background(), conv.ID)
		require.NoError(t, err)
		require.Equal(t, map[string]int{store.OutboundSent: 3}, counts)
		require.Positive(t, metricSum(t, h, "tend_delivery_retries_total"))
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRateLimited: a 429 snoozes the delivery for retry_after seconds,
// then the message goes out once.
func TestRateLimited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.fake.FailNext("sendMessage", 1, telegramtest.TooManyRequests(30))
		h.start()
		u := patient(6002)
		h.fake.PushText(u, "hello")
		var snoozed []int64
		require.Eventually(t, func() bool {
			snoozed = h.deliverJobs("scheduled")
			return len(snoozed) == 1
		}, waitFor, 20*time.Millisecond)
		job, err := h.river().get(context.Background(), snoozed[0])
		require.NoError(t, err)
		require.Greater(t, time.Until(job.ScheduledAt), 20*time.Second, "waits what retry_after asks")
		require.Len(t, h.fake.Calls("sendMessage"), 1)
		require.Empty(t, h.fake.Sent())

		h.retryNow() // instead of waiting the 30 s
		h.waitSent(u.ID, 1)
		require.Len(t, h.fake.Calls("sendMessage"), 2)
	})
}

// TestBlockedPatient: the patient blocked the bot (403). The conversation
// is marked unreachable and the message failed, with no retries; later
// messages fail without calling Telegram, until the patient writes again.
func TestBlockedPatient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		u := patient(6003)
		h.fake.Block(u.ID)
		h.start()
		h.fake.PushText(u, "hello")
		require.Eventually(t, func() bool {
			c, err := db.Q().FindConversation(context.Background(), "telegram", itoa(u.ID))
			return err == nil && c.Unreachable
		}, waitFor, 20*time.Millisecond)
		conv := h.conversation(itoa(u.ID))
		require.Eventually(t, func() bool { return len(h.deliverJobs("completed")) == 1 }, waitFor, 20*time.Millisecond)
		require.Empty(t, h.deliverJobs("retryable"))
		require.Len(t, h.fake.Calls("sendMessage"), 1)

		// A reminder to an unreachable patient fails at once, without a call.
		require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := h.app.Engine.Send(context.Background(), tx, conv.ID, bot.Reply{Text: "Reminder", Kind: bot.KindReminder})
			return err
		}))
		require.Eventually(t, func() bool { return len(h.deliverJobs("completed")) == 2 }, waitFor, 20*time.Millisecond)
		counts, err := db.Q().CountOutboundByStatus(context.Background(), conv.ID)
		require.NoError(t, err)
		require.Equal(t, map[string]int{store.OutboundFailed: 2}, counts)
		require.Len(t, h.fake.Calls("sendMessage"), 1)

		// The patient unblocks and writes: reachable again.
		h.fake.Unblock(u.ID)
		h.fake.PushText(u, "hello again")
		h.waitSent(u.ID, 1)
		require.False(t, h.conversation(itoa(u.ID)).Unreachable)
	})
}

// TestSplitReplyResumes: the second part of a long reply fails; the retry
// sends only what is missing, so the patient never sees a part twice.
func TestSplitReplyResumes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, harnessOpts{})
		h.startJobs()
		u := patient(6004)
		h.fake.PushText(u, "hi")
		conv := h.acceptAll()
		h.waitSent(u.ID, 1)
		long := strings.Repeat("First half sentence. ", 150) + "\n\n" + strings.Repeat("Second half SECOND. ", 150)
		h.fake.FailMatching("sendMessage", 1, func(f url.Values) bool { return strings.Contains(f.Get("text"), "SECOND") },
			telegramtest.BadGateway)
		require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := h.app.Engine.Send(context.Background(), tx, conv, bot.Reply{Text: long, Kind: bot.KindNotice})
			return err
		}))
		// The first part is out, the second failed and waits for its retry.
		require.Eventually(t, func() bool {
			for _, c := range h.fake.Calls("sendMessage") {
				if strings.Contains(c.Form.Get("text"), "SECOND") {
					return true
				}
			}
			return false
		}, waitFor, 20*time.Millisecond)
		h.retryNow()
		got := h.waitSent(u.ID, 3)
		require.Eventually(t, func() bool { return len(h.deliverJobs("completed")) == 2 }, waitFor, 20*time.Millisecond)
		require.Len(t, h.fake.SentTo(u.ID), 3, "greeting and the two parts, the first not repeated")
		require.Equal(t, strings.Fields(long), strings.Fields(got[1].Text+" "+got[2].Text))

		// The same long text later is sent whole again, not skipped.
		require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := h.app.Engine.Send(context.Background(), tx, conv, bot.Reply{Text: long, Kind: bot.KindNotice})
			return err
		}))
		h.waitSent(u.ID, 5)
	})
}
