package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/loadtest"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkReplicas measures the real answer turn (the sample clinic's
// knowledge base, serve's modules) through the web API of 1, 2 and 4
// `tend serve` processes on one PostgreSQL database, 16 senders spread
// over them (each conversation sticks to one replica, as a load balancer
// with session affinity would do; any replica could answer it). It reports
// messages/s for the whole (docs/performance.md divides by the replicas).
// The replicas, PostgreSQL and the load generator share this machine's
// cores, so on two cores more replicas add no CPU: the run shows what the
// replicas cost each other and the database, not how far they scale.
//
//	go test ./internal/e2e -run '^$' -bench Replicas -benchtime 3000x
//
// The sqlite case is one process on its embedded database. Each run also
// reports the first replica's resident memory: idle (started, the sample
// synced, the word vectors loaded, before the load) and the most sampled
// every 100 ms under the load. TEND_BENCH_REPLICAS lists the PostgreSQL
// replica counts (default "1,2"; with PostgreSQL's default max_connections
// of 100, four replicas' pools do not fit: docs/performance.md).
func BenchmarkReplicas(b *testing.B) {
	b.Run("sqlite/1", func(b *testing.B) { benchReplicas(b, 1, false) })
	counts := os.Getenv("TEND_BENCH_REPLICAS")
	if counts == "" {
		counts = "1,2"
	}
	for _, c := range strings.Split(counts, ",") {
		var n int
		if _, err := fmt.Sscan(c, &n); err != nil || n < 1 {
			b.Fatalf("TEND_BENCH_REPLICAS: %q is not a count", c)
		}
		b.Run(fmt.Sprintf("postgres/%d", n), func(b *testing.B) { benchReplicas(b, n, true) })
	}
}

func benchReplicas(b *testing.B, n int, postgres bool) {
	env := map[string]string{}
	if postgres {
		schema := storetest.NewSchemaName()
		storetest.OpenPostgresSchema(b, schema) // migrated once, before the replicas start
		b.Cleanup(func() { storetest.DropSchema(b, schema) })
		u, _ := url.Parse(storetest.PostgresURL())
		q := u.Query()
		q.Set("search_path", schema+",public")
		u.RawQuery = q.Encode()
		env["DATABASE_URL"] = u.String()
	}
	bases := make([]string, n)
	var first int
	for i := range bases {
		env["TEND_DATA_DIR"] = b.TempDir()
		var pid int
		bases[i], pid = startReplica(b, env)
		if i == 0 {
			first = pid
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const chats = 256
	sessions := make([]string, chats)
	for i := range sessions {
		var err error
		if sessions[i], err = newWebSession(client, bases[i%n], i); err != nil {
			b.Fatal(err)
		}
	}
	// Each replica syncs the sample at start; wait until every one answers.
	for i := range bases {
		deadline := time.Now().Add(2 * time.Minute)
		for askWeb(client, bases[i], sessions[i], i, fmt.Sprintf("ready%d", time.Now().UnixNano())) != nil {
			if time.Now().After(deadline) {
				b.Fatalf("replica %d does not answer from the sample clinic", i)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	chatPool := make(chan int, chats)
	for i := range chats {
		chatPool <- i
	}
	var seq atomic.Int64
	idle := rssMB(first)
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if mb := int64(rssMB(first) * 1000); mb > peak.Load() {
				peak.Store(mb)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	loadtest.Run(b, loadtest.Options{Callers: 16, Unit: "msgs/s"}, func(int64) error {
		chat := <-chatPool
		defer func() { chatPool <- chat }()
		return askWeb(client, bases[chat%n], sessions[chat], chat, fmt.Sprintf("r%d", seq.Add(1)))
	})
	close(stop)
	<-sampled
	b.ReportMetric(idle, "rss-idle-MB")
	b.ReportMetric(float64(peak.Load())/1000, "rss-load-MB")
}

// rssMB is a process's resident memory (VmRSS) in MB, 0 if unknown.
func rssMB(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			var kb float64
			_, _ = fmt.Sscan(f[1], &kb)
			return kb / 1024
		}
	}
	return 0
}

// startReplica starts one `tend serve` and returns its base URL and pid
// once it is ready; it is stopped (SIGTERM) when the benchmark ends.
func startReplica(b *testing.B, env map[string]string) (string, int) {
	addr := freeAddrB(b)
	log := &apptest.SyncBuffer{}
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "TEND_ADDR="+addr, "TEND_LOG_LEVEL=warn", "TEND_WEB_RATE_PER_MINUTE=100000",
		"TEND_TRUSTED_PROXIES=127.0.0.1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, cmd.Process.Pid
			}
		}
		select {
		case err := <-done:
			b.Fatalf("tend serve exited: %v\n%s", err, log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	b.Fatalf("tend serve not ready\n%s", log.String())
	return "", 0
}

func freeAddrB(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// clientAddrOf is conversation i's address behind the trusted proxy.
func clientAddrOf(i int) string { return fmt.Sprintf("10.2.%d.%d", i/250, i%250+1) }

func newWebSession(client *http.Client, base string, i int) (string, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/v1/web/sessions", nil)
	req.Header.Set("X-Forwarded-For", clientAddrOf(i))
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Session string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("session: status %d, %v", resp.StatusCode, err)
	}
	return out.Session, nil
}

// askWeb asks the sample clinic's price of a flu shot and wants the
// knowledge base's answer.
func askWeb(client *http.Client, base, session string, i int, id string) error {
	body := fmt.Appendf(nil, `{"id":%q,"text":"how much is a flu shot?"}`, id)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/v1/web/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+session)
	req.Header.Set("X-Forwarded-For", clientAddrOf(i))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "$30") {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, raw)
	}
	return nil
}
