package whatsapptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Webhook notifications, built as Meta sends them:
// {"object":"whatsapp_business_account","entry":[{"id":WABA,"changes":[{"field":"messages","value":{...}}]}]}.

// WABAID is the business account id the fake's notifications carry.
const WABAID = "102290129340398"

// Value is the "value" of one change: messages with their senders'
// contacts, or statuses.
type Value map[string]any

// Notification wraps values into one POST body, one change per value.
func (s *Server) Notification(values ...Value) []byte {
	changes := make([]map[string]any, len(values))
	for i, v := range values {
		if s.Clock != nil {
			// Meta stamps each message with when the patient wrote it.
			if msgs, ok := v["messages"].([]map[string]any); ok {
				for _, m := range msgs {
					m["timestamp"] = strconv.FormatInt(s.Clock().Unix(), 10)
				}
			}
		}
		v["messaging_product"] = "whatsapp"
		v["metadata"] = map[string]string{"display_phone_number": "15550783881", "phone_number_id": s.PhoneNumberID}
		changes[i] = map[string]any{"field": "messages", "value": v}
	}
	body, _ := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry":  []map[string]any{{"id": WABAID, "changes": changes}},
	})
	return body
}

// Inbound is a patient's message value with its contact.
func Inbound(from, name string, msgs ...map[string]any) Value {
	return Value{
		"contacts": []map[string]any{{"profile": map[string]string{"name": name}, "wa_id": from}},
		"messages": msgs,
	}
}

func base(from, id, typ string) map[string]any {
	return map[string]any{"from": from, "id": id, "timestamp": strconv.FormatInt(time.Now().Unix(), 10), "type": typ}
}

// Text is a text message.
func Text(from, id, body string) map[string]any {
	m := base(from, id, "text")
	m["text"] = map[string]string{"body": body}
	return m
}

// ButtonReply is a tap on a reply button (id is the button's id).
func ButtonReply(from, id, buttonID, title, contextID string) map[string]any {
	m := base(from, id, "interactive")
	m["context"] = map[string]string{"from": "15550783881", "id": contextID}
	m["interactive"] = map[string]any{"type": "button_reply", "button_reply": map[string]string{"id": buttonID, "title": title}}
	return m
}

// ListReply is a choice from a list message.
func ListReply(from, id, rowID, title, description, contextID string) map[string]any {
	m := base(from, id, "interactive")
	m["context"] = map[string]string{"from": "15550783881", "id": contextID}
	m["interactive"] = map[string]any{"type": "list_reply",
		"list_reply": map[string]string{"id": rowID, "title": title, "description": description}}
	return m
}

// Image is a photo without a caption, which the bot cannot read.
func Image(from, id string) map[string]any {
	m := base(from, id, "image")
	m["image"] = map[string]string{"mime_type": "image/jpeg", "sha256": "abc", "id": "1234"}
	return m
}

// Media is an image, video or document (typ) sent with a caption, as the
// Cloud API delivers it: {"type":"image","image":{"caption":...,"mime_type":...}}.
func Media(from, id, typ, caption string) map[string]any {
	m := base(from, id, typ)
	body := map[string]string{"caption": caption, "sha256": "abc", "id": "1234"}
	switch typ {
	case "image":
		body["mime_type"] = "image/jpeg"
	case "video":
		body["mime_type"] = "video/mp4"
	case "document":
		body["mime_type"], body["filename"] = "application/pdf", "results.pdf"
	}
	m[typ] = body
	return m
}

// Forwarded marks a message as forwarded, as the Cloud API does in its context.
func Forwarded(m map[string]any) map[string]any {
	m["context"] = map[string]any{"forwarded": true}
	return m
}

// Edit is a patient's edit of an earlier message to text (type "edit",
// delivered by Meta for numbers also used in the WhatsApp Business app).
func Edit(from, id, originalID, text string) map[string]any {
	m := base(from, id, "edit")
	m["edit"] = map[string]any{"original_message_id": originalID,
		"message": map[string]any{"context": map[string]string{"id": originalID}, "type": "text",
			"text": map[string]string{"body": text}}}
	return m
}

// Statuses is a status value.
func Statuses(st ...map[string]any) Value { return Value{"statuses": st} }

// Status is one status of a sent message; errCode adds an errors entry.
func Status(wamid, status, recipient string, at time.Time, errCode int) map[string]any {
	s := map[string]any{"id": wamid, "status": status, "timestamp": strconv.FormatInt(at.Unix(), 10),
		"recipient_id": recipient}
	if status != "failed" && status != "read" {
		s["conversation"] = map[string]any{"id": "c1", "origin": map[string]string{"type": "service"}}
		s["pricing"] = map[string]any{"billable": true, "pricing_model": "PMP", "category": "service"}
	}
	if errCode != 0 {
		s["errors"] = []map[string]any{{"code": errCode, "title": "Message undeliverable.",
			"message": "Message undeliverable.", "error_data": map[string]string{"details": "Message Undeliverable."}}}
	}
	return s
}

// Sign is the X-Hub-Signature-256 header for body: sha256=hex(HMAC-SHA256(app secret, body)).
func Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// PostWebhook posts body to url signed with appSecret, as Meta does, and
// returns the status code.
func PostWebhook(t testing.TB, client *http.Client, url, appSecret string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("webhook request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	if appSecret != "" {
		req.Header.Set("X-Hub-Signature-256", Sign(appSecret, body))
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0 // connection refused or reset: Meta would retry
	}
	resp.Body.Close()
	return resp.StatusCode
}
