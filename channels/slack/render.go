package slack

import (
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/tend-health/tend/internal/handoff"
)

// Action ids of the handoff message's buttons; each button's value is the
// handoff id.
const (
	actionTake    = "handoff_take"
	actionReturn  = "handoff_return"
	actionResolve = "handoff_resolve"
	actionContact = "handoff_contact"
)

// sectionLimit keeps a section under Slack's 3,000-character text limit.
const sectionLimit = 2900

// t renders a staff-facing catalog message.
func (m *Module) t(id string, data map[string]any) string {
	return m.a.Catalog.Text(m.opts.StaffLang, id, data)
}

// clock renders a time in the clinic's zone.
func (m *Module) clock(t time.Time) string {
	loc := time.UTC
	if m.a.Clinic != nil && m.a.Clinic.Location() != nil {
		loc = m.a.Clinic.Location()
	}
	return t.In(loc).Format(m.t("slack.time_layout", nil))
}

// wait renders a waiting time: "15 min", "1 h 5 min".
func (m *Module) wait(d time.Duration) string {
	mins := int(d.Round(time.Minute) / time.Minute)
	if mins < 60 {
		return m.t("slack.wait.min", map[string]any{"M": mins})
	}
	return m.t("slack.wait.hmin", map[string]any{"H": mins / 60, "M": mins % 60})
}

func (m *Module) channelName(ch string) string {
	if m.a.Catalog.Has(m.opts.StaffLang, "slack.channel."+ch) || m.a.Catalog.Has("en", "slack.channel."+ch) {
		return m.t("slack.channel."+ch, nil)
	}
	return ch
}

func mrkdwn(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, false)
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, false, false)
}

// renderRoot is the handoff message in its current state: what happened,
// who the patient is (as far as verified), the summary, the transcript, who
// has it now, and the buttons that state allows. text is the notification
// fallback.
func (m *Module) renderRoot(h handoff.Handoff, r root) (string, []slackgo.Block) {
	s := r.Snapshot
	if s == nil {
		s = &handoff.Snapshot{OpenedAt: h.CreatedAt}
	}
	title := m.t("slack.reason."+reasonKey(h.Reason), nil)
	if r.Alert {
		title = m.t("slack.alert.title", nil)
	}
	head := "*" + title + "*"
	if h.Urgent {
		head = ":rotating_light: *" + m.t("slack.urgent", nil) + "* " + head
		if m.mention != "" {
			head = m.mention + " " + head
		}
	}
	text := title + " (" + m.channelName(s.Channel) + ")"
	if h.Urgent {
		text = strings.TrimSpace(m.mention + " " + m.t("slack.urgent", nil) + ": " + text)
	}
	blocks := []slackgo.Block{slackgo.NewSectionBlock(mrkdwn(head), m.fields(h, s), nil)}
	if s.Summary != "" {
		blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn("*"+m.t("slack.summary", nil)+"*\n"+escape(s.Summary)), nil, nil))
	}
	if len(s.Answers) > 0 {
		var b strings.Builder
		b.WriteString("*" + m.t("slack.answers", nil) + "*")
		for _, a := range s.Answers {
			b.WriteString("\n• " + escape(a.Question) + ": *" + escape(a.Answer) + "*")
		}
		blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(clipRunes(b.String(), sectionLimit)), nil, nil))
	}
	blocks = append(blocks, m.transcript(s.Lines)...)
	blocks = append(blocks, slackgo.NewContextBlock("status", mrkdwn(m.status(h, r))))
	if buttons := m.buttons(h); len(buttons) > 0 {
		blocks = append(blocks, slackgo.NewActionBlock("handoff", buttons...))
	}
	return text, blocks
}

func reasonKey(r string) string {
	switch r {
	case handoff.ReasonAsked, handoff.ReasonUnanswered, handoff.ReasonEmergency, handoff.ReasonSurvey:
		return r
	}
	return "other"
}

// fields say who and where. A verified patient's card is shown when the
// registry provides one; otherwise only the first name the channel gave.
func (m *Module) fields(h handoff.Handoff, s *handoff.Snapshot) []*slackgo.TextBlockObject {
	var who string
	switch {
	case s.Verified && s.Card != nil && s.Card.Name != "":
		who = m.t("slack.patient.verified", map[string]any{"Name": escape(s.Card.Name)})
		if s.Card.DateOfBirth != "" {
			who += "\n" + m.t("slack.patient.dob", map[string]any{"DOB": escape(s.Card.DateOfBirth)})
		}
		if s.Card.Phone != "" {
			who += "\n" + m.t("slack.patient.phone", map[string]any{"Phone": escape(s.Card.Phone)})
		}
		if s.Card.Record != "" {
			who += "\n" + m.t("slack.patient.record", map[string]any{"Record": escape(s.Card.Record)})
		}
	case s.FirstName != "":
		status := "slack.patient.unverified"
		if s.Verified {
			status = "slack.patient.verified"
		}
		who = m.t(status, map[string]any{"Name": escape(s.FirstName)})
	case s.Verified:
		who = m.t("slack.patient.verified", map[string]any{"Name": "#" + strconv.FormatInt(h.ConversationID, 10)})
	default:
		who = m.t("slack.patient.anonymous", nil)
	}
	f := []*slackgo.TextBlockObject{
		mrkdwn("*" + m.t("slack.field.patient", nil) + "*\n" + who),
		mrkdwn("*" + m.t("slack.field.channel", nil) + "*\n" + m.channelName(s.Channel)),
		mrkdwn("*" + m.t("slack.field.opened", nil) + "*\n" + m.clock(h.CreatedAt)),
	}
	if s.Lang != "" {
		f = append(f, mrkdwn("*"+m.t("slack.field.language", nil)+"*\n"+s.Lang))
	}
	return f
}

// transcript renders the recent messages, both sides, as quoted lines split
// over as many sections as Slack's size limit needs.
func (m *Module) transcript(lines []handoff.Line) []slackgo.Block {
	if len(lines) == 0 {
		return nil
	}
	var out []slackgo.Block
	cur := "*" + m.t("slack.transcript", nil) + "*"
	for _, l := range lines {
		who := m.t("slack.role."+l.Role, map[string]any{"Name": escape(l.From)})
		entry := "\n*" + who + "* · " + m.clock(l.At) + "\n" + quote(clipRunes(l.Text, 700))
		if len(cur)+len(entry) > sectionLimit {
			out = append(out, slackgo.NewSectionBlock(mrkdwn(cur), nil, nil))
			cur = ""
		}
		cur += entry
	}
	return append(out, slackgo.NewSectionBlock(mrkdwn(strings.TrimPrefix(cur, "\n")), nil, nil))
}

func (m *Module) status(h handoff.Handoff, r root) string {
	switch h.Status {
	case handoff.StatusOpen:
		id, waited := "slack.status.open", m.now().Sub(h.CreatedAt)
		if waited < time.Minute {
			id = "slack.status.open_new"
		}
		s := m.t(id, map[string]any{"Time": m.clock(h.CreatedAt), "Waited": m.wait(waited)})
		if r.AfterHours {
			s += " " + m.t("slack.status.after_hours", nil)
		}
		return ":hourglass_flowing_sand: " + s
	case handoff.StatusTaken:
		at := h.UpdatedAt
		if h.TakenAt != nil {
			at = *h.TakenAt
		}
		return ":raising_hand: " + m.t("slack.status.taken", map[string]any{"Name": escape(h.OwnerName), "Time": m.clock(at)})
	case handoff.StatusReturned:
		return ":leftwards_arrow_with_hook: " + m.t("slack.status.returned", map[string]any{"Time": m.clock(closedAt(h))})
	case handoff.StatusResolved:
		return ":white_check_mark: " + m.t("slack.status.resolved", map[string]any{"Time": m.clock(closedAt(h))})
	case handoff.StatusAlert:
		return ":bell: " + m.t("slack.status.alert", nil)
	}
	return h.Status
}

func closedAt(h handoff.Handoff) time.Time {
	if h.ClosedAt != nil {
		return *h.ClosedAt
	}
	return h.UpdatedAt
}

func (m *Module) button(action, labelID string, h handoff.Handoff, style slackgo.Style) slackgo.BlockElement {
	b := slackgo.NewButtonBlockElement(action, strconv.FormatInt(h.ID, 10), plain(m.t(labelID, nil)))
	b.Style = style
	return b
}

func (m *Module) buttons(h handoff.Handoff) []slackgo.BlockElement {
	take := m.button(actionTake, "slack.button.take", h, slackgo.StylePrimary)
	ret := m.button(actionReturn, "slack.button.return", h, slackgo.StyleDefault)
	resolve := m.button(actionResolve, "slack.button.resolve", h, slackgo.StyleDefault)
	switch h.Status {
	case handoff.StatusOpen, handoff.StatusReturned:
		return []slackgo.BlockElement{take, resolve}
	case handoff.StatusTaken:
		return []slackgo.BlockElement{ret, resolve}
	case handoff.StatusAlert:
		return []slackgo.BlockElement{m.button(actionContact, "slack.button.contact", h, slackgo.StylePrimary), resolve}
	}
	return nil
}

// renderNote is one thread post.
func (m *Module) renderNote(n note) string {
	at := m.clock(n.At)
	name := escape(n.Actor)
	switch n.Kind {
	case handoff.EventPatient:
		return m.t("slack.note.patient", map[string]any{"Text": quote(clipRunes(n.Text, 3000))})
	case handoff.EventEscalated:
		s := ":rotating_light: " + m.t("slack.note.emergency", map[string]any{"Text": quote(clipRunes(n.Text, 3000))})
		if n.Mention && m.mention != "" {
			s = m.mention + " " + s
		}
		return s
	case handoff.EventTaken:
		return ":raising_hand: " + m.t("slack.note.taken", map[string]any{"Name": name, "Time": at})
	case handoff.EventReturned:
		return ":leftwards_arrow_with_hook: " + m.t("slack.note.returned", map[string]any{"Name": name, "Time": at})
	case handoff.EventResolved:
		return ":white_check_mark: " + m.t("slack.note.resolved", map[string]any{"Name": name, "Time": at})
	case handoff.EventCancelled:
		return ":leftwards_arrow_with_hook: " + m.t("slack.note.cancelled", map[string]any{"Time": at})
	case handoff.EventTimeout:
		id := "slack.note.timeout"
		if n.AfterHours {
			id = "slack.note.timeout_after_hours"
		}
		return ":alarm_clock: " + m.t(id, map[string]any{"Waited": m.wait(n.Waited)})
	}
	return string(n.Kind)
}
