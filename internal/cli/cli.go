// Package cli is the `tend` command: it parses the command line, loads the
// configuration and runs one subcommand.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/logging"
)

// Version is set at build time (-ldflags "-X .../cli.Version=...").
var Version = "dev"

// Env is what a command runs with: its streams and configuration.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// IsTerminal reports whether stdin is interactive (prompts, progress bars).
	IsTerminal bool
	Config     config.Config
	// AppOptions adjust assembly (tests inject a store or clock).
	AppOptions app.Options
}

type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, env *Env, args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// errUsage marks a usage error: exit code 2.
var errUsage = errors.New("usage")

// exitError carries a specific exit code (e.g. a sync with failed files).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stdout)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(env.Stdout, "tend", Version)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "tend: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return 2
	}
	if _, ok := audit.ActorFrom(ctx); !ok {
		ctx = audit.WithActor(ctx, audit.CLI())
	}
	err := recordCLI(ctx, env, args, cmd.run(ctx, env, args[1:]))
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.Stderr, "tend %s: %v\n", args[0], err)
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(env.Stderr, "tend %s: %s\n", args[0], ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintf(env.Stderr, "tend %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "tend: a patient-messaging assistant for clinics")
	fmt.Fprintln(w, "\nUsage: tend <command> [arguments]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-11s %s\n", "version", "print the version")
	fmt.Fprintln(w, "\n`tend <command> --help` shows a command's flags; `tend serve --help` lists the settings.")
	fmt.Fprintln(w, "\nConfiguration comes from environment variables; see the README.")
}

// LoadEnv builds an Env from the process: streams, terminal detection, config.
func LoadEnv() (*Env, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, IsTerminal: isTerminal(os.Stdin), Config: cfg}, nil
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newApp assembles Tend for a command; logs go to stderr.
func newApp(ctx context.Context, env *Env, mode app.Mode, quiet bool) (*app.App, error) {
	return assemble(ctx, env, mode, quiet, modules(env.Config, mode))
}

// assemble is newApp with the module list given, so that a command can
// keep a module it needs to call (surveys for `tend visits`).
func assemble(ctx context.Context, env *Env, mode app.Mode, quiet bool, ms []app.Module) (*app.App, error) {
	o := env.AppOptions
	o.Mode = mode
	if o.Logger == nil {
		level := env.Config.LogLevel
		if quiet && strings.EqualFold(level, "info") {
			level = "warn" // keep the terminal for the conversation
		}
		o.Logger = logging.New(env.Stderr, level, env.Config.LogFormat)
	}
	o.Modules = append(ms, o.Modules...)
	return app.New(ctx, env.Config, o)
}

func newFlags(name string, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet("tend "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}
