package cli

import (
	"errors"
	"flag"
	"fmt"
)

// parseFlags parses args and turns a flag mistake into a usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}
