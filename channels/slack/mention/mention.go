// Package mention turns the SLACK_URGENT_MENTION setting into Slack's
// mention syntax. It imports nothing from Tend, so internal/config can
// validate the setting at start without depending on the Slack channel.
package mention

import (
	"errors"
	"regexp"
	"strings"
)

// ErrSyntax says what a valid value looks like; callers add the variable name.
var ErrSyntax = errors.New("must be a user group id (S...), a user id (U...), here, channel or a <...> mention")

var idRe = regexp.MustCompile(`^[SUW][A-Z0-9]{2,}$`)

// Parse turns a user group id (S0123ABCD), a user id (U0123ABCD or
// W0123ABCD), "here", "channel", "everyone" or a raw "<...>" mention into
// the text Slack renders as a mention. Empty means nobody.
func Parse(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", nil
	case strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">"):
		return v, nil
	case v == "here" || v == "channel" || v == "everyone":
		return "<!" + v + ">", nil
	case idRe.MatchString(v) && v[0] == 'S':
		return "<!subteam^" + v + ">", nil
	case idRe.MatchString(v):
		return "<@" + v + ">", nil
	}
	return "", ErrSyntax
}
