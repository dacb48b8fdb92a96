#!/usr/bin/env bash
# `make bench`: a release server on a fresh SQLite database, driven by `smart2fa-bench loadgen`
# (send → read the sandbox outbox → verify) on loopback. Prints figures; never fails on time.
# BENCH_CONCURRENCY (default 32) and BENCH_SECONDS (default 20, at most 600) tune the run;
# BENCH_DATABASE_URL=postgres://… runs it on PostgreSQL instead (an empty database);
# BENCH_LIMITS=2 charges two named limits on every send (see `smart2fa-bench loadgen --help`).
#
# `.ci/bench.sh search` (`make bench-search`): instead fills the database with BENCH_OTPS
# synthetic OTPs (default 1 000 000) over BENCH_DAYS days (default 90) and times the OTPs page
# (first page, deep pages by position and by OFFSET, filters) and a full CSV export.
# `.ci/bench.sh usage` (`make bench-usage`): seeds BENCH_OTPS (default 10 000 000) realistic OTPs
# over BENCH_DAYS (default 400) days and times the usage records API, then the Usage and Home
# pages as the server renders them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
.ci/setup-tools.sh
if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  cargo leptos build --release --precompress
  # The load generator and benchmarks: a binary of their own, not part of the server.
  cargo build --release --features ssr,bench --bin smart2fa-bench --quiet
fi
DIR="$(mktemp -d)"
if [[ "${1:-}" == search || "${1:-}" == usage ]]; then
  trap 'rm -rf "$DIR"' EXIT
  # error: the bulk seed's statements are slow by design; their warnings would bury the figures.
  export SMART2FA_DATA_DIR="$DIR/data" LEPTOS_ENV=PROD SMART2FA_LOG_LEVEL=error
  if [[ -n "${BENCH_DATABASE_URL:-}" ]]; then export DATABASE_URL="$BENCH_DATABASE_URL"; else unset DATABASE_URL; fi
  if [[ "$1" == search ]]; then
    ./target/release/smart2fa-bench search --otps "${BENCH_OTPS:-1000000}" --days "${BENCH_DAYS:-90}"
  else
    ./target/release/smart2fa-bench usage --otps "${BENCH_OTPS:-10000000}" --days "${BENCH_DAYS:-400}"
  fi
  exit 0
fi
PORT="${BENCH_PORT:-3990}"
export SMART2FA_DATA_DIR="$DIR/data" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_ENV=PROD SMART2FA_LOG_LEVEL=warn
if [[ -n "${BENCH_DATABASE_URL:-}" ]]; then export DATABASE_URL="$BENCH_DATABASE_URL"; else unset DATABASE_URL; fi
creds="$(./target/release/smart2fa account create --name Bench)"
sid="$(sed -E 's/.*"accountSid":"([^"]+)".*/\1/' <<<"$creds")"
token="$(sed -E 's/.*"authToken":"([^"]+)".*/\1/' <<<"$creds")"
./target/release/smart2fa serve >"$DIR/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
echo "smart2fa $(./target/release/smart2fa --version | awk '{print $2}') on ${BENCH_DATABASE_URL:+PostgreSQL}${BENCH_DATABASE_URL:-SQLite} ($(nproc) cores), sandbox provider" | sed -E 's#postgres://[^ ]*##' 
./target/release/smart2fa-bench loadgen --url "http://127.0.0.1:$PORT" --account "$sid" --token "$token" \
  --concurrency "${BENCH_CONCURRENCY:-32}" --duration "${BENCH_SECONDS:-20}" --limits "${BENCH_LIMITS:-0}"
