package admin

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
)

// item is one handoff request or emergency flag in the inbox.
type item struct {
	ID             int64      `json:"id"`
	ConversationID int64      `json:"conversation_id"`
	Reason         string     `json:"reason"`
	Status         string     `json:"status"`
	Urgent         bool       `json:"urgent"`
	Owner          string     `json:"owner,omitempty"`
	OwnerName      string     `json:"owner_name,omitempty"`
	Channel        string     `json:"channel"`
	Lang           string     `json:"lang"`
	Verified       bool       `json:"verified"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	LastPatientAt  *time.Time `json:"last_patient_at,omitempty"`
}

// inboxStatuses are what needs a person: waiting, taken, and staff alerts.
var inboxStatuses = []string{handoff.StatusOpen, handoff.StatusTaken, handoff.StatusAlert}

// inbox lists open, taken and alert handoffs: urgent (emergencies) first,
// then the newest.
func (m *Module) inbox(ctx context.Context) ([]item, error) {
	q := m.h.DB.Q()
	var out []item
	for _, st := range inboxStatuses {
		hs, err := handoff.List(ctx, q, st, 500)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			it, err := m.itemOf(ctx, q, h)
			if errors.Is(err, store.ErrNotFound) {
				continue // its conversation was erased
			}
			if err != nil {
				return nil, err
			}
			out = append(out, it)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Urgent != out[j].Urgent {
			return out[i].Urgent
		}
		return out[i].CreatedAt.After(out[j].CreatedAt)
	})
	if out == nil {
		out = []item{}
	}
	return out, nil
}

func (m *Module) itemOf(ctx context.Context, q store.Q, h handoff.Handoff) (item, error) {
	c, err := q.GetConversation(ctx, h.ConversationID)
	if err != nil {
		return item{}, err
	}
	return item{ID: h.ID, ConversationID: h.ConversationID, Reason: h.Reason, Status: h.Status, Urgent: h.Urgent,
		Owner: h.Owner, OwnerName: h.OwnerName, Channel: c.Channel, Lang: c.Lang, Verified: c.PatientID != nil,
		CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt, LastPatientAt: c.LastInboundAt}, nil
}

// line is one message of a transcript.
type line struct {
	Role string    `json:"role"` // patient, bot, staff
	From string    `json:"from,omitempty"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// transcriptLines is how much of a conversation the console shows.
const transcriptLines = 100

func transcript(ctx context.Context, q store.Q, c store.Conversation) ([]line, error) {
	in, err := q.RecentInbound(ctx, c.ID, transcriptLines)
	if err != nil {
		return nil, err
	}
	out, err := q.OutboundAfter(ctx, c.ID, max(c.NextOutSeq-transcriptLines, 0), transcriptLines)
	if err != nil {
		return nil, err
	}
	var lines []line
	for _, msg := range in {
		text := msg.Text
		if text == "" && msg.Payload != "" {
			text = "[button] " + msg.Payload
		}
		lines = append(lines, line{Role: handoff.RolePatient, Text: text, At: msg.ReceivedAt})
	}
	for _, o := range out {
		r, err := bot.DecodeReply(o.Body)
		if err != nil {
			continue
		}
		role := handoff.RoleBot
		if r.Kind == bot.KindStaff {
			role = handoff.RoleStaff
		}
		lines = append(lines, line{Role: role, From: r.From, Text: r.Text, At: o.CreatedAt})
	}
	// Replies are stored after the message they answer; the stable sort
	// keeps that order at equal times.
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].At.Before(lines[j].At) })
	if lines == nil {
		lines = []line{}
	}
	return lines, nil
}

// card is a verified patient's details, for the conversation page.
type card struct {
	PatientID int64  `json:"id"`
	Record    string `json:"record"`
	Name      string `json:"name"`
	BirthDate string `json:"birth_date"`
	Phone     string `json:"phone,omitempty"`
}

// detail is a handoff with its conversation, for the page and the API.
type detail struct {
	Item      item   `json:"handoff"`
	Lines     []line `json:"transcript"`
	Card      *card  `json:"patient,omitempty"`
	Mine      bool   `json:"mine"`
	FlaggedAt *time.Time
	around
}

// load reads a handoff, its transcript and, for a verified patient, the
// card; opening a card is an audited access of the patient's data.
func (m *Module) load(ctx context.Context, r *http.Request, id int64, withCard bool) (detail, error) {
	q := m.h.DB.Q()
	h, err := handoff.Get(ctx, q, id)
	if err != nil {
		return detail{}, err
	}
	c, err := q.GetConversation(ctx, h.ConversationID)
	if err != nil {
		return detail{}, err
	}
	it, err := m.itemOf(ctx, q, h)
	if err != nil {
		return detail{}, err
	}
	lines, err := transcript(ctx, q, c)
	if err != nil {
		return detail{}, err
	}
	me, _ := staffActor(principal(r))
	d := detail{Item: it, Lines: lines, Mine: h.Owner == me, FlaggedAt: c.FlaggedAt}
	if withCard && c.PatientID != nil {
		if d.Card, err = m.cardOf(ctx, q, *c.PatientID, map[string]any{"handoff": h.ID}); err != nil {
			return detail{}, err
		}
	}
	if d.around, err = m.aroundOf(ctx, q, c, d.Card != nil); err != nil {
		return detail{}, err
	}
	return d, nil
}

// act runs a staff action through the handoff machine (the same one Slack
// drives), in one transaction with the conversation locked.
func (m *Module) act(ctx context.Context, r *http.Request, id int64, action, text string) (handoff.Outcome, error) {
	aid, name := staffActor(principal(r))
	a := handoff.Actor{ID: aid, Name: name}
	var out handoff.Outcome
	err := m.h.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		switch action {
		case "take":
			out, err = m.machine.Take(ctx, tx, id, a)
		case "reply":
			out, err = m.machine.Reply(ctx, tx, id, a, text, "console")
		case "return":
			out, err = m.machine.Return(ctx, tx, id, a)
		case "resolve":
			out, err = m.machine.Resolve(ctx, tx, id, a)
		default:
			err = errUnknownAction
		}
		return err
	})
	return out, err
}

var errUnknownAction = errors.New("unknown action: take, reply, return or resolve")

// resultText tells staff what an action did.
var resultText = map[handoff.Result]string{
	handoff.Done:            "Done.",
	handoff.TakenByOther:    "Someone else has already taken this conversation.",
	handoff.AlreadyYours:    "You already have this conversation.",
	handoff.AlreadyResolved: "This request is already resolved.",
	handoff.AlreadyReturned: "This conversation is already back with the assistant.",
	handoff.Gone:            "This conversation no longer exists.",
	handoff.NotOwner:        "Only the person who took the conversation can reply; take it first.",
	handoff.NotTaken:        "Take the conversation before replying.",
	handoff.Busy:            "The conversation has another open request.",
}

// — API —

func (m *Module) apiHandoffs(w http.ResponseWriter, r *http.Request) {
	items, err := m.inbox(r.Context())
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: inbox", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list handoffs")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, items)
}

func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (m *Module) apiHandoff(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		httpserver.WriteError(w, http.StatusBadRequest, "id: a positive number")
		return
	}
	d, err := m.load(r.Context(), r, id, r.URL.Query().Get("card") == "1")
	if errors.Is(err, store.ErrNotFound) {
		httpserver.WriteError(w, http.StatusNotFound, "no such handoff")
		return
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: handoff", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the handoff")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, d)
}

func (m *Module) apiHandoffAction(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		httpserver.WriteError(w, http.StatusBadRequest, "id: a positive number")
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	action := r.PathValue("action")
	if action == "reply" {
		if !httpserver.DecodeJSON(w, r, &body, httpserver.JSONOptions{MaxBytes: 16 << 10, KnownFieldsOnly: true}) {
			return
		}
		if body.Text = strings.TrimSpace(body.Text); body.Text == "" || len([]rune(body.Text)) > 2000 {
			httpserver.WriteError(w, http.StatusBadRequest, "text: 1 to 2000 characters")
			return
		}
	}
	out, err := m.act(r.Context(), r, id, action, body.Text)
	if errors.Is(err, errUnknownAction) {
		httpserver.WriteError(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: handoff action", "action", action, "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "the action could not be done; try again")
		return
	}
	status := http.StatusOK
	if out.Result != handoff.Done {
		status = http.StatusConflict
	}
	httpserver.WriteJSON(w, status, map[string]any{"result": out.Result, "message": resultText[out.Result], "status": out.Handoff.Status})
}

// — pages —

func (m *Module) inboxPage(w http.ResponseWriter, r *http.Request) {
	items, err := m.inbox(r.Context())
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: inbox", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list handoffs")
		return
	}
	flags, err := m.flags(r.Context())
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: flags", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list emergency flags")
		return
	}
	m.render(w, r, "inbox", page{Title: "Inbox", Data: inboxData{Items: items, Flags: flags, Days: flagDays}})
}

type inboxData struct {
	Items []item
	Flags []flag
	Days  int
}

type conversationData struct {
	detail
	Flash string
}

func (m *Module) conversationPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	d, err := m.load(r.Context(), r, id, r.URL.Query().Get("card") == "1")
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: conversation", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the conversation")
		return
	}
	m.render(w, r, "conversation", page{Title: "Conversation", Data: conversationData{detail: d, Flash: r.URL.Query().Get("flash")}})
}

func (m *Module) handoffForm(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	action := r.PathValue("action")
	msg := ""
	if action == "reply" && (text == "" || len([]rune(text)) > 2000) {
		msg = "Write a reply of 1 to 2000 characters."
	} else {
		out, err := m.act(r.Context(), r, id, action, text)
		switch {
		case errors.Is(err, errUnknownAction):
			http.NotFound(w, r)
			return
		case err != nil:
			m.log.ErrorContext(r.Context(), "console: handoff action", "action", action, "error", err)
			msg = "The action could not be done; try again."
		default:
			msg = resultText[out.Result]
			if action == "reply" && out.Result == handoff.Done {
				msg = "Reply sent."
			}
		}
	}
	http.Redirect(w, r, "/admin/inbox/"+strconv.FormatInt(id, 10)+"?flash="+urlQuery(msg), http.StatusSeeOther)
}
