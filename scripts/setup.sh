#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian/Ubuntu machine, idempotently:
# PostgreSQL with the pgvector extension (built from Debian's source package when
# vector.so is missing), Chromium for the web-chat browser tests, and a running cluster.
# Every step is skipped when its result already exists, so running it twice is cheap.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { printf 'setup: %s\n' "$*" >&2; }

pg_version() {
  if [ -n "${PG_VERSION:-}" ]; then echo "$PG_VERSION"; return; fi
  ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1
}

# apt's own chatter goes to a log file; its errors still fail the script.
APT_LOG=${TMPDIR:-/tmp}/tend-setup-apt.log
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq >>"$APT_LOG" 2>&1 || { cat "$APT_LOG" >&2; return 1; }; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >>"$APT_LOG" 2>&1 || { tail -50 "$APT_LOG" >&2; return 1; }
}

ensure_postgres() {
  if [ -z "$(pg_version)" ]; then
    log "installing PostgreSQL"
    apt_install postgresql
  fi
}

ensure_pgvector() {
  local v; v=$(pg_version)
  local libdir; libdir=$(/usr/lib/postgresql/"$v"/bin/pg_config --pkglibdir)
  if [ -f "$libdir/vector.so" ]; then return; fi
  log "building pgvector for PostgreSQL $v (vector.so missing)"
  apt_install "postgresql-server-dev-$v" build-essential dpkg-dev
  # Debian's newer release carries pgvector as a source package; the current one does not.
  local src=/etc/apt/sources.list.d/tend-pgvector-src.sources
  if ! apt-cache showsrc pgvector >/dev/null 2>&1 || [ -z "$(apt-cache showsrc pgvector 2>/dev/null)" ]; then
    $SUDO tee "$src" >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    $SUDO apt-get update -qq >>"$APT_LOG" 2>&1
  fi
  local work; work=$(mktemp -d)
  (cd "$work" && apt-get source -qq pgvector >>"$APT_LOG" 2>&1)
  local dir; dir=$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -1)
  make -s -C "$dir" PG_CONFIG=/usr/lib/postgresql/"$v"/bin/pg_config OPTFLAGS="" >>"$APT_LOG" 2>&1
  $SUDO make -s -C "$dir" PG_CONFIG=/usr/lib/postgresql/"$v"/bin/pg_config install >>"$APT_LOG" 2>&1
  rm -rf "$work"
}

ensure_running() {
  local v; v=$(pg_version)
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL $v"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$v" main start || $SUDO pg_ctlcluster "$v" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
}

# The knowledge base's HNSW index must sit in shared_buffers to be searched
# quickly (about 150 MB per 100,000 passages); Debian's default is 128 MB.
# Raised once to TEND_PG_SHARED_BUFFERS (default 1GB) and the cluster
# restarted; left alone when it is already at least that large.
ensure_memory() {
  local want=${TEND_PG_SHARED_BUFFERS:-1GB}
  local psql=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA -d postgres)
  local have; have=$("${psql[@]}" -c "select setting::bigint * 8192 from pg_settings where name = 'shared_buffers'")
  local need; need=$("${psql[@]}" -c "select pg_size_bytes('$want')")
  if [ "$have" -ge "$need" ]; then return; fi
  log "raising PostgreSQL shared_buffers to $want (restart)"
  "${psql[@]}" -c "alter system set shared_buffers = '$want'"
  local v; v=$(pg_version)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$v" main restart || $SUDO pg_ctlcluster "$v" main restart
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
}

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then return; fi
  log "installing Chromium for browser tests"
  apt_install chromium
}

ensure_test_db() {
  local db=${TEND_TEST_DB:-tend_test}
  local psql=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA)
  if ! "${psql[@]}" -d postgres -c "select 1 from pg_database where datname='$db'" | grep -q 1; then
    log "creating database $db"
    "${psql[@]}" -d postgres -c "create database $db"
  fi
  "${psql[@]}" -d "$db" -c "set client_min_messages to warning" -c "create extension if not exists vector"
}

ensure_postgres
ensure_pgvector
ensure_running
ensure_memory
ensure_chromium
ensure_test_db
log "ready: postgres://postgres@127.0.0.1:5432/${TEND_TEST_DB:-tend_test}"
