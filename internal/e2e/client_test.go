package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// patient is one web-chat session sending numbered messages and retrying
// each (same id) until the server acknowledges it, as the widget does.
type patient struct {
	session  string
	acked    int
	replyIDs map[int][]int64
}

var script = []map[string]string{
	{"text": "hello"},
	{"text": "Costs", "payload": "menu:topic:costs"},
	{"text": "Main menu", "payload": "menu:main"},
}

func newPatient(ctx context.Context, base func() string) (*patient, error) {
	for ctx.Err() == nil {
		resp, err := http.Post(base()+"/api/v1/web/sessions", "application/json", nil)
		if err == nil {
			var j struct{ Session string }
			err = json.NewDecoder(resp.Body).Decode(&j)
			resp.Body.Close()
			if err == nil && j.Session != "" {
				return &patient{session: j.Session, replyIDs: map[int][]int64{}}, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, ctx.Err()
}

// send delivers message i, retrying until acknowledged; retries counts the
// attempts that failed (server down, restarting).
func (p *patient) send(ctx context.Context, base string, i int, retries *atomic.Int64) error {
	m := script[i%len(script)]
	body, _ := json.Marshal(map[string]string{"session": p.session, "id": fmt.Sprintf("m%03d", i),
		"text": m["text"], "payload": m["payload"]})
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("message %d never acknowledged: %w", i, err)
		}
		resp, err := http.Post(base+"/api/v1/web/messages", "application/json", bytes.NewReader(body))
		if err == nil && resp.StatusCode == http.StatusOK {
			var r struct {
				Replies []struct{ ID int64 }
			}
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err != nil {
				return err
			}
			for _, x := range r.Replies {
				p.replyIDs[i] = append(p.replyIDs[i], x.ID)
			}
			p.acked = i + 1
			return nil
		}
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
				time.Sleep(time.Duration(wait) * time.Second)
				continue
			}
			if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode < 500 {
				return fmt.Errorf("message %d: status %d", i, resp.StatusCode)
			}
		}
		retries.Add(1)
		time.Sleep(25 * time.Millisecond)
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
