package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/sample"
)

func init() {
	register("patients", "patients import FILE.csv (--dry-run to only check; --sample for the fictional demo patients); patients unlock|export|erase ID", runPatients)
}

// patientCommands are the `tend patients` subcommands other files add
// (unlock, ...), by name.
var patientCommands = map[string]func(ctx context.Context, env *Env, args []string) error{}

func runPatients(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && patientCommands[args[0]] != nil {
		return patientCommands[args[0]](ctx, env, args[1:])
	}
	if len(args) == 0 || args[0] != "import" {
		return fmt.Errorf("%w: tend patients import [--dry-run] FILE.csv | tend patients import --sample", errUsage)
	}
	fs := newFlags("patients import", env)
	dry := fs.Bool("dry-run", false, "check the file and report problems; import nothing")
	useSample := fs.Bool("sample", false, "import the bundled fictional patients (demos and tests)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var name string
	var data []byte
	switch {
	case *useSample && fs.NArg() == 0:
		name, data = "sample patients", sample.PatientsCSV()
	case !*useSample && fs.NArg() == 1:
		name = fs.Arg(0)
		var err error
		if data, err = os.ReadFile(name); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: tend patients import [--dry-run] FILE.csv | tend patients import --sample", errUsage)
	}
	a, err := newApp(ctx, env, app.ModeCLI, true)
	if err != nil {
		return err
	}
	defer a.Close()
	ps, err := patients.ParseCSV(bytes.NewReader(data), a.Clock.Now())
	var ie *patients.ImportError
	if errors.As(err, &ie) {
		return &exitError{code: 1, msg: name + ": " + ie.Error()}
	}
	if err != nil {
		return err
	}
	if *dry {
		fmt.Fprintf(env.Stdout, "%s is valid: %d patients (nothing imported: --dry-run)\n", name, len(ps))
		return nil
	}
	if err := patients.Import(ctx, a.DB, ps, a.Clock.Now()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "imported %d patients from %s\n", len(ps), name)
	return nil
}
