#!/usr/bin/env bash
# Starts (once; running it again is harmless) a PgBouncer in transaction
# pooling mode on 127.0.0.1:6439 in front of the database tend_bouncer on the
# test PostgreSQL, and prints the two URLs Tend then takes:
#   DATABASE_URL               through PgBouncer (queries, transaction mode)
#   TEND_DATABASE_SESSION_URL  directly (advisory locks, River's LISTEN)
# as the TEND_BENCH_PGBOUNCER_* variables BenchmarkTurn/*/pgbouncer reads.
# PgBouncer passes no search_path, so the database carries one (schema tend).
set -euo pipefail
PGURL=${TEND_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tend_test?sslmode=disable}
ADMIN=${PGURL/tend_test/postgres}
SESSION=${PGURL/tend_test/tend_bouncer}
PORT=${PGBOUNCER_PORT:-6439}
DIR=${PGBOUNCER_DIR:-/tmp/tend-pgbouncer}
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }

psql -qAt "$ADMIN" -c "select 1 from pg_database where datname = 'tend_bouncer'" | grep -q 1 ||
  psql -q "$ADMIN" -c "create database tend_bouncer" >/dev/null
psql -q "$SESSION" -c "create extension if not exists vector; create schema if not exists tend;
  alter database tend_bouncer set search_path = tend, public" >/dev/null

if ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  mkdir -p "$DIR" && chmod 777 "$DIR"
  HOSTPORT=$(sed -E 's#^postgres(ql)?://([^@]*@)?([^/?]*).*#\3#' <<<"$PGURL")
  cat >"$DIR/pgbouncer.ini" <<INI
[databases]
tend_bouncer = host=${HOSTPORT%:*} port=${HOSTPORT##*:} dbname=tend_bouncer user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
auth_type = trust
auth_file = $DIR/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
unix_socket_dir =
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
INI
  echo '"postgres" ""' >"$DIR/users.txt"
  chmod 644 "$DIR/pgbouncer.ini" "$DIR/users.txt"
  rm -f "$DIR/pgbouncer.log"
  # PgBouncer refuses to run as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- pgbouncer -d "$DIR/pgbouncer.ini"; else pgbouncer -d "$DIR/pgbouncer.ini"; fi
  sleep 1
fi
echo "export TEND_BENCH_PGBOUNCER_URL='postgres://postgres@127.0.0.1:$PORT/tend_bouncer?sslmode=disable'"
echo "export TEND_BENCH_PGBOUNCER_SESSION_URL='$SESSION'"
