package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/store"
)

// retryBound is the longest a reply undelivered at a kill -9 (its send cut
// off, or queued behind it or for a job the kill ended) may wait to go out,
// counted from the kill, the restart included: the 5 s delivery lease, then
// the restarted process's own recovery job (bot.Engine.StartRecovery) takes
// it over; measured 4.7-5.8 s, so 15 s leaves room for a loaded machine
// and fails if takeover waits for River's leadership again (19-20 s).
const retryBound = 15 * time.Second

// telegramAPI is the fake Bot API behind a proxy that delays sendMessage
// both ways, half of the latency each, as the real API's round trip does. A
// kill in the first half cuts off a send Telegram never got; in the second,
// the message has reached Telegram (and the patient) while its answer is
// still on its way: the window in which a crash makes a re-send a duplicate.
type telegramAPI struct {
	fake  *telegramtest.Server
	proxy *httptest.Server
	// hold, when armed, catches the next sendMessage on its way and keeps
	// it until its sender goes away, telling held: a send the kill is
	// sure to cut off before Telegram has it.
	hold atomic.Bool
	held chan struct{}

	mu       sync.Mutex
	arrivals []arrival
	perChat  map[int64]int
}

// arrival is one message the fake accepted from sendMessage.
type arrival struct {
	chat  int64
	msgID int64
	at    time.Time
}

func newTelegramAPI(t *testing.T, latency time.Duration) *telegramAPI {
	a := &telegramAPI{perChat: map[int64]int{}, held: make(chan struct{}, 1)}
	a.fake = telegramtest.New(t)
	a.fake.OnSend = func(m telegramtest.Message) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.arrivals = append(a.arrivals, arrival{chat: m.ChatID, msgID: m.MessageID, at: time.Now()})
		a.perChat[m.ChatID]++
	}
	target, err := url.Parse(a.fake.URL)
	mustNil(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	// Network latency, not a wait for async work.
	rp.ModifyResponse = func(resp *http.Response) error {
		if strings.HasSuffix(resp.Request.URL.Path, "/sendMessage") {
			time.Sleep(latency / 2)
		}
		return nil
	}
	a.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sendMessage") {
			// Read the body first: only then does the server notice the
			// client going away and end the request's context.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			wait := time.After(latency / 2)
			if a.hold.CompareAndSwap(true, false) {
				a.held <- struct{}{}
				wait = nil
			}
			select {
			case <-wait:
			case <-r.Context().Done(): // the sender died: Telegram never gets it
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(a.proxy.Close)
	return a
}

func (a *telegramAPI) sentTo(chat int64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.perChat[chat]
}

func (a *telegramAPI) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.arrivals)
}

func (a *telegramAPI) all() []arrival {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.arrivals)
}

// interrupted is a reply undelivered at a kill: its send cut off
// ("sending"), or queued behind it or for a job the kill ended.
type interrupted struct {
	outboundID int64
	chat       int64
	killedAt   time.Time
	sending    bool
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// TestKillDuringDelivery kills `tend serve` with SIGKILL while it delivers
// Telegram replies to patients who each wait for the answer before writing
// again, restarts it, and checks what the patients got: every reply, in
// order, a duplicate only for a send the kill cut off (at most one each),
// and every reply undelivered at the kill out within retryBound of it. It
// logs the figures docs/performance.md reports; TEND_TEST_CRASH_PATIENTS,
// _MESSAGES, _KILLS and _LATENCY_MS scale it.
func TestKillDuringDelivery(t *testing.T) {
	t.Parallel()
	patients := envInt(t, "TEND_TEST_CRASH_PATIENTS", 12)
	messages := envInt(t, "TEND_TEST_CRASH_MESSAGES", 10)
	kills := envInt(t, "TEND_TEST_CRASH_KILLS", 1)
	latency := time.Duration(envInt(t, "TEND_TEST_CRASH_LATENCY_MS", 100)) * time.Millisecond
	stores(t, func(t *testing.T, db *store.DB, env map[string]string) {
		api := newTelegramAPI(t, latency)
		env["TELEGRAM_BOT_TOKEN"] = telegramtest.Token
		env["TELEGRAM_API_ENDPOINT"] = api.proxy.URL + "/bot%s/%s"
		s := newServer(t, env)
		s.mustStart()
		var mu sync.Mutex
		current := s

		ctx := ctxTimeout(t, 10*time.Minute)
		texts := []string{"hello", "how much does a visit cost?", "menu", "what should I bring to my visit?"}
		var wg sync.WaitGroup
		var done atomic.Int64
		errs := make(chan error, patients+1)
		for p := range patients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := telegramtest.User{ID: int64(7000 + p), FirstName: fmt.Sprintf("Patient%d", p)}
				for i := range messages {
					before := api.sentTo(u.ID)
					api.fake.PushText(u, texts[i%len(texts)])
					for api.sentTo(u.ID) == before {
						if ctx.Err() != nil {
							errs <- fmt.Errorf("patient %d: no answer to message %d", p, i)
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
				}
				done.Add(1)
			}()
		}

		// Kill while replies are going out, at evenly spaced points of the run.
		var cut []interrupted
		var restarts []time.Duration
		var atKill []string // recovery jobs' states at each kill, for a slow run's report
		for k := 1; k <= kills; k++ {
			at := k * patients * messages / (kills + 1)
			for api.total() < at {
				if ctx.Err() != nil || done.Load() == int64(patients) {
					t.Fatal("the burst ended or stalled before the kill")
				}
				time.Sleep(2 * time.Millisecond)
			}
			// ... while a send is on its way to Telegram (and others are
			// wherever they happen to be).
			api.hold.Store(true)
			select {
			case <-api.held:
			case <-ctx.Done():
				t.Fatal("no send to hold before the kill")
			}
			mu.Lock()
			killedAt := time.Now()
			current.kill()
			rs, err := db.Q().Query(context.Background(), `SELECT o.id, c.chat_id, o.status FROM outbound_messages o
				JOIN conversations c ON c.id = o.conversation_id WHERE o.status IN ('queued', 'sending')`)
			mustNil(t, err)
			for rs.Next() {
				var id int64
				var chat, status string
				mustNil(t, rs.Scan(&id, &chat, &status))
				n, err := strconv.ParseInt(chat, 10, 64)
				mustNil(t, err)
				cut = append(cut, interrupted{outboundID: id, chat: n, killedAt: killedAt, sending: status == store.OutboundSending})
			}
			rs.Close()
			mustNil(t, rs.Err())
			states, err := store.CountBy(db.Q().Query(context.Background(),
				`SELECT state, count(*) FROM river_job WHERE kind = 'recover_inbound' GROUP BY state`))
			mustNil(t, err)
			atKill = append(atKill, fmt.Sprint(states))
			next := newServerAt(t, env, current.addr)
			if err := next.start(); err != nil {
				mu.Unlock()
				t.Fatal(err)
			}
			restarts = append(restarts, time.Since(killedAt))
			current = next
			mu.Unlock()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		defer func() {
			mu.Lock()
			current.stop()
			mu.Unlock()
		}()

		q := db.Q()
		bg := context.Background()
		for {
			var left int
			mustNil(t, q.QueryRow(bg, `SELECT count(*) FROM outbound_messages WHERE channel = 'telegram' AND status IN ('queued', 'sending')`).Scan(&left))
			if left == 0 {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%d replies never delivered", left)
			}
			time.Sleep(20 * time.Millisecond)
		}

		// What was stored: every reply sent, with the Telegram id of its last send.
		type row struct {
			id, conv, seq int64
			chat          int64
			status, ext   string
		}
		rs, err := q.Query(bg, `SELECT o.id, o.conversation_id, o.seq, c.chat_id, o.status, o.external_id
			FROM outbound_messages o JOIN conversations c ON c.id = o.conversation_id
			WHERE o.channel = 'telegram' ORDER BY o.conversation_id, o.seq`)
		mustNil(t, err)
		var rows []row
		for rs.Next() {
			var r row
			var chat string
			mustNil(t, rs.Scan(&r.id, &r.conv, &r.seq, &chat, &r.status, &r.ext))
			r.chat, err = strconv.ParseInt(chat, 10, 64)
			mustNil(t, err)
			rows = append(rows, r)
		}
		rs.Close()
		mustNil(t, rs.Err())

		recorded := map[[2]int64]int64{} // (chat, telegram message id) -> outbound id
		lastExt := map[int64]int64{}
		for _, r := range rows {
			if r.status != store.OutboundSent {
				t.Fatalf("reply %d ended %s", r.id, r.status)
			}
			ext, err := strconv.ParseInt(r.ext, 10, 64)
			if err != nil {
				t.Fatalf("reply %d: external id %q", r.id, r.ext)
			}
			// In order: each reply reached the patient after the one before it.
			if ext <= lastExt[r.conv] {
				t.Fatalf("conversation %d: reply %d (seq %d) reached Telegram before an earlier one", r.conv, r.id, r.seq)
			}
			lastExt[r.conv] = ext
			recorded[[2]int64{r.chat, ext}] = r.id
		}

		arrivals := api.all()
		cutChats := map[int64]bool{}
		sending := 0
		for _, c := range cut {
			if c.sending {
				cutChats[c.chat] = true
				sending++
			}
		}
		duplicates := 0
		for _, a := range arrivals {
			if _, ok := recorded[[2]int64{a.chat, a.msgID}]; ok {
				continue
			}
			// A send whose outcome was never recorded: the patient got it, and
			// got it again when it was re-sent.
			duplicates++
			if !cutChats[a.chat] {
				t.Errorf("chat %d got a duplicate although no send to it was cut off", a.chat)
			}
		}
		if len(arrivals) != len(rows)+duplicates {
			t.Fatalf("%d messages reached Telegram for %d replies and %d duplicates (a reply split in parts?)",
				len(arrivals), len(rows), duplicates)
		}
		if duplicates > sending {
			t.Errorf("%d duplicates for %d cut-off sends: a send went out twice more than once", duplicates, sending)
		}

		// How long after the kill each undelivered reply went out (order is
		// checked above): the cut-off sends, and all the replies.
		var resent, waited []time.Duration
		for _, c := range cut {
			o, err := q.GetOutbound(bg, c.outboundID)
			mustNil(t, err)
			ext, _ := strconv.ParseInt(o.ExternalID, 10, 64)
			i := slices.IndexFunc(arrivals, func(a arrival) bool { return a.chat == c.chat && a.msgID == ext })
			if i < 0 {
				t.Fatalf("reply %d, undelivered at the kill, never reached Telegram", c.outboundID)
			}
			w := arrivals[i].at.Sub(c.killedAt)
			waited = append(waited, w)
			if c.sending {
				resent = append(resent, w)
			}
		}
		slices.Sort(resent)
		slices.Sort(waited)
		perThousand := 1000 * float64(duplicates) / float64(len(rows))
		t.Logf("%s, kill -9 during delivery: %d replies, %d sends, %d duplicates (%.1f per 1,000), %d cut-off sends in %d kills, "+
			"re-sent %s after the kill (median %s, max %s); %d replies undelivered at the kill went out within %s (median %s); "+
			"restart took %s (latency %s)",
			t.Name(), len(rows), len(arrivals), duplicates, perThousand, sending, kills,
			durations(resent), median(resent), maxOf(resent), len(waited), maxOf(waited), median(waited),
			durations(restarts), latency)
		if len(waited) > 0 && slices.Max(waited) > retryBound/2 {
			// Slower than it should be: what the restarted server said.
			t.Logf("recovery jobs at the kill: %v", atKill)
			mu.Lock()
			for _, line := range strings.Split(current.log.String(), "\n") {
				if strings.Contains(line, "WARN") || strings.Contains(line, "ERROR") {
					t.Log(line)
				}
			}
			mu.Unlock()
		}
		if len(waited) > 0 && slices.Max(waited) > retryBound {
			t.Errorf("a reply undelivered at the kill waited %s, more than %s (cut-off sends: %s)",
				slices.Max(waited).Round(time.Millisecond), retryBound, durations(resent))
		}
	})
}

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(100 * time.Millisecond).String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)/2].Round(100 * time.Millisecond)
}

func maxOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds).Round(100 * time.Millisecond)
}
