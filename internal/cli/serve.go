package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/signal"
	"syscall"

	"github.com/tend-health/tend/internal/app"
)

func init() {
	register("serve", "run the server: web chat, webhooks, admin, health, metrics and job workers", runServe)
}

// ServeReady, when set (tests), is told the address the server listens on.
var ServeReady func(addr net.Addr)

func runServe(ctx context.Context, env *Env, args []string) error {
	if err := parseFlags(newFlags("serve", env), args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	a, err := newApp(ctx, env, app.ModeServe, false)
	if err != nil {
		return err
	}
	defer a.Close()
	// Jobs start first so that work accepted before a restart is resumed at once.
	if err := a.Start(ctx); err != nil {
		return err
	}
	a.Log.Info("tend serving", "addr", env.Config.Addr, "store", string(a.DB.Dialect()), "clinic", a.Clinic.Name)
	serveErr := a.HTTP.ListenAndServe(ctx, env.Config.Addr, env.Config.ShutdownTimeout, func(addr net.Addr) {
		if ServeReady != nil {
			ServeReady(addr)
		}
	})
	// HTTP has stopped accepting and finished its requests; now let running
	// jobs (deliveries) finish, bounded by the same grace period.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), env.Config.ShutdownTimeout)
	defer cancel()
	stopErr := a.Stop(sctx)
	if serveErr != nil {
		return fmt.Errorf("http: %w", serveErr)
	}
	if stopErr != nil && !errors.Is(stopErr, context.Canceled) {
		return fmt.Errorf("stopping jobs: %w", stopErr)
	}
	a.Log.Info("tend stopped")
	return nil
}
