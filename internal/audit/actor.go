package audit

import (
	"context"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// Actor is who did something, as the audit trail names them.
//
// Today there are three kinds: the shared admin token (ActorAdminToken,
// over the API or a signed-in browser), a person at the command line
// ("cli:<os user>") and Tend itself ("system:<job>"). The seam for what
// comes next (console accounts, named API tokens) is the request context:
// the middleware that authenticates a request calls WithActor, and
// everything downstream reads ActorFrom; an authenticator for named tokens
// sets ID "token:<name>", a console session "user:<id>".
type Actor struct {
	// ID is stored in the actor column.
	ID string
	// Via says how the actor proved who they are ("bearer", "cookie",
	// "os-user"); stored in the row's detail.
	Via string
}

// ActorAdminToken is the actor of every request authenticated by the shared
// admin token (TEND_ADMIN_TOKEN).
const ActorAdminToken = "admin-token"

// ActorAnonymous is the actor of a refused request.
const ActorAnonymous = "anonymous"

type actorKey struct{}

// WithActor returns ctx carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom is the actor ctx carries; ok is false when none was set.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.ID != ""
}

// System is Tend acting on its own (a periodic job, the start-up checks).
func System(what string) Actor { return Actor{ID: "system:" + what} }

// CLI is the person running a command: "cli:<os user>" (the login name, or
// the numeric uid when the system has no name for it).
func CLI() Actor {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
		if name == "" {
			name = "uid" + u.Uid
		}
	} else {
		name = "uid" + strconv.Itoa(os.Getuid())
	}
	return Actor{ID: "cli:" + clean(name, 64), Via: "os-user"}
}

// clean keeps a short, printable, single-line value.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max])
	}
	return s
}
