package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func init() {
	register("healthcheck", "exit 0 when the local server answers /readyz (for container health checks)", runHealthcheck)
}

// runHealthcheck lets a distroless container (no curl) check itself.
func runHealthcheck(ctx context.Context, env *Env, args []string) error {
	if err := parseFlags(newFlags("healthcheck", env), args); err != nil {
		return err
	}
	addr := env.Config.Addr
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", resp.Status)
	}
	return nil
}
