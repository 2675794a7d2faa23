package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/signal"
	"syscall"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
)

func init() {
	register("serve", "run the server: web chat, webhooks, admin, health, metrics and job workers", runServe)
}

// ServeReady, when set (tests), is told the address the server listens on.
var ServeReady func(addr net.Addr)

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("serve", env)
	fs.Usage = func() { serveUsage(env) }
	if err := parseFlags(fs, args); err != nil {
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
	// "serving" is said once the port is bound: a busy port fails before it.
	serveErr := a.HTTP.ListenAndServe(ctx, env.Config.Addr, env.Config.ShutdownTimeout, func(addr net.Addr) {
		a.Log.Info("tend serving", "addr", addr.String(), "store", string(a.DB.Dialect()), "clinic", a.Clinic.Name)
		fmt.Fprintf(env.Stdout, "Tend is ready: %s\n", readyURL(addr))
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

// readyURL is the address to open in a browser: "localhost" for a server
// listening on every interface or on the loopback.
func readyURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// serveUsage lists the environment variables serve reads (all optional).
func serveUsage(env *Env) {
	w := env.Stderr
	fmt.Fprintln(w, "Usage: tend serve")
	fmt.Fprintln(w, "\nRuns the web chat, webhooks, admin API, health and metrics, and the job workers.")
	fmt.Fprintln(w, "Settings come from the environment, every one optional (README, \"Configuration\"):")
	for _, v := range config.Variables() {
		if v.Default != "" {
			fmt.Fprintf(w, "  %-34s (default %s)\n", v.Name, v.Default)
		} else {
			fmt.Fprintf(w, "  %s\n", v.Name)
		}
	}
}
