#!/usr/bin/env bash
# Every benchmark with a target in the issues, printed as one report
# (docs/performance.md lists the targets and the last numbers):
#  - pgbench -N (simple writes) on the same PostgreSQL, for a ratio;
#  - the real answer turn (BenchmarkTurn: serve's modules, the sample clinic's
#    knowledge base, triage and consent) through the web API on both stores,
#    closed loop and open loop at half its rate, and from the Telegram and
#    WhatsApp webhooks to the send at a fake API at their realistic rates and twice;
#  - the engine end to end on SQLite and PostgreSQL (the floor), and the webhook's accept step;
#  - Telegram and WhatsApp webhooks over loopback HTTP on PostgreSQL, and
#    the time from a Telegram webhook to the bot's reply at the Bot API;
#  - knowledge: ingest, unchanged re-sync, `tend ask` turn, SQLite search;
#    BENCH_100K=1 adds the 100,000-passage PostgreSQL search (builds for minutes
#    the first time; the index is kept in the schema tend_bench100k);
#  - booking: free-slot search and sustained bookings;
#  - `tend serve` processes: one on SQLite, 1 and 2 replicas on one PostgreSQL,
#    with their resident memory idle and under load; the idle memory of `tend serve`.
# Run on a quiet machine: other load skews every number.
set -euo pipefail
cd "$(dirname "$0")/.."
PGURL=${TEND_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tend_test?sslmode=disable}
export TEND_TEST_DATABASE_URL=$PGURL
DURATION=${BENCH_SECONDS:-15}

bench() { # package, pattern, benchtime
  go test -run '^$' -bench "$2" -benchtime "$3" -timeout 60m "$1" | grep -E '^Benchmark' || return 1
}

echo "== pgbench -N (scale 10, 16 clients, ${DURATION}s)"
psql -q "$PGURL" -c "drop database if exists tend_pgbench" >/dev/null 2>&1 || true
psql -q "${PGURL/tend_test/postgres}" -c "create database tend_pgbench" >/dev/null 2>&1 || true
BENCHURL=${PGURL/tend_test/tend_pgbench}
pgbench -q -i -s 10 "$BENCHURL" >/dev/null 2>&1
PGBENCH=$(pgbench -N -c 16 -j 2 -T "$DURATION" "$BENCHURL" 2>/dev/null | grep -E "tps|latency average")
echo "$PGBENCH"
psql -q "${PGURL/tend_test/postgres}" -c "drop database tend_pgbench" >/dev/null 2>&1 || true
TPS=$(awk '/^tps/ {printf "%d", $3}' <<<"$PGBENCH")

# With PgBouncer installed, the turn also runs through it in transaction mode
# (BenchmarkTurn/*/pgbouncer; skipped otherwise).
if command -v pgbouncer >/dev/null; then eval "$(scripts/pgbouncer.sh 2>/dev/null)"; fi
echo "== the real answer turn through the web API (sample clinic, serve's modules; 16 senders)"
TURN=$(bench ./internal/cli/ 'BenchmarkTurn/web' "${BENCH_TURN_N:-3000}x")
echo "$TURN"
for st in sqlite postgres; do
  # The latency at half the closed loop's rate, offered at a steady pace.
  HALF=$(awk -v k="web/$st" '$1 ~ k {for (i = 2; i <= NF; i++) if ($i == "msgs/s") printf "%d", $(i-1) / 2}' <<<"$TURN")
  if [ "${HALF:-0}" -gt 0 ]; then
    echo "== web API on $st, open loop at half that: $HALF messages/s offered"
    TEND_BENCH_RATE=$HALF bench ./internal/cli/ "BenchmarkTurn/web/$st" "$((HALF * 10))x"
  fi
done
echo "== webhook to the reply's send at the fake API (open loop): Telegram 25/s and 50/s, WhatsApp 80/s and 160/s"
# Telegram lets a bot send about 30 messages a second and the channel keeps
# under it (25/s): the 50/s run lifts that cap to time the pipeline.
TEND_BENCH_RATE=25 bench ./internal/cli/ 'BenchmarkTurn/telegram' 500x
TEND_BENCH_RATE=50 TEND_BENCH_TELEGRAM_SEND=1000 bench ./internal/cli/ 'BenchmarkTurn/telegram' 1000x
TEND_BENCH_RATE=80 bench ./internal/cli/ 'BenchmarkTurn/whatsapp' 1600x
TEND_BENCH_RATE=160 bench ./internal/cli/ 'BenchmarkTurn/whatsapp' 3200x

echo "== engine only, end to end (16 concurrent senders; the floor), and the webhook's accept step"
bench ./bot/ 'BenchmarkEngine|BenchmarkAccept' "${BENCH_N:-5000}x"
# The issue's target is about a quarter of pgbench -N: the latency at that
# load, offered at a steady rate (internal/loadtest's open loop).
if [ "${TPS:-0}" -gt 0 ]; then
  RATE=$((TPS / 4))
  echo "== engine on PostgreSQL at a quarter of pgbench -N: $RATE messages/s offered"
  TEND_BENCH_RATE=$RATE bench ./bot/ 'BenchmarkEngine/postgres' "$((RATE * 10))x"
fi

echo "== webhooks over loopback HTTP, PostgreSQL"
bench ./channels/telegram/ 'BenchmarkWebhookPostgres/http' 20000x
bench ./channels/whatsapp/ 'BenchmarkWebhook$' 20000x
echo "== what a patient waits for: Telegram webhook to the first reply at the Bot API, 25 messages/s"
bench ./channels/telegram/ 'BenchmarkReplyPostgres' 500x

echo "== knowledge"
bench ./knowledge/ 'BenchmarkIngestMarkdown|BenchmarkResyncUnchanged1000|BenchmarkSearchSQLite' 5x
bench ./dialogs/faq/ 'BenchmarkAskSampleClinic' 2000x
if [ -n "${BENCH_100K:-}" ]; then
  TEND_BENCH_100K=1 TEND_BENCH_SCHEMA=tend_bench100k bench ./knowledge/ 'Postgres100k' 1000x
fi

echo "== booking"
bench ./internal/scheduling/ 'BenchmarkFreeSlots60Days|BenchmarkBookings' 2000x

echo "== tend serve processes: one on SQLite, 1 and 2 replicas on one PostgreSQL (TEND_BENCH_REPLICAS), web API, 16 senders; resident memory idle and under the load"
bench ./internal/e2e/ 'BenchmarkReplicas' "${BENCH_TURN_N:-3000}x"

echo "== idle memory of tend serve (SQLite, sample clinic)"
dir=$(mktemp -d)
go build -o "$dir/tend" .
TEND_DATA_DIR="$dir/data" TEND_ADDR=127.0.0.1:0 TEND_LOG_LEVEL=warn "$dir/tend" serve &
pid=$!
sleep 8
echo "VmRSS: $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MB"}')"
kill -TERM $pid; wait $pid || true
rm -rf "$dir"
