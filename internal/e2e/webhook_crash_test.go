package e2e

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

const webhookSecret = "e2e-webhook-secret_0123456789"

// webhookEnv puts Telegram in webhook mode against the fake Bot API: a
// message is then answered in the webhook's request (bot.Engine.Receive).
func webhookEnv(env map[string]string, fake *telegramtest.Server) map[string]string {
	out := map[string]string{"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_ENDPOINT": fake.Endpoint(),
		"TELEGRAM_WEBHOOK_SECRET": webhookSecret, "TEND_PUBLIC_URL": "https://clinic.example.org"}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// webhookChats builds n updates for each of chats patients (chat ids from
// first on), as Telegram would post them: update i of a chat carries its
// message id i+1.
func webhookChats(fake *telegramtest.Server, first int64, chats, n int) map[int64][][]byte {
	texts := []string{"hello", "menu"}
	out := map[int64][][]byte{}
	for c := range chats {
		u := telegramtest.User{ID: first + int64(c), FirstName: fmt.Sprintf("Patient%d", c), LanguageCode: "en"}
		for i := range n {
			msg := fake.Message(u, map[string]any{"text": texts[i%len(texts)]})
			out[u.ID] = append(out[u.ID], telegramtest.Update(fake.NextUpdateID(), "message", msg))
		}
	}
	return out
}

// postUpdates posts every chat's updates concurrently, inFlight of one
// chat's at a time (1: each after the one before, in order), each until it
// is answered 200, as Telegram does (a request refused or cut off by a
// crash comes again). base(i) names the server for update i; onAck runs
// after every acknowledgement with their total.
func postUpdates(t *testing.T, chats map[int64][][]byte, inFlight int, base func(i int) string, onAck func(total int64)) int64 {
	ctx := ctxTimeout(t, 4*time.Minute)
	var acks, retries atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(chats)*inFlight)
	client := &http.Client{Timeout: 30 * time.Second}
	for chat, bodies := range chats {
		for w := range inFlight {
			wg.Go(func() {
				for i := w; i < len(bodies); i += inFlight {
					if err := postUntilOK(ctx, client, base(i), bodies[i], &retries); err != nil {
						errs <- fmt.Errorf("chat %d: update %d: %w", chat, i, err)
						return
					}
					if onAck != nil {
						onAck(acks.Add(1))
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return retries.Load()
}

// postUntilOK posts one update until it is answered 200.
func postUntilOK(ctx context.Context, client *http.Client, base string, body []byte, retries *atomic.Int64) error {
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("never acknowledged: %w", ctx.Err())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+telegram.WebhookPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			if resp.StatusCode < 500 {
				return fmt.Errorf("answered %d", resp.StatusCode)
			}
		}
		retries.Add(1)
		time.Sleep(25 * time.Millisecond) // Telegram waits longer before sending again
	}
}

// verifyWebhookChats checks that every update was stored once, handled
// once, with exactly one reply each, the replies in the order of the
// messages, and that every reply reached the fake Bot API in that order. A
// chat in inOrder posted its updates one after the other: its update i
// must be its message number i+1. It returns how many messages were
// answered in their request and how many were accepted for a job.
func verifyWebhookChats(t *testing.T, db *store.DB, fake *telegramtest.Server, chats map[int64][][]byte, n int,
	inOrder func(chat string) bool) (inRequest, queued int) {
	ctx := context.Background()
	q := db.Q()
	deadline := time.Now().Add(90 * time.Second)
	for {
		// Messages accepted for a job (a busy conversation, or queued
		// before a kill) are handled by it; replies go out after.
		var pending, undelivered int
		mustNil(t, q.QueryRow(ctx, `SELECT count(*) FROM inbound_messages WHERE status <> 'done'`).Scan(&pending))
		mustNil(t, q.QueryRow(ctx, `SELECT count(*) FROM outbound_messages WHERE status <> 'sent'`).Scan(&undelivered))
		if pending == 0 && undelivered == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages not handled, %d replies not delivered", pending, undelivered)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var inbound int
	mustNil(t, q.QueryRow(ctx, `SELECT count(*) FROM inbound_messages`).Scan(&inbound))
	if inbound != len(chats)*n {
		t.Fatalf("stored %d messages, want %d (each once)", inbound, len(chats)*n)
	}
	rs, err := q.Query(ctx, `SELECT c.chat_id, i.seq, i.external_id, count(o.id), coalesce(min(o.seq), 0), coalesce(max(o.seq), 0),
			(SELECT count(*) FROM river_job j WHERE j.kind = 'process_inbound' AND j.args ->> 'chat_id' = c.chat_id)
		FROM inbound_messages i JOIN conversations c ON c.id = i.conversation_id
		LEFT JOIN outbound_messages o ON o.inbound_id = i.id
		GROUP BY c.chat_id, i.seq, i.external_id ORDER BY c.chat_id, i.seq`)
	mustNil(t, err)
	lastOut := map[string]int64{}
	jobs := map[string]int{}
	for rs.Next() {
		var chat, ext string
		var seq, outMin, outMax int64
		var replies, chatJobs int
		mustNil(t, rs.Scan(&chat, &seq, &ext, &replies, &outMin, &outMax, &chatJobs))
		jobs[chat] = chatJobs
		if want := fmt.Sprintf(":%s:%d", chat, seq); inOrder(chat) && !strings.HasSuffix(ext, want) {
			t.Fatalf("chat %s: message %q handled as #%d", chat, ext, seq)
		}
		if replies != 1 {
			t.Fatalf("chat %s: message #%d has %d replies, want exactly 1", chat, seq, replies)
		}
		if outMin <= lastOut[chat] {
			t.Fatalf("chat %s: the reply to #%d comes before an earlier one's", chat, seq)
		}
		lastOut[chat] = outMax
	}
	rs.Close()
	mustNil(t, rs.Err())
	for _, j := range jobs {
		queued += j
	}
	// What the patients got: one message per reply (a send cut off by a
	// kill may come twice), in order.
	for chat := range chats {
		sent := fake.SentTo(chat)
		if len(sent) < n {
			t.Fatalf("chat %d got %d messages, want %d", chat, len(sent), n)
		}
		for i := 1; i < len(sent); i++ {
			if sent[i].MessageID <= sent[i-1].MessageID {
				t.Fatalf("chat %d: messages out of order", chat)
			}
		}
	}
	return len(chats)*n - queued, queued
}

// TestKillDuringWebhooks kills `tend serve` with SIGKILL while Telegram's
// webhook posts come in, each answered in its request, restarts it, and
// checks that nothing was lost or handled twice: an update the kill cut
// off before its commit was never acknowledged and comes again; one
// acknowledged was committed with its reply, or queued with its job.
func TestKillDuringWebhooks(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, db *store.DB, env map[string]string) {
		const chats, n = 10, 12
		fake := telegramtest.New(t)
		env = webhookEnv(env, fake)
		updates := webhookChats(fake, 9100, chats, n)
		s := newServer(t, env)
		s.mustStart()
		var mu sync.Mutex
		current := s
		var restarted atomic.Bool
		var restartErr atomic.Value
		retries := postUpdates(t, updates, 1, func(int) string {
			mu.Lock()
			defer mu.Unlock()
			return current.url()
		}, func(total int64) {
			if total == chats*n/3 && restarted.CompareAndSwap(false, true) {
				mu.Lock()
				defer mu.Unlock()
				current.kill() // requests in flight are cut off, their transactions with them
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
		inRequest, queued := verifyWebhookChats(t, db, fake, updates, n, func(string) bool { return true })
		t.Logf("%d updates posted again across the crash; %d answered in their request, %d accepted for a job",
			retries, inRequest, queued)
		if inRequest == 0 {
			t.Error("no message was answered in its webhook's request")
		}
		mu.Lock()
		current.stop()
		mu.Unlock()
	})
}

// TestTwoReplicasWebhooksKeepOrder: each chat's updates alternate between
// two replicas on one PostgreSQL database, some chats' one after the other,
// others' four at a time. A replica finding the conversation busy (the
// other's turn, or a job) queues the message rather than wait; either way
// each chat's messages are handled and answered in order, once.
func TestTwoReplicasWebhooksKeepOrder(t *testing.T) {
	t.Parallel()
	schema := storetest.NewSchemaName()
	db := storetest.OpenPostgresSchema(t, schema)
	t.Cleanup(func() { storetest.DropSchema(t, schema) })
	fake := telegramtest.New(t)
	env := webhookEnv(map[string]string{"DATABASE_URL": schemaURL(schema)}, fake)
	a, b := newServer(t, withDir(t, env)), newServer(t, withDir(t, env))
	a.mustStart()
	b.mustStart()
	defer a.stop()
	defer b.stop()
	const chats, n = 10, 12
	updates, bursts := webhookChats(fake, 9100, chats, n), webhookChats(fake, 9200, chats, n)
	alternate := func(i int) string {
		if i%2 == 0 {
			return a.url()
		}
		return b.url()
	}
	var wg sync.WaitGroup
	wg.Go(func() { postUpdates(t, updates, 1, alternate, nil) })
	wg.Go(func() { postUpdates(t, bursts, 4, alternate, nil) })
	wg.Wait()
	maps.Copy(updates, bursts)
	inRequest, queued := verifyWebhookChats(t, db, fake, updates, n, func(chat string) bool { return chat < "9200" })
	var multi int
	mustNil(t, db.Q().QueryRow(context.Background(),
		`SELECT count(*) FROM outbound_messages WHERE attempts > 1`).Scan(&multi))
	if multi != 0 {
		t.Fatalf("%d replies were sent more than once", multi)
	}
	t.Logf("%d answered in their request, %d accepted for a job", inRequest, queued)
}

// TestKillDuringInlineSends kills `tend serve` with SIGKILL while a reply
// is being sent in its webhook's request (bot.Engine.ReceiveAndSend), the
// Bot API 100 ms away, restarts it, and checks that every update was
// handled once and every reply went out, in order, a duplicate only for a
// send in flight at the kill. One chat's first send is answered 429 with
// retry_after: nothing goes to that chat until the wait is over, neither
// from its delivery job nor from its later updates' requests.
func TestKillDuringInlineSends(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, db *store.DB, env map[string]string) {
		const chats, n, retryAfter = 8, 8, 3
		api := newTelegramAPI(t, 100*time.Millisecond)
		env = webhookEnv(env, api.fake)
		env["TELEGRAM_API_ENDPOINT"] = api.proxy.URL + "/bot%s/%s"
		updates := webhookChats(api.fake, 9300, chats, n)
		limited := strconv.FormatInt(9300, 10)
		api.fake.FailMatching("sendMessage", 1, func(f url.Values) bool { return f.Get("chat_id") == limited },
			telegramtest.TooManyRequests(retryAfter))
		s := newServer(t, env)
		s.mustStart()
		var mu sync.Mutex
		current := s
		var killed atomic.Bool
		var sending int
		var killErr atomic.Value
		postUpdates(t, updates, 1, func(int) string {
			mu.Lock()
			defer mu.Unlock()
			return current.url()
		}, func(total int64) {
			if total < chats*n/3 || !killed.CompareAndSwap(false, true) {
				return
			}
			api.hold.Store(true) // the next send, in some update's request
			select {
			case <-api.held:
			case <-time.After(30 * time.Second):
				killErr.Store(fmt.Errorf("no send to hold before the kill"))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			current.kill()
			if err := db.Q().QueryRow(context.Background(),
				`SELECT count(*) FROM outbound_messages WHERE status = 'sending'`).Scan(&sending); err != nil {
				killErr.Store(err)
				return
			}
			next := newServerAt(t, env, current.addr)
			if err := next.start(); err != nil {
				killErr.Store(err)
			}
			current = next
		})
		if err, _ := killErr.Load().(error); err != nil {
			t.Fatal(err)
		}
		if !killed.Load() || sending == 0 {
			t.Fatalf("killed %v with %d sends under way, want one at least", killed.Load(), sending)
		}
		verifyWebhookChats(t, db, api.fake, updates, n, func(string) bool { return true })
		if extra := api.total() - chats*n; extra > sending {
			t.Errorf("%d duplicates for %d sends cut off", extra, sending)
		}
		// The rate limit: no send to that chat within retry_after of the 429.
		var at []time.Time
		for _, c := range api.fake.Calls("sendMessage") {
			if c.Form.Get("chat_id") == limited {
				at = append(at, c.Time)
			}
		}
		if len(at) < 2 {
			t.Fatalf("%d sends to the rate-limited chat", len(at))
		}
		if gap := at[1].Sub(at[0]); gap < retryAfter*time.Second {
			t.Errorf("sent again %s after a 429 asking for %d s", gap.Round(time.Millisecond), retryAfter)
		}
		t.Logf("%d sends cut off by the kill, %d messages sent for %d replies; after the 429 the next send came %s later",
			sending, api.total(), chats*n, at[1].Sub(at[0]).Round(time.Millisecond))
		mu.Lock()
		current.stop()
		mu.Unlock()
	})
}
