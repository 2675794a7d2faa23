// Command tend is a patient-messaging assistant for clinics. See README.md.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tend-health/tend/internal/cli"
)

func main() {
	env, err := cli.LoadEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tend:", err)
		os.Exit(2)
	}
	os.Exit(cli.Main(context.Background(), os.Args[1:], env))
}
