package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Wire structs: only the fields Tend reads. tgbotapi's own Update type is
// not used for decoding because it dates from 2021: one field Telegram has
// changed since would make the whole getUpdates batch undecodable, and the
// poller would be stuck on it.

type wireUser struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LanguageCode string `json:"language_code"`
}

type wireChat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"` // private, group, supergroup, channel
}

type wireContact struct {
	PhoneNumber string `json:"phone_number"`
	UserID      int64  `json:"user_id"`
}

type wireButton struct {
	Text         string  `json:"text"`
	CallbackData *string `json:"callback_data"`
}

type wireMarkup struct {
	InlineKeyboard [][]wireButton `json:"inline_keyboard"`
}

type wireMessage struct {
	MessageID int64     `json:"message_id"`
	From      *wireUser `json:"from"`
	Chat      wireChat  `json:"chat"`
	Date      int64     `json:"date"`
	Text      string    `json:"text"`
	// Caption is the text sent with a photo, video, animation, document,
	// audio or voice note.
	Caption     string       `json:"caption"`
	EditDate    int64        `json:"edit_date"` // set in edited_message
	Contact     *wireContact `json:"contact"`
	ReplyMarkup *wireMarkup  `json:"reply_markup"`
	// Kinds of message the bot cannot read; only their presence matters.
	Photo     json.RawMessage `json:"photo"`
	Voice     json.RawMessage `json:"voice"`
	Video     json.RawMessage `json:"video"`
	VideoNote json.RawMessage `json:"video_note"`
	Sticker   json.RawMessage `json:"sticker"`
	Document  json.RawMessage `json:"document"`
	Audio     json.RawMessage `json:"audio"`
	Animation json.RawMessage `json:"animation"`
	Location  json.RawMessage `json:"location"`
	Venue     json.RawMessage `json:"venue"`
	Poll      json.RawMessage `json:"poll"`
	Dice      json.RawMessage `json:"dice"`
	Story     json.RawMessage `json:"story"`
}

type wireCallback struct {
	ID      string       `json:"id"`
	From    wireUser     `json:"from"`
	Message *wireMessage `json:"message"`
	Data    string       `json:"data"`
}

// update is one Telegram update as decoded: its id, what kind it is (the
// name of its one field besides update_id) and the parts Tend reads.
type update struct {
	ID       int64
	Kind     string
	Message  *wireMessage
	Callback *wireCallback
}

// errMalformed marks an update that is not a JSON object with an
// update_id; errBadContent one whose id is known but whose body is not
// what Telegram documents.
var (
	errMalformed  = errors.New("telegram: malformed update")
	errBadContent = errors.New("telegram: unreadable update content")
)

// updateKinds are the update fields the Bot API documents; other names are
// counted as "other" so metric labels stay few.
var updateKinds = map[string]bool{
	"message": true, "edited_message": true, "channel_post": true, "edited_channel_post": true,
	"business_connection": true, "business_message": true, "edited_business_message": true,
	"deleted_business_messages": true, "message_reaction": true, "message_reaction_count": true,
	"inline_query": true, "chosen_inline_result": true, "callback_query": true, "shipping_query": true,
	"pre_checkout_query": true, "purchased_paid_media": true, "poll": true, "poll_answer": true,
	"my_chat_member": true, "chat_member": true, "chat_join_request": true, "chat_boost": true,
	"removed_chat_boost": true,
}

// decodeUpdate reads one update. With errBadContent the id is still set,
// so the caller can step past the update instead of stalling on it.
func decodeUpdate(raw []byte) (update, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return update{}, errMalformed
	}
	idRaw, ok := fields["update_id"]
	var id int64
	if !ok || json.Unmarshal(idRaw, &id) != nil || id < 0 {
		return update{}, fmt.Errorf("%w: no valid update_id", errMalformed)
	}
	u := update{ID: id, Kind: kindOf(fields)}
	var err error
	switch u.Kind {
	case "message", "edited_message":
		err = decodeField(fields[u.Kind], &u.Message)
	case "callback_query":
		err = decodeField(fields[u.Kind], &u.Callback)
		if err == nil && u.Callback != nil && u.Callback.ID == "" {
			err = errors.New("callback query without id")
		}
	}
	if err != nil {
		u.Message, u.Callback = nil, nil
		return u, fmt.Errorf("%w: %s: %v", errBadContent, u.Kind, err)
	}
	return u, nil
}

func decodeField[T any](raw json.RawMessage, dst **T) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return err
	}
	if *dst == nil {
		return errors.New("null")
	}
	return nil
}

// kindOf names the update's content field; an update has exactly one, but
// a known name wins over an unknown one if a sender sent several.
func kindOf(fields map[string]json.RawMessage) string {
	var names []string
	for k := range fields {
		if k == "update_id" {
			continue
		}
		if updateKinds[k] {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		if len(fields) > 1 {
			return "other"
		}
		return "empty"
	}
	sort.Strings(names)
	for _, preferred := range []string{"message", "callback_query"} {
		for _, n := range names {
			if n == preferred {
				return n
			}
		}
	}
	return names[0]
}

// present reports whether an optional JSON field was sent with a value.
func present(v json.RawMessage) bool { return len(v) > 0 && string(v) != "null" }

// unsupportedKind names what a message carries instead of text, if anything.
func (m *wireMessage) unsupportedKind() string {
	for _, k := range []struct {
		name string
		v    json.RawMessage
	}{
		{"photo", m.Photo}, {"voice", m.Voice}, {"video", m.Video}, {"video_note", m.VideoNote},
		{"sticker", m.Sticker}, {"document", m.Document}, {"audio", m.Audio}, {"animation", m.Animation},
		{"location", m.Location}, {"venue", m.Venue}, {"poll", m.Poll}, {"dice", m.Dice}, {"story", m.Story},
	} {
		if present(k.v) {
			return k.name
		}
	}
	return ""
}

// buttonLabel finds the label of the inline button with this callback data.
func (m *wireMessage) buttonLabel(data string) string {
	if m == nil || m.ReplyMarkup == nil {
		return ""
	}
	for _, row := range m.ReplyMarkup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != nil && *b.CallbackData == data {
				return b.Text
			}
		}
	}
	return ""
}
