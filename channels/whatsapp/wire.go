package whatsapp

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Webhook wire format (Cloud API "messages" field). Only what Tend reads is
// declared; unknown fields are ignored by encoding/json, unknown message
// types and statuses are reported as such and skipped.

type webhookBody struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID      string   `json:"id"`
	Changes []change `json:"changes"`
}

type change struct {
	Field string `json:"field"`
	Value value  `json:"value"`
}

// value holds its messages and statuses undecoded: each is read on its
// own, so that one Tend cannot read is skipped instead of failing the
// notification (which Meta would deliver again and again, with the rest).
type value struct {
	MessagingProduct string            `json:"messaging_product"`
	Metadata         metadata          `json:"metadata"`
	Contacts         []contact         `json:"contacts"`
	Messages         []json.RawMessage `json:"messages"`
	Statuses         []json.RawMessage `json:"statuses"`
}

type metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type contact struct {
	WaID    string `json:"wa_id"`
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
}

type message struct {
	From        string       `json:"from"`
	ID          string       `json:"id"`
	Timestamp   string       `json:"timestamp"`
	Type        string       `json:"type"`
	Text        *textBody    `json:"text,omitempty"`
	Interactive *interactive `json:"interactive,omitempty"`
	Button      *tplButton   `json:"button,omitempty"`
	// Media the bot cannot see; image, video and document may carry a
	// caption, the words the patient sent with them.
	Image    *media `json:"image,omitempty"`
	Video    *media `json:"video,omitempty"`
	Document *media `json:"document,omitempty"`
	// Edit is a patient's edit of an earlier message (type "edit"; Meta
	// sends it only for numbers also used in the WhatsApp Business app).
	Edit *editBody `json:"edit,omitempty"`
}

type media struct {
	Caption string `json:"caption"`
}

type editBody struct {
	OriginalMessageID string   `json:"original_message_id"`
	Message           *message `json:"message"`
}

// caption is the words sent with an image, video or document ("" for other
// types and for media sent without words).
func (m *message) caption() string {
	var md *media
	switch m.Type {
	case "image":
		md = m.Image
	case "video":
		md = m.Video
	case "document":
		md = m.Document
	}
	if md == nil {
		return ""
	}
	return md.Caption
}

// decodeMessage reads one message of a notification. When it cannot, the
// id is still returned if it is readable, to record the rejection under.
func decodeMessage(raw json.RawMessage) (message, string, error) {
	var m message
	err := json.Unmarshal(raw, &m)
	if err == nil {
		return m, m.ID, nil
	}
	var loose struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &loose)
	return message{}, loose.ID, err
}

type textBody struct {
	Body string `json:"body"`
}

type interactive struct {
	Type        string       `json:"type"`
	ButtonReply *replyChoice `json:"button_reply,omitempty"`
	ListReply   *replyChoice `json:"list_reply,omitempty"`
}

type replyChoice struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// tplButton is a tap on a template's quick-reply button.
type tplButton struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

type status struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	Timestamp   string     `json:"timestamp"`
	RecipientID string     `json:"recipient_id"`
	Errors      []apiError `json:"errors"`
}

// apiError is one entry of a status's or a message's errors.
type apiError struct {
	Code    int    `json:"code"`
	Title   string `json:"title"`
	Message string `json:"message"`
}

// errBadJSON marks a body that is not a webhook document at all.
var errBadJSON = errors.New("whatsapp: malformed webhook JSON")

// decodeWebhook parses a webhook body. It rejects what is not JSON or not an
// object; everything else (other objects, fields, types) is the caller's to
// skip.
func decodeWebhook(raw []byte) (webhookBody, error) {
	var b webhookBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return webhookBody{}, errors.Join(errBadJSON, err)
	}
	return b, nil
}

// unixTime reads WhatsApp's "unix seconds as a string" timestamps; a missing
// or odd value gives the zero time (the engine then uses its clock).
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
