package slack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// webPatient drives the web chat's public API, as the widget does.
type webPatient struct {
	t       *testing.T
	srv     *httptest.Server
	session string
	n       int
}

type webLine struct {
	Role string `json:"role"`
	Text string `json:"text"`
	From string `json:"from"`
	Kind string `json:"kind"`
}

func newWebPatient(t *testing.T, h *harness) *webPatient {
	srv := httptest.NewServer(h.app.HTTP.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/api/v1/web/sessions", "application/json", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var s struct{ Session string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return &webPatient{t: t, srv: srv, session: s.Session}
}

// say sends a message and returns the replies' texts.
func (p *webPatient) say(text string) []string {
	p.n++
	body, _ := json.Marshal(map[string]string{"session": p.session, "id": "m" + strconv.Itoa(p.n), "text": text, "locale": "en-US"})
	resp, err := http.Post(p.srv.URL+"/api/v1/web/messages", "application/json", strings.NewReader(string(body)))
	require.NoError(p.t, err)
	defer resp.Body.Close()
	require.Equal(p.t, http.StatusOK, resp.StatusCode)
	var out struct{ Replies []webLine }
	require.NoError(p.t, json.NewDecoder(resp.Body).Decode(&out))
	var texts []string
	for _, r := range out.Replies {
		texts = append(texts, r.Text)
	}
	return texts
}

// transcript is the conversation as the widget restores it.
func (p *webPatient) transcript() []webLine {
	req, err := http.NewRequest(http.MethodGet, p.srv.URL+"/api/v1/web/messages", nil)
	require.NoError(p.t, err)
	req.Header.Set("Authorization", "Bearer "+p.session)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	var out struct{ Messages []webLine }
	require.NoError(p.t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Messages
}

func (p *webPatient) sees(h *harness, want string) webLine {
	var got webLine
	h.eventually("web patient sees "+want, func() bool {
		for _, l := range p.transcript() {
			if l.Role == "bot" && strings.Contains(l.Text, want) {
				got = l
				return true
			}
		}
		return false
	})
	return got
}

// The whole round trip: a patient on the web chat asks for a person, staff
// take over in Slack and reply in the thread, the patient answers, staff
// return the conversation and the bot answers again.
func TestEndToEndWebChatToSlack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		p := newWebPatient(t, h)

		require.NotEmpty(t, p.say("Hello"))
		reply := p.say("I'd like to talk to a real person")
		require.Len(t, reply, 1)
		require.Contains(t, reply[0], "I've asked our team to join. Someone will reply here, usually within 15 minutes.")

		h.eventually("handoff posted in Slack", func() bool { return len(h.slack.roots()) == 1 })
		root := h.slack.roots()[0]
		require.Equal(t, testChannel, root.Channel)
		r := h.slack.lastRender(root.TS)
		require.Contains(t, r, "> Hello")
		require.Contains(t, r, "> I'd like to talk to a real person")

		var handoffID int64
		h.eventually("thread recorded", func() bool {
			return db.Q().QueryRow(t.Context(), `SELECT handoff_id FROM slack_threads WHERE ts = $1`, root.TS).Scan(&handoffID) == nil
		})
		h.press("UANNA", "Anna", actionTake, handoffID, root.TS)
		p.sees(h, "Anna from "+clinicName+" has joined the conversation.")

		h.staffReply("UANNA", "Hi, this is Anna. How can I help?", root.TS)
		staff := p.sees(h, "Hi, this is Anna. How can I help?")
		require.Equal(t, "Anna from "+clinicName, staff.From)
		require.Equal(t, "staff", staff.Kind)

		require.Empty(t, p.say("I need to move my appointment"), "staff have it; the bot is quiet")
		h.threadHas(root.TS, "*Patient:*\n> I need to move my appointment")

		h.press("UANNA", "Anna", actionReturn, handoffID, root.TS)
		p.sees(h, "You're back with the assistant")
		h.threadHas(root.TS, "Anna returned the conversation to the assistant")

		require.NotEmpty(t, p.say("hi"), "the bot answers again")
	})
}
