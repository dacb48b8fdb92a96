#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL server on 127.0.0.1 for the tests and prints its URL.
# Usage: .ci/postgres.sh start|stop. Idempotent. Data lives in $SMART2FA_PG_DIR (default /tmp/smart2fa-pg).
set -euo pipefail
PG_DIR="${SMART2FA_PG_DIR:-/tmp/smart2fa-pg}"
PG_PORT="${SMART2FA_PG_PORT:-55432}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[[ -x "$PG_BIN/pg_ctl" ]] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    if [[ ! -f "$PG_DIR/PG_VERSION" ]]; then
      mkdir -p "$PG_DIR"
      [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$PG_DIR"
      as_pg "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
      as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=300" start >/dev/null
    fi
    # Each test creates its own database; drop those of earlier runs so the disk does not fill.
    for db in $(as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc \
        "SELECT datname FROM pg_database WHERE datname LIKE 'smart2fa_test_%'" postgres); do
      as_pg "$PG_BIN/dropdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
    done
    echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    ;;
  stop)
    if [[ -f "$PG_DIR/PG_VERSION" ]]; then
      as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
