package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/tend-health/tend/guards/triage"
)

func init() {
	register("triage", "review the safety rules: check [--file F], test [--file F] \"message\", print", runTriage)
}

// runTriage lets a clinic review its triage rules without running the bot:
// validate a file, see what the rules make of sample messages, or print the
// built-in file to start a copy (docs/triage.md).
func runTriage(_ context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: tend triage check|test|print", errUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlags("triage "+sub, env)
	file := fs.String("file", env.Config.TriageFile, "rules file (default: $"+triage.EnvFile+", else the built-in rules)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if sub == "print" {
		_, err := env.Stdout.Write(triage.BuiltinYAML())
		return err
	}
	f, source, err := loadTriage(*file)
	if err != nil {
		return err
	}
	switch sub {
	case "check":
		fmt.Fprintf(env.Stdout, "%s: valid, %d categories\n", source, len(f.Categories))
		for _, c := range f.Categories {
			fmt.Fprintf(env.Stdout, "  %-22s %-9s reply %-9s %d rules  %s\n", c.ID, c.Kind, c.Reply, len(c.Rules), c.Description)
		}
		return nil
	case "test":
		m := triage.Compile(f)
		show := func(text string) {
			r := m.Classify(text)
			if r.Kind == "" {
				fmt.Fprintf(env.Stdout, "-\t\t\t%s\n", text)
				return
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\trule %d\t%s\n", r.Kind, r.Category, r.Rule, text)
		}
		if text := strings.TrimSpace(strings.Join(fs.Args(), " ")); text != "" {
			show(text)
			return nil
		}
		sc := bufio.NewScanner(env.Stdin)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				show(line)
			}
		}
		return sc.Err()
	}
	return fmt.Errorf("%w: unknown triage command %q (check, test, print)", errUsage, sub)
}

func loadTriage(path string) (*triage.File, string, error) {
	if path == "" {
		f, err := triage.Builtin()
		return f, "built-in rules", err
	}
	f, err := triage.LoadFile(path)
	return f, path, err
}
