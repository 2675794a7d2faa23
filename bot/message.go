// Package bot is the engine: it turns a channel-agnostic inbound message into
// replies by way of the conversation's state, the safety and consent guards
// and the dialogs, and writes the new state, the replies and their delivery
// jobs in one transaction.
package bot

import (
	"encoding/json"
	"time"
)

// Inbound is one message from a patient, as every channel adapter reports it.
type Inbound struct {
	Channel   string // "web", "telegram", "whatsapp", "console", "cli"
	ChatID    string // the channel's conversation key
	SenderID  string // the channel's user id
	MessageID string // the channel's own message id; repeats are dropped
	Text      string
	Payload   string // a button's payload, when a button was pressed
	Locale    string // the patient's client language, if the channel says
	Time      time.Time
	// Meta carries channel facts the dialogs may use (a shared phone number,
	// the patient's display name, "unsupported" for a photo or sticker).
	Meta map[string]string
}

// Meta keys channels may set.
const (
	// MetaUnsupported is the kind of a message the bot cannot read (photo,
	// voice, ...). With no Text the patient is told the bot reads only
	// text; with Text (a photo's caption) the text is handled as a message,
	// with a note that the attachment was not seen.
	MetaUnsupported = "unsupported"
	// MetaEdited marks a patient's edit of a message already handled: the
	// guards (triage first) see the new text, nothing else answers it.
	MetaEdited    = "edited"
	MetaPhone     = "phone" // a phone number the channel vouches for (WhatsApp sender, Telegram shared contact)
	MetaFirstName = "first_name"
)

// Button is a choice the patient can tap.
type Button struct {
	Label   string `json:"label"`
	Payload string `json:"payload"`
}

// Link is a labelled URL.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Source names a knowledge-base passage a reply relies on.
type Source struct {
	Document string  `json:"document"`
	Title    string  `json:"title,omitempty"`
	Section  string  `json:"section"`
	Updated  string  `json:"updated,omitempty"`
	Score    float64 `json:"score"`
}

// Actions a reply can carry, as `tend ask --json` reports them.
const (
	ActionAnswer    = "answer"
	ActionAbstain   = "abstain"
	ActionEmergency = "emergency"
	ActionHandoff   = "handoff"
)

// Kinds of outgoing message; channels with rules about proactive messages
// (WhatsApp's 24-hour window) choose templates by kind.
const (
	KindReply    = ""         // an answer to the patient's message
	KindStaff    = "staff"    // relayed from a staff member
	KindReminder = "reminder" // appointment reminder
	KindSurvey   = "survey"   // survey invitation
	KindCampaign = "campaign" // outreach campaign
	KindNotice   = "notice"   // other proactive notice (handoff timeout, ...)
)

// Reply is one message to the patient. Channels render what they can:
// buttons as the channel's buttons or as numbered options.
type Reply struct {
	Text    string   `json:"text"`
	Buttons []Button `json:"buttons,omitempty"`
	Links   []Link   `json:"links,omitempty"`
	Kind    string   `json:"kind,omitempty"`
	// From names a staff sender ("Anna from Maple Grove"); empty for the bot.
	From string `json:"from,omitempty"`
	// Action, Sources and Confidence describe how the bot decided.
	Action     string   `json:"action,omitempty"`
	Sources    []Source `json:"sources,omitempty"`
	Confidence float64  `json:"confidence,omitempty"`
	// Template names the proactive-message template and its parameters, for
	// channels that require approved templates outside a service window.
	Template *Template `json:"template,omitempty"`
	// RequestContact asks the channel to offer a "share my phone number"
	// button where it has one (Telegram); the shared number arrives as
	// Inbound.Meta[MetaPhone].
	RequestContact bool `json:"request_contact,omitempty"`
}

// Template identifies an approved message template by purpose.
type Template struct {
	Purpose string   `json:"purpose"` // reminder, survey, campaign, notice
	Params  []string `json:"params,omitempty"`
}

// Sent is a reply as stored, with its place in the conversation.
type Sent struct {
	Reply
	ID        int64     `json:"id"`
	Seq       int64     `json:"seq"`
	CreatedAt time.Time `json:"created_at"`
}

// DecodeReply reads a stored reply body.
func DecodeReply(body []byte) (Reply, error) {
	var r Reply
	err := json.Unmarshal(body, &r)
	return r, err
}
