// Package e2e runs the real `tend` binary as separate processes: killed and
// restarted during a burst of messages, and as two replicas on one
// PostgreSQL database.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tend-health/tend/internal/app/apptest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tend-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tend")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building tend:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one `tend serve` process.
type server struct {
	t    *testing.T
	env  []string
	addr string
	cmd  *exec.Cmd
	log  *apptest.SyncBuffer
	done chan error
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func newServer(t *testing.T, env map[string]string) *server {
	return newServerAt(t, env, freeAddr(t))
}

// newServerAt prepares a server on a given address (a restart reuses it).
func newServerAt(t *testing.T, env map[string]string, addr string) *server {
	s := &server{t: t, addr: addr, log: &apptest.SyncBuffer{}}
	for k, v := range env {
		s.env = append(s.env, k+"="+v)
	}
	// The burst is about crash safety, not flood control.
	s.env = append(s.env, "TEND_ADDR="+s.addr, "TEND_LOG_LEVEL=info", "TEND_WEB_RATE_PER_MINUTE=6000")
	return s
}

func (s *server) url() string { return "http://" + s.addr }

// start launches the process and waits until it is ready; it reports
// failure as an error because it also runs on non-test goroutines.
func (s *server) start() error {
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-s.done:
			return fmt.Errorf("tend serve exited: %v\n%s", err, s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("tend serve not ready\n%s", s.log.String())
}

func (s *server) mustStart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// kill ends the process without warning, as a crash or an OOM kill would.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("tend serve exited with %v after SIGTERM\n%s", err, s.log.String())
		}
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Errorf("tend serve did not stop after SIGTERM\n%s", s.log.String())
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
