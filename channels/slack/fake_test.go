package slack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// fakeSlack is slacktest's server with the Web API methods Tend uses
// answered the way Slack answers them, and recorded. chat.postMessage is
// overridden because slacktest's returns whole-second ts values, which
// collide when two messages are posted in one second; here each ts is a
// unique "sec.micro".
type fakeSlack struct {
	*slacktest.Server
	t *testing.T

	mu         sync.Mutex
	seq        int
	posts      []fakePost // chat.postMessage, in arrival order
	updates    []fakePost // chat.update
	ephemerals []fakeEphemeral
	users      map[string]string // user id -> first name
	attempts   map[string]int    // method -> calls, failed ones included
	// fail holds canned failures per method, used up in order.
	fail map[string][]fakeFailure
	down bool // every chat.* call answers 503

	socket fakeSocket
}

type fakePost struct {
	Channel  string
	TS       string
	ThreadTS string
	Text     string
	Blocks   string // the blocks JSON as sent
}

type fakeEphemeral struct {
	Via  string // "response_url" or "chat.postEphemeral"
	User string
	Text string
}

type fakeFailure struct {
	Status     int    // HTTP status (429, 500, ...) or 200 with SlackErr
	RetryAfter int    // seconds, for 429
	SlackErr   string // {"ok":false,"error":...}
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{t: t, users: map[string]string{}, attempts: map[string]int{}, fail: map[string][]fakeFailure{}}
	f.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.handle("chat.postMessage", f.postMessage))
		c.Handle("/chat.update", f.handle("chat.update", f.update))
		c.Handle("/chat.postEphemeral", f.handle("chat.postEphemeral", f.postEphemeral))
		c.Handle("/users.info", f.handle("users.info", f.usersInfo))
		c.Handle("/response/", f.handle("response_url", f.responseURL))
		c.Handle("/apps.connections.open", f.connectionsOpen)
		c.Handle("/socket", f.socketConn)
	})
	f.Start()
	t.Cleanup(f.Stop)
	return f
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// handle counts the call and applies canned failures before the method.
func (f *fakeSlack) handle(method string, next func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.attempts[method]++
		down := f.down && (strings.HasPrefix(method, "chat.") || method == "response_url")
		var fl *fakeFailure
		if q := f.fail[method]; len(q) > 0 && !down {
			fl = &q[0]
			f.fail[method] = q[1:]
		}
		f.mu.Unlock()
		switch {
		case down:
			http.Error(w, "<html>service unavailable</html>", http.StatusServiceUnavailable)
		case fl != nil && fl.Status == http.StatusTooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(fl.RetryAfter))
			w.WriteHeader(http.StatusTooManyRequests)
			writeJSON(w, map[string]any{"ok": false, "error": "ratelimited"})
		case fl != nil && fl.SlackErr != "":
			writeJSON(w, map[string]any{"ok": false, "error": fl.SlackErr})
		case fl != nil:
			w.WriteHeader(fl.Status)
		default:
			next(w, r)
		}
	}
}

func form(r *http.Request) url.Values {
	_ = r.ParseForm()
	return r.PostForm
}

func (f *fakeSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	v := form(r)
	if v.Get("channel") == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	f.mu.Lock()
	f.seq++
	ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), f.seq)
	f.posts = append(f.posts, fakePost{Channel: v.Get("channel"), TS: ts, ThreadTS: v.Get("thread_ts"),
		Text: v.Get("text"), Blocks: v.Get("blocks")})
	f.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "channel": v.Get("channel"), "ts": ts,
		"message": map[string]any{"type": "message", "text": v.Get("text"), "ts": ts, "thread_ts": v.Get("thread_ts")}})
}

func (f *fakeSlack) update(w http.ResponseWriter, r *http.Request) {
	v := form(r)
	f.mu.Lock()
	found := false
	for _, p := range f.posts {
		found = found || (p.TS == v.Get("ts") && p.Channel == v.Get("channel"))
	}
	if found {
		f.updates = append(f.updates, fakePost{Channel: v.Get("channel"), TS: v.Get("ts"), Text: v.Get("text"), Blocks: v.Get("blocks")})
	}
	f.mu.Unlock()
	if !found {
		writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": v.Get("channel"), "ts": v.Get("ts"), "text": v.Get("text")})
}

func (f *fakeSlack) postEphemeral(w http.ResponseWriter, r *http.Request) {
	v := form(r)
	f.mu.Lock()
	f.ephemerals = append(f.ephemerals, fakeEphemeral{Via: "chat.postEphemeral", User: v.Get("user"), Text: v.Get("text")})
	f.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "message_ts": fmt.Sprintf("%d.000000", time.Now().Unix())})
}

// responseURL records what Tend sends to an interaction's response_url;
// the user is the last path element (tests make one URL per press).
func (f *fakeSlack) responseURL(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Text         string `json:"text"`
		ResponseType string `json:"response_type"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &msg); err != nil || msg.ResponseType != "ephemeral" {
		f.t.Errorf("response_url got %q", body)
	}
	f.mu.Lock()
	f.ephemerals = append(f.ephemerals, fakeEphemeral{Via: "response_url", User: strings.TrimPrefix(r.URL.Path, "/response/"), Text: msg.Text})
	f.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}

func (f *fakeSlack) usersInfo(w http.ResponseWriter, r *http.Request) {
	id := form(r).Get("user")
	f.mu.Lock()
	name, ok := f.users[id]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": strings.ToLower(name),
		"real_name": name + " Staff", "profile": map[string]any{"first_name": name, "real_name": name + " Staff"}}})
}

func (f *fakeSlack) addUser(id, firstName string) {
	f.mu.Lock()
	f.users[id] = firstName
	f.mu.Unlock()
}

func (f *fakeSlack) failNext(method string, fl ...fakeFailure) {
	f.mu.Lock()
	f.fail[method] = append(f.fail[method], fl...)
	f.mu.Unlock()
}

func (f *fakeSlack) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeSlack) calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[method]
}

func (f *fakeSlack) allPosts() []fakePost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePost(nil), f.posts...)
}

func (f *fakeSlack) allUpdates() []fakePost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePost(nil), f.updates...)
}

func (f *fakeSlack) allEphemerals() []fakeEphemeral {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeEphemeral(nil), f.ephemerals...)
}

// roots are the top-level posts (handoff messages).
func (f *fakeSlack) roots() []fakePost {
	var out []fakePost
	for _, p := range f.allPosts() {
		if p.ThreadTS == "" {
			out = append(out, p)
		}
	}
	return out
}

// thread lists the posts in the thread under ts, in order.
func (f *fakeSlack) thread(ts string) []fakePost {
	var out []fakePost
	for _, p := range f.allPosts() {
		if p.ThreadTS == ts {
			out = append(out, p)
		}
	}
	return out
}

// lastRender is the latest rendering of the root message ts (its last
// update, or the post itself), as all its text joined.
func (f *fakeSlack) lastRender(ts string) string {
	ups := f.allUpdates()
	for i := len(ups) - 1; i >= 0; i-- {
		if ups[i].TS == ts {
			return ups[i].Text + "\n" + blockText(ups[i].Blocks)
		}
	}
	for _, p := range f.allPosts() {
		if p.TS == ts {
			return p.Text + "\n" + blockText(p.Blocks)
		}
	}
	return ""
}

// blockText collects every "text" string in a blocks JSON, plus button
// action ids as "[action_id]".
func blockText(blocks string) string {
	var v any
	if json.Unmarshal([]byte(blocks), &v) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if s, ok := t["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			if id, ok := t["action_id"].(string); ok {
				b.WriteString("[" + id + "]\n")
			}
			for k, v := range t {
				if k != "text" || !isString(v) {
					walk(v)
				}
			}
		case []any:
			for _, v := range t {
				walk(v)
			}
		}
	}
	walk(v)
	return b.String()
}

func isString(v any) bool { _, ok := v.(string); return ok }
