package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

func init() {
	register("schedule", "schedule import FILE (YAML, CSV or JSON; --dry-run to only check) | schedule show", runSchedule)
}

func runSchedule(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: tend schedule import [--dry-run] FILE | tend schedule show", errUsage)
	}
	switch args[0] {
	case "import":
		return scheduleImport(ctx, env, args[1:])
	case "show":
		return scheduleShow(ctx, env, args[1:])
	}
	return fmt.Errorf("%w: unknown schedule command %q", errUsage, args[0])
}

func scheduleImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("schedule import", env)
	dry := fs.Bool("dry-run", false, "check the file and report problems; import nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: tend schedule import [--dry-run] FILE", errUsage)
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s, err := scheduling.Parse(path, data)
	if err != nil {
		return importFailed(path, err)
	}
	a, err := newApp(ctx, env, app.ModeCLI, true)
	if err != nil {
		return err
	}
	defer a.Close()
	var dir *scheduling.Directory
	err = a.DB.InTx(ctx, func(tx *store.Tx) error {
		dir, err = scheduling.Save(ctx, tx, s, path, a.Clock.Now(), a.Clinic.Holidays...)
		if err == nil && *dry {
			return errDryRun
		}
		return err
	})
	if errors.Is(err, errDryRun) {
		fmt.Fprintf(env.Stdout, "%s is valid: %d providers, %d locations, %d visit types (nothing imported: --dry-run)\n",
			path, len(dir.Schedule.Providers), len(dir.Schedule.Locations), len(dir.Schedule.VisitTypes))
		return nil
	}
	if err != nil {
		return importFailed(path, err)
	}
	fmt.Fprintf(env.Stdout, "imported %s as schedule version %d: %d providers, %d locations, %d visit types\n",
		path, dir.Version, len(dir.Schedule.Providers), len(dir.Schedule.Locations), len(dir.Schedule.VisitTypes))
	return nil
}

var errDryRun = errors.New("dry run")

// importFailed prints every problem by line, as the exit error.
func importFailed(path string, err error) error {
	var se *scheduling.ImportError
	if errors.As(err, &se) {
		return &exitError{code: 1, msg: path + ": " + se.Error()}
	}
	return err
}

func scheduleShow(ctx context.Context, env *Env, args []string) error {
	if err := newFlags("schedule show", env).Parse(args); err != nil {
		return err
	}
	a, err := newApp(ctx, env, app.ModeCLI, true)
	if err != nil {
		return err
	}
	defer a.Close()
	dir, err := scheduling.Load(ctx, a.DB.Q(), a.Clinic.Holidays...)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"version": dir.Version, "schedule": dir.Schedule})
}
