package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/clock"
)

func init() {
	register("users", "console accounts: add EMAIL --role owner|editor|staff, list, disable EMAIL, reset EMAIL", runUsers)
	register("tokens", "named API tokens: add NAME --role owner|editor|staff, list, revoke NAME", runTokens)
}

const usersUsage = `usage:
  tend users add EMAIL --role owner|editor|staff   create an account; prints its one-time sign-in link (24 h)
  tend users list [--json]                         every account, its role and state
  tend users disable EMAIL                         end its sessions; it can no longer sign in
  tend users reset EMAIL                           clear password and one-time-code app; prints a new link`

const tokensUsage = `usage:
  tend tokens add NAME --role owner|editor|staff   issue an API token (printed once; keep it)
  tend tokens list [--json]                        every token, its role, last use, revoked or not
  tend tokens revoke NAME                          stop a token at once`

// accountsService opens the store (with the encryption keys, which seal
// the one-time-code secrets) and the accounts on it.
func accountsService(ctx context.Context, env *Env) (*accounts.Service, func(), error) {
	db, closeFn, err := openStore(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	keys, err := env.Config.Keyring()
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	if keys != nil {
		db.SetKeyring(keys)
	}
	var c clock.Clock = clock.Real{}
	if env.AppOptions.Clock != nil {
		c = env.AppOptions.Clock
	}
	return &accounts.Service{DB: db, Clock: c, Idle: env.Config.ConsoleIdle, Lifetime: env.Config.ConsoleSessionMax}, closeFn, nil
}

// interleaved parses flags given before or after the positional arguments
// ("users add EMAIL --role staff" reads best), returning the positionals.
func interleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// signInLink is the console's address for a one-time link: TEND_PUBLIC_URL
// when set, else the listen address on this machine.
func signInLink(env *Env, token string) string {
	base := strings.TrimRight(env.Config.PublicURL, "/")
	if base == "" {
		addr := env.Config.Addr
		if strings.HasPrefix(addr, ":") {
			addr = "localhost" + addr
		}
		base = "http://" + addr
	}
	return base + "/admin/welcome?token=" + url.QueryEscape(token)
}

func runUsers(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(env.Stdout, usersUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	fs := newFlags("users "+args[0], env)
	role := fs.String("role", "", "owner, editor or staff")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := interleaved(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"add": 1, "list": 0, "disable": 1, "reset": 1}
	n, ok := want[args[0]]
	if !ok || len(pos) != n {
		fmt.Fprintln(env.Stderr, usersUsage)
		return fmt.Errorf("%w: tend users %s", errUsage, args[0])
	}
	s, closeFn, err := accountsService(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	switch args[0] {
	case "add":
		r, err := accounts.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		u, link, err := s.Add(ctx, pos[0], r)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "added %s (%s). Send them this link; it works once, for 24 hours:\n%s\n", u.Email, u.Role, signInLink(env, link))
		return recordAccount(ctx, s, "user.add", u.ID, string(u.Role))
	case "list":
		return printUsers(ctx, env, s, *asJSON)
	case "disable":
		u, err := s.ByEmail(ctx, pos[0])
		if err != nil {
			return err
		}
		if err := s.Disable(ctx, u.Email); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "disabled %s; its sessions have ended\n", u.Email)
		return recordAccount(ctx, s, "user.disable", u.ID, "")
	default: // reset
		u, link, err := s.Reset(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "reset %s: password and one-time codes cleared, sessions ended. New link (once, 24 hours):\n%s\n",
			u.Email, signInLink(env, link))
		return recordAccount(ctx, s, "user.reset", u.ID, "")
	}
}

func printUsers(ctx context.Context, env *Env, s *accounts.Service, asJSON bool) error {
	list, err := s.List(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if list == nil {
			list = []accounts.User{}
		}
		return json.NewEncoder(env.Stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No console accounts yet. Add one with: tend users add EMAIL --role owner")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tSTATE\tCODES\tCREATED")
	for _, u := range list {
		state := "active"
		switch {
		case u.Disabled != nil:
			state = "disabled"
		case !u.PasswordSet:
			state = "invited"
		}
		codes := "off"
		if u.TOTP {
			codes = "on"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Role, state, codes, u.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

func runTokens(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(env.Stdout, tokensUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	fs := newFlags("tokens "+args[0], env)
	role := fs.String("role", "", "owner, editor or staff")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := interleaved(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"add": 1, "list": 0, "revoke": 1}
	n, ok := want[args[0]]
	if !ok || len(pos) != n {
		fmt.Fprintln(env.Stderr, tokensUsage)
		return fmt.Errorf("%w: tend tokens %s", errUsage, args[0])
	}
	s, closeFn, err := accountsService(ctx, env)
	if err != nil {
		return err
	}
	defer closeFn()
	by := audit.CLI().ID
	if a, ok := audit.ActorFrom(ctx); ok {
		by = a.ID
	}
	switch args[0] {
	case "add":
		r, err := accounts.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		t, secret, err := s.AddToken(ctx, pos[0], r, by)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "token %s (%s) issued; it is shown only now. Use it as: Authorization: Bearer <token>\n", t.Name, t.Role)
		fmt.Fprintln(env.Stdout, secret)
		return recordToken(ctx, s, "token.add", t.Name, string(t.Role))
	case "revoke":
		if err := s.RevokeToken(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "revoked %s\n", strings.ToLower(pos[0]))
		return recordToken(ctx, s, "token.revoke", strings.ToLower(pos[0]), "")
	default:
		list, err := s.Tokens(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if list == nil {
				list = []accounts.Token{}
			}
			return json.NewEncoder(env.Stdout).Encode(list)
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tLAST USED\tCREATED BY")
		for _, t := range list {
			state, last := "active", "never"
			if t.Revoked != nil {
				state = "revoked " + t.Revoked.Format(time.DateOnly)
			}
			if t.LastUsed != nil {
				last = t.LastUsed.Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, state, last, t.CreatedBy)
		}
		return tw.Flush()
	}
}

// recordAccount writes an account change to the audit trail: the subject
// is the account's id, never its address.
func recordAccount(ctx context.Context, s *accounts.Service, action string, id int64, role string) error {
	detail := map[string]any{}
	if role != "" {
		detail["role"] = role
	}
	return audit.Record(ctx, s.DB, audit.For(ctx, s.Clock.Now(), action, fmt.Sprintf("user:%d", id), detail))
}

func recordToken(ctx context.Context, s *accounts.Service, action, name, role string) error {
	detail := map[string]any{}
	if role != "" {
		detail["role"] = role
	}
	return audit.Record(ctx, s.DB, audit.For(ctx, s.Clock.Now(), action, "token:"+name, detail))
}
