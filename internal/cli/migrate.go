package cli

import (
	"context"
	"fmt"

	"github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
)

func init() {
	register("migrate", "apply database migrations", runMigrate)
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	if err := parseFlags(newFlags("migrate", env), args); err != nil {
		return err
	}
	db := env.AppOptions.Store
	if db == nil {
		var err error
		db, err = store.Open(ctx, store.Options{PostgresURL: env.Config.DatabaseURL.Reveal(), SQLitePath: env.Config.SQLitePath(),
			Migrations: schema.All()})
		if err != nil {
			return err
		}
		defer db.Close()
	}
	res, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(env.Stdout, "%s database is up to date\n", db.Dialect())
		return nil
	}
	for _, m := range res.Applied {
		fmt.Fprintln(env.Stdout, "applied", m)
	}
	fmt.Fprintf(env.Stdout, "%s database migrated (%d applied)\n", db.Dialect(), len(res.Applied))
	return nil
}
