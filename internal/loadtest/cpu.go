package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// CPU counts the CPU time a run costs: this process's (server, load
// generator and fakes together, as they share the machine) and, on
// PostgreSQL, that of the backends behind a pool. Start it after the
// warm-up (Options.AfterWarmUp) and report per operation at the end.
type CPU struct {
	pool         *pgxpool.Pool
	self, backed time.Duration
}

// NewCPU counts this process, and pool's backends when pool is not nil.
func NewCPU(pool *pgxpool.Pool) *CPU { return &CPU{pool: pool} }

// Start takes the first readings.
func (c *CPU) Start() {
	c.self = processCPU()
	c.backed = backendCPU(c.pool)
}

// Report adds go-cpu-ms/<unit> and, on PostgreSQL, pg-cpu-ms/<unit> for
// n operations since Start.
func (c *CPU) Report(b interface {
	ReportMetric(float64, string)
}, n int, unit string) {
	if n <= 0 {
		return
	}
	b.ReportMetric((processCPU()-c.self).Seconds()*1000/float64(n), "go-cpu-ms/"+unit)
	if c.pool != nil {
		if pg := backendCPU(c.pool) - c.backed; pg > 0 {
			b.ReportMetric(pg.Seconds()*1000/float64(n), "pg-cpu-ms/"+unit)
		}
	}
}

func processCPU() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// backendCPU is the CPU time used so far by the PostgreSQL backends behind
// pool (every connection is acquired, so all are opened), read from /proc
// (the server runs on this machine); 0 where that is not possible.
func backendCPU(pool *pgxpool.Pool) time.Duration {
	if pool == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conns := make([]*pgxpool.Conn, 0, pool.Config().MaxConns)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	var total time.Duration
	for range pool.Config().MaxConns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return 0
		}
		conns = append(conns, c)
		var pid int
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return 0
		}
		t, err := procCPU(pid)
		if err != nil {
			return 0
		}
		total += t
	}
	return total
}

// procCPU reads a process's user and system time from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks of 10 ms.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}
