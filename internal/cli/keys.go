package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store/rekey"
)

func init() {
	register("keys", "keys generate|status|rotate: encryption keys for personal data at rest (docs/security.md)", runKeys)
}

const keysUsage = "tend keys generate | tend keys status [--json] | tend keys rotate [--wait] [--foreground]"

func runKeys(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, keysUsage)
	}
	switch args[0] {
	case "generate":
		if err := parseFlags(newFlags("keys generate", env), args[1:]); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, sealed.Generate())
		return nil
	case "status":
		return runKeysStatus(ctx, env, args[1:])
	case "rotate":
		return runKeysRotate(ctx, env, args[1:])
	}
	return fmt.Errorf("%w: %s", errUsage, keysUsage)
}

// keysApp assembles Tend with no feature modules: the keys commands need
// the store and its keys only.
func keysApp(ctx context.Context, env *Env) (*app.App, error) {
	return assemble(ctx, env, app.ModeCLI, true, nil)
}

func runKeysStatus(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("keys status", env)
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := keysApp(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	s, err := rekey.CountKeys(ctx, a.DB)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	printKeyStatus(env.Stdout, s)
	return nil
}

// printKeyStatus shows, per sealed column, how many values are plaintext
// and how many are sealed under each key, then what that means.
func printKeyStatus(w io.Writer, s rekey.Status) {
	if s.Current == "" {
		fmt.Fprintln(w, "no encryption key is configured: personal data is written as plaintext")
		fmt.Fprintln(w, "(set TEND_ENCRYPTION_KEY or TEND_ENCRYPTION_KEY_FILE; make a key with `tend keys generate`)")
	} else {
		fmt.Fprintf(w, "current key: %s\nconfigured keys: %s\n", s.Current, strings.Join(s.Configured, ", "))
	}
	ids := map[string]bool{}
	for _, id := range s.Configured {
		ids[id] = true
	}
	for _, id := range s.InUse() {
		ids[id] = true
	}
	cols := make([]string, 0, len(ids))
	for id := range ids {
		cols = append(cols, id)
	}
	sort.Slice(cols, func(i, j int) bool { // current first, then configured order, then others
		return keyRank(s, cols[i]) < keyRank(s, cols[j]) || keyRank(s, cols[i]) == keyRank(s, cols[j]) && cols[i] < cols[j]
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "column\tplaintext\t")
	for _, id := range cols {
		fmt.Fprintf(tw, "%s\t", id)
	}
	fmt.Fprintln(tw)
	row := func(name string, keys map[string]int64) {
		fmt.Fprintf(tw, "%s\t%d\t", name, keys[""])
		for _, id := range cols {
			fmt.Fprintf(tw, "%d\t", keys[id])
		}
		fmt.Fprintln(tw)
	}
	for _, c := range s.Columns {
		row(c.Column, c.Keys)
	}
	row("total", s.Totals)
	_ = tw.Flush()

	if p := s.Progress; p != nil {
		switch {
		case p.FinishedAt != nil:
			fmt.Fprintf(w, "last rotation: to key %s, finished %s: %d rewritten, %d unreadable\n", p.Target,
				p.FinishedAt.Format(time.RFC3339), p.Rewritten, p.Unreadable)
		case p.Stopped != "":
			fmt.Fprintf(w, "rotation to key %s stopped at %s: %s\n", p.Target, p.Column, p.Stopped)
		default:
			fmt.Fprintf(w, "rotation to key %s under way (started %s): at %s, %d rewritten, %d unreadable\n", p.Target,
				p.StartedAt.Format(time.RFC3339), p.Column, p.Rewritten, p.Unreadable)
		}
		if p.Stale && s.Current != "" {
			fmt.Fprintln(w, "Tend ran without a key since: a server start (or `tend keys rotate`) seals what was written then")
		}
	}
	for _, id := range s.InUse() {
		if !keyConfigured(s, id) {
			fmt.Fprintf(w, "warning: %d values are sealed under key %s, which is not configured: they cannot be read\n", s.Totals[id], id)
		}
	}
	if s.Current != "" {
		if n := s.Totals[""]; n > 0 {
			fmt.Fprintf(w, "%d values are still plaintext: `tend keys rotate` seals them\n", n)
		}
		for _, id := range s.Configured[1:] {
			if s.Totals[id] == 0 {
				fmt.Fprintf(w, "key %s is no longer used: it can be removed from the key file\n", id)
			} else {
				fmt.Fprintf(w, "key %s is still used by %d values: keep it until `tend keys rotate` has finished\n", id, s.Totals[id])
			}
		}
	}
}

func keyRank(s rekey.Status, id string) int {
	for i, c := range s.Configured {
		if c == id {
			return i
		}
	}
	return len(s.Configured)
}

func keyConfigured(s rekey.Status, id string) bool { return keyRank(s, id) < len(s.Configured) }

func runKeysRotate(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("keys rotate", env)
	wait := fs.Bool("wait", false, "report progress until the server's background job has finished")
	foreground := fs.Bool("foreground", false, "do the work in this process instead of a server's job queue")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := keysApp(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	keys := a.DB.Keyring()
	if keys == nil {
		return errors.New("no encryption key is configured: set TEND_ENCRYPTION_KEY or TEND_ENCRYPTION_KEY_FILE " +
			"(the new key first, then the old ones) and run again")
	}
	report := func(p rekey.Progress) {
		if p.FinishedAt != nil {
			fmt.Fprintf(env.Stdout, "done: every value is sealed under key %s (%d rewritten, %d unreadable)\n",
				p.Target, p.Rewritten, p.Unreadable)
			return
		}
		fmt.Fprintf(env.Stdout, "sealing %s under key %s: %d rewritten so far\n", p.Column, p.Target, p.Rewritten)
	}
	if *foreground {
		var last string
		p, err := rekey.Run(ctx, a.DB, a.Clock.Now, func(p rekey.Progress) {
			if p.Column != last || p.FinishedAt != nil {
				report(p)
				last = p.Column
			}
		})
		if err != nil {
			return err
		}
		return unreadableError(p)
	}
	p, ok, err := rekey.LoadProgress(ctx, a.DB.Q())
	if err != nil {
		return err
	}
	running, err := rekey.Running(ctx, a.DB.Q())
	if err != nil {
		return err
	}
	if running && ok && p.Target == keys.Current() && p.FinishedAt == nil {
		fmt.Fprintf(env.Stdout, "a rotation to key %s is already under way (`tend keys status` shows progress)\n", p.Target)
	} else {
		if _, err := rekey.Start(ctx, a.DB, a.Clock.Now()); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "rotation to key %s queued: a running `tend serve` does it in the background "+
			"(`tend keys status` shows progress)\n", keys.Current())
	}
	if !*wait {
		return nil
	}
	return waitRotation(ctx, env, a, keys.Current(), report)
}

// waitRotation reports the background rotation's progress until it ends.
func waitRotation(ctx context.Context, env *Env, a *app.App, target string, report func(rekey.Progress)) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var last rekey.Progress
	waited := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		p, ok, err := rekey.LoadProgress(ctx, a.DB.Q())
		if err != nil {
			return err
		}
		if !ok || p.Target != target {
			return errors.New("the rotation was replaced by another one")
		}
		if p.Column != last.Column || p.FinishedAt != nil {
			report(p)
		}
		switch {
		case p.FinishedAt != nil:
			return unreadableError(p)
		case p.Stopped != "":
			return fmt.Errorf("the rotation stopped: %s", p.Stopped)
		}
		if p.Rewritten == last.Rewritten && p.Column == last.Column {
			waited++
			if waited == 20 {
				fmt.Fprintln(env.Stderr, "no progress for 10 s: is `tend serve` running with the same keys? "+
					"(`tend keys rotate --foreground` does the work here instead)")
			}
		} else {
			waited = 0
		}
		last = p
	}
}

func unreadableError(p rekey.Progress) error {
	if p.Unreadable == 0 {
		return nil
	}
	return &exitError{code: 1, msg: fmt.Sprintf("%d values could not be opened with the configured keys and were left as they are "+
		"(`tend keys status` names the missing keys)", p.Unreadable)}
}
