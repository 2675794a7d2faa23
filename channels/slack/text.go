package slack

import (
	"regexp"
	"strings"
)

// escape makes text safe inside Slack mrkdwn: Slack reads &, < and > as
// control characters (mentions, links), so a patient cannot ping @channel or
// forge a link.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// quote renders text as a Slack block quote, line by line.
func quote(s string) string {
	return "> " + strings.ReplaceAll(escape(s), "\n", "\n> ")
}

var slackRefRe = regexp.MustCompile(`<([^<>]*)>`)

// plainText turns a staff member's Slack message into what the patient
// should read: links become "label (url)", mentions and channel references
// lose their markup, and Slack's entity escapes are undone.
func plainText(s string) string {
	s = slackRefRe.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[1 : len(m)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "!"):
			if hasLabel {
				return label
			}
			return "" // a user id or @here means nothing to the patient
		case strings.HasPrefix(target, "#"):
			if hasLabel {
				return "#" + label
			}
			return ""
		case strings.HasPrefix(target, "mailto:"):
			return strings.TrimPrefix(target, "mailto:")
		case strings.HasPrefix(target, "tel:"):
			if hasLabel {
				return label
			}
			return strings.TrimPrefix(target, "tel:")
		case hasLabel && label != target:
			return label + " (" + target + ")"
		default:
			return target
		}
	})
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
	return strings.TrimSpace(s)
}

// clipRunes shortens s to at most n runes, marking the cut.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
