package slack

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// fakeSocket is Slack's Socket Mode side: apps.connections.open hands out a
// WebSocket URL; the connection says hello, pings, delivers envelopes and
// records the client's acknowledgements.
type fakeSocket struct {
	mu    sync.Mutex
	opens int
	conns int
	acks  []string
	send  chan []byte
	kick  chan struct{}
}

func (f *fakeSlack) sock() *fakeSocket {
	f.socket.mu.Lock()
	defer f.socket.mu.Unlock()
	if f.socket.send == nil {
		f.socket.send = make(chan []byte, 16)
		f.socket.kick = make(chan struct{}, 1)
	}
	return &f.socket
}

func (f *fakeSlack) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer xapp-1-A1-test" {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	s := f.sock()
	s.mu.Lock()
	s.opens++
	s.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "url": "ws://" + f.ServerAddr + "/socket"})
}

func (f *fakeSlack) socketConn(w http.ResponseWriter, r *http.Request) {
	s := f.sock()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
	if err := c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A1"}, "debug_info": map[string]any{"host": "fake"}}); err != nil {
		return
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for {
			var ack struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if err := c.ReadJSON(&ack); err != nil {
				return
			}
			s.mu.Lock()
			s.acks = append(s.acks, ack.EnvelopeID)
			s.mu.Unlock()
		}
	}()
	ping := time.NewTicker(100 * time.Millisecond)
	defer ping.Stop()
	for {
		select {
		case <-closed:
			return
		case <-s.kick:
			return
		case <-r.Context().Done():
			return
		case <-ping.C:
			if err := c.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
				return
			}
		case env := <-s.send:
			if err := c.WriteMessage(websocket.TextMessage, env); err != nil {
				return
			}
		}
	}
}

// envelope wraps a payload the way Socket Mode delivers it.
func envelope(id, typ string, payload []byte, retry int) []byte {
	b, _ := json.Marshal(map[string]any{"envelope_id": id, "type": typ, "payload": json.RawMessage(payload),
		"accepts_response_payload": false, "retry_attempt": retry, "retry_reason": ""})
	return b
}

func (s *fakeSocket) acked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.acks {
		if a == id {
			return true
		}
	}
	return false
}

func (s *fakeSocket) counts() (opens, conns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens, s.conns
}
