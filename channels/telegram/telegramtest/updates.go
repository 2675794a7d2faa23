package telegramtest

import (
	"encoding/json"
	"strconv"
	"time"
)

// User is a patient on Telegram. A private chat's id is the user's id.
type User struct {
	ID           int64
	FirstName    string
	LanguageCode string
}

func (u User) object() map[string]any {
	o := map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName}
	if u.LanguageCode != "" {
		o["language_code"] = u.LanguageCode
	}
	return o
}

// Update is the JSON of one update, as Telegram posts it to a webhook.
func Update(id int64, kind string, content any) []byte {
	b, err := json.Marshal(map[string]any{"update_id": id, kind: content})
	if err != nil {
		panic(err)
	}
	return b
}

// NextUpdateID reserves an update id (for webhook bodies built by hand).
func (s *Server) NextUpdateID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdate++
	return s.nextUpdate
}

// Message builds a message object from u in its private chat, with fields
// such as "text", "photo" or "contact" merged in.
func (s *Server) Message(u User, fields map[string]any) map[string]any {
	s.mu.Lock()
	s.nextMsgID[u.ID]++
	id := s.nextMsgID[u.ID]
	s.mu.Unlock()
	m := map[string]any{
		"message_id": id,
		"from":       u.object(),
		"chat":       map[string]any{"id": u.ID, "first_name": u.FirstName, "type": "private"},
		"date":       time.Now().Unix(),
	}
	for k, v := range fields {
		m[k] = v
	}
	return m
}

// Callback builds a callback query: u pressed the button labelled label
// under the bot's message m. The query id is known to answerCallbackQuery.
// With no such label the query carries data anyway (an old client).
func (s *Server) Callback(u User, m Message, label string) (map[string]any, string) {
	data := ""
	if m.Markup != nil {
		for _, row := range m.Markup.InlineKeyboard {
			for _, b := range row {
				if b.Text == label && b.CallbackData != nil {
					data = *b.CallbackData
				}
			}
		}
	}
	return s.CallbackData(u, m, data)
}

// CallbackData builds a callback query carrying data, from a press under m.
func (s *Server) CallbackData(u User, m Message, data string) (map[string]any, string) {
	s.mu.Lock()
	s.nextCB++
	id := strconv.FormatInt(u.ID, 10) + "-" + strconv.Itoa(s.nextCB)
	s.callbacks[id] = true
	s.mu.Unlock()
	cb := map[string]any{"id": id, "from": u.object(), "chat_instance": "ci-" + strconv.FormatInt(u.ID, 10), "data": data}
	if m.JSON != nil {
		cb["message"] = m.JSON
	}
	return cb, id
}

// Push queues an update with one content field (kind) and returns its id.
func (s *Server) Push(kind string, content any) int64 {
	id := s.NextUpdateID()
	s.mu.Lock()
	u := pendingUpdate{id: id, raw: Update(id, kind, content)}
	s.updates = append(s.updates, u)
	s.history = append(s.history, u)
	s.wakeLocked()
	s.mu.Unlock()
	return id
}

// PushRaw queues a raw update body under a fresh id (the body's own
// update_id is the caller's business: malformed updates are the point).
func (s *Server) PushRaw(raw []byte) int64 {
	id := s.NextUpdateID()
	s.mu.Lock()
	s.updates = append(s.updates, pendingUpdate{id: id, raw: raw})
	s.history = append(s.history, pendingUpdate{id: id, raw: raw})
	s.wakeLocked()
	s.mu.Unlock()
	return id
}

// PushText queues a text message from u.
func (s *Server) PushText(u User, text string) int64 {
	return s.Push("message", s.Message(u, map[string]any{"text": text}))
}

// Press queues a callback query for the button labelled label under m and
// returns the update id and the query id.
func (s *Server) Press(u User, m Message, label string) (int64, string) {
	cb, id := s.Callback(u, m, label)
	return s.Push("callback_query", cb), id
}

// PushBuilt queues an update whose body build writes for the id it is
// given: raw bytes that json.Marshal would not produce (invalid UTF-8,
// lone surrogates) are the point.
func (s *Server) PushBuilt(build func(id int64) []byte) int64 {
	id := s.NextUpdateID()
	raw := build(id)
	s.mu.Lock()
	u := pendingUpdate{id: id, raw: raw}
	s.updates = append(s.updates, u)
	s.history = append(s.history, u)
	s.wakeLocked()
	s.mu.Unlock()
	return id
}
