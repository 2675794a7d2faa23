#!/usr/bin/env bash
# Benchmarks for the platform, printed as one report:
#  - pgbench -N (simple writes) on the same PostgreSQL, for a ratio;
#  - the engine end to end on SQLite and PostgreSQL (messages/s, p50, p99);
#  - the idle resident memory of `tend serve`.
# Run on a quiet machine: other load skews every number.
set -euo pipefail
cd "$(dirname "$0")/.."
PGURL=${TEND_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tend_test?sslmode=disable}
DURATION=${BENCH_SECONDS:-15}

echo "== pgbench -N (scale 10, 16 clients, ${DURATION}s)"
psql -q "$PGURL" -c "drop database if exists tend_pgbench" >/dev/null 2>&1 || true
psql -q "${PGURL/tend_test/postgres}" -c "create database tend_pgbench" >/dev/null 2>&1 || true
BENCHURL=${PGURL/tend_test/tend_pgbench}
pgbench -q -i -s 10 "$BENCHURL" >/dev/null 2>&1
pgbench -N -c 16 -j 2 -T "$DURATION" "$BENCHURL" 2>/dev/null | grep -E "tps|latency average"
psql -q "${PGURL/tend_test/postgres}" -c "drop database tend_pgbench" >/dev/null 2>&1 || true

echo "== engine, end to end"
go test -run '^$' -bench 'BenchmarkEngine' -benchtime "${BENCH_N:-5000}x" ./bot/ | grep -E '^Benchmark'

echo "== idle memory of tend serve (SQLite, sample clinic)"
dir=$(mktemp -d)
go build -o "$dir/tend" .
TEND_DATA_DIR="$dir/data" TEND_ADDR=127.0.0.1:0 TEND_LOG_LEVEL=warn "$dir/tend" serve &
pid=$!
sleep 8
echo "VmRSS: $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MB"}')"
kill -TERM $pid; wait $pid || true
rm -rf "$dir"
