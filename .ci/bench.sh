#!/usr/bin/env bash
# `make bench`: a release server on a fresh SQLite database, driven by `smart2fa-bench loadgen`
# (send → read the sandbox outbox → verify) on loopback. Prints figures; never fails on time.
# BENCH_CONCURRENCY (default 32) and BENCH_SECONDS (default 20, at most 600) tune the run;
# BENCH_DATABASE_URL=postgres://… runs it on PostgreSQL instead (an empty database);
# BENCH_LIMITS=2 charges two named limits on every send (see `smart2fa-bench loadgen --help`);
# BENCH_HEAPTRACK=1 runs the server under heaptrack and prints where its memory was at the peak;
# BENCH_PROFILE=1 samples the server with perf (Debian's linux-perf) during the run and prints
# the functions where its CPU time goes (self time, top 25).
#
# `.ci/bench.sh search` (`make bench-search`): instead fills the database with BENCH_OTPS
# synthetic OTPs (default 1 000 000) over BENCH_DAYS days (default 90) and times the OTPs page
# (first page, deep pages by position and by OFFSET, filters) and a full CSV export.
# `.ci/bench.sh usage` (`make bench-usage`): seeds BENCH_OTPS (default 10 000 000) realistic OTPs
# over BENCH_DAYS (default 400) days and times the usage records API, then the Usage and Home
# pages as the server renders them.
# `.ci/bench.sh scale` (`make bench-scale`): one vs two instances on PostgreSQL behind HAProxy,
# with exact limits and exactly-once delivery counted (see .ci/bench-scale.sh).
# `.ci/bench.sh abuse` (`make bench-abuse`): an honest tenant's lifecycles alone, then while
# another tenant (with BENCH_ABUSE_OTPS, default 1 000 000, OTPs of history over 1 000 days)
# floods slow status callbacks, the largest usage reports and wrong console passwords; prints
# both tenants' figures and the server's peak RSS (BENCH_SECONDS per phase, default 20).
# `.ci/bench.sh soak` (`make soak`): measures the maximum rate for 10 s (concurrency 32), then
# runs BENCH_SOAK_MINUTES (default 10, at most 60) at BENCH_SOAK_PERCENT (default 70) % of it
# (or at BENCH_SOAK_RATE lifecycles/s) and prints a line a minute: lifecycles, errors, p99,
# server RSS and database file growth, then the whole run's figures.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
.ci/setup-tools.sh
if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  # The load generator and benchmarks: a binary of their own, not part of the server, built
  # in the same cargo run as the server.
  BUILD_BENCH=1 .ci/build-site.sh
fi
if [[ "${1:-}" == scale ]]; then exec .ci/bench-scale.sh; fi
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
if [[ "${1:-}" == abuse ]]; then
  abuser_email="abuser@bench.example.com"
  abuser="$(SMART2FA_ADMIN_PASSWORD="abuser-$RANDOM$RANDOM$RANDOM" ./target/release/smart2fa account create \
    --name Abuser --admin-email "$abuser_email")"
  abuser_sid="$(sed -E 's/.*"accountSid":"([^"]+)".*/\1/' <<<"$abuser")"
  abuser_token="$(sed -E 's/.*"authToken":"([^"]+)".*/\1/' <<<"$abuser")"
  SMART2FA_LOG_LEVEL=error ./target/release/smart2fa seed --account "$abuser_sid" \
    --otps "${BENCH_ABUSE_OTPS:-1000000}" --days 1000 >/dev/null
  # The slow callback receiver is on loopback: this operator allows it.
  export SMART2FA_ALLOW_PRIVATE_OUTBOUND=true
fi
if [[ "${BENCH_HEAPTRACK:-}" == 1 ]]; then
  # Where the server's memory goes: every allocation recorded by heaptrack (Debian's), and at
  # the end the call stacks that held the most at the peak. Slows the server: figures of such a
  # run are for memory only.
  command -v heaptrack >/dev/null || { sudo_="" ; [[ $(id -u) -ne 0 ]] && sudo_=sudo; $sudo_ apt-get install -y -qq heaptrack >/dev/null; }
  heaptrack -o "$DIR/heap" ./target/release/smart2fa serve >"$DIR/server.log" 2>&1 &
  WRAPPER=$!
  trap 'kill $PID 2>/dev/null; wait $WRAPPER 2>/dev/null; echo "where the memory was at its peak (heaptrack):"; heaptrack_print -f "$DIR"/heap.*zst -p 1 -a 0 -T 0 -n 6 -s 3 2>/dev/null | grep -v -e "^\s*$" -e "^\s*in /" | sed -n 1,150p; rm -rf "$DIR"' EXIT
else
  ./target/release/smart2fa serve >"$DIR/server.log" 2>&1 &
  PID=$!
  trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
fi
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
# Under heaptrack the measured process is the server the wrapper started.
if [[ "${BENCH_HEAPTRACK:-}" == 1 ]]; then PID="$(pgrep -n -f 'smart2fa serve$')"; fi
echo "smart2fa $(./target/release/smart2fa --version | awk '{print $2}') on ${BENCH_DATABASE_URL:+PostgreSQL}${BENCH_DATABASE_URL:-SQLite} ($(nproc) cores), sandbox provider" | sed -E 's#postgres://[^ ]*##' 
# CPU time and memory from /proc: the server's CPU seconds over the run, and from it the CPU
# milliseconds one lifecycle costs (less tied to the machine than throughput; compare runs of one machine).
ticks="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
idle_rss="$(rss_kb "$PID" VmRSS)"
cpu0="$(cpu_ticks "$PID")"
if [[ "${1:-}" == abuse ]]; then
  ./target/release/smart2fa-bench abuse --url "http://127.0.0.1:$PORT" --account "$sid" --token "$token" \
    --abuser-account "$abuser_sid" --abuser-token "$abuser_token" --abuser-email "$abuser_email" \
    --duration "${BENCH_SECONDS:-20}" --watch-pid "$PID"
  exit 0
fi
if [[ "${1:-}" == soak ]]; then
  rate="${BENCH_SOAK_RATE:-}"
  if [[ -z "$rate" ]]; then
    max="$(./target/release/smart2fa-bench loadgen --url "http://127.0.0.1:$PORT" --account "$sid" --token "$token" \
      --concurrency 32 --duration 10 | sed -nE 's/^lifecycles: [0-9]+ in [0-9.]+ s = ([0-9]+)\/s.*/\1/p')"
    rate="$(( ${max:-0} * ${BENCH_SOAK_PERCENT:-70} / 100 ))"
    echo "maximum: ${max:-?} lifecycles/s over 10 s; soaking at ${BENCH_SOAK_PERCENT:-70} % = $rate/s"
  fi
  minutes="${BENCH_SOAK_MINUTES:-10}"
  (( minutes >= 1 && minutes <= 60 )) || { echo "BENCH_SOAK_MINUTES must be 1–60" >&2; exit 2; }
  watch=()
  [[ -z "${BENCH_DATABASE_URL:-}" ]] && watch=(--watch-file "$DIR/data/smart2fa.db" --watch-file "$DIR/data/smart2fa.db-wal")
  ./target/release/smart2fa-bench loadgen --url "http://127.0.0.1:$PORT" --account "$sid" --token "$token" \
    --concurrency 64 --duration "$(( minutes * 60 ))" --rate "$rate" --every 60 --watch-pid "$PID" "${watch[@]}"
  exit 0
fi
PERF_PID=""
if [[ "${BENCH_PROFILE:-}" == 1 ]]; then
  command -v perf >/dev/null || { sudo_="" ; [[ $(id -u) -ne 0 ]] && sudo_=sudo; $sudo_ apt-get install -y -qq linux-perf >/dev/null; }
  perf record -q -F 999 -p "$PID" -o "$DIR/perf.data" 2>"$DIR/perf.log" &
  PERF_PID=$!
fi
TIMEFORMAT='%U %S %R'
{ time ./target/release/smart2fa-bench loadgen --url "http://127.0.0.1:$PORT" --account "$sid" --token "$token" \
  --concurrency "${BENCH_CONCURRENCY:-32}" --duration "${BENCH_SECONDS:-20}" --limits "${BENCH_LIMITS:-0}" \
  | tee "$DIR/loadgen.out" ; } 2>"$DIR/loadgen.time"
cpu1="$(cpu_ticks "$PID")"
peak_rss="$(rss_kb "$PID" VmHWM)"
done_n="$(sed -nE 's/^lifecycles: ([0-9]+) in.*/\1/p' "$DIR/loadgen.out")"
read -r lg_user lg_sys lg_wall < <(tail -n 1 "$DIR/loadgen.time")
awk -v t0="$cpu0" -v t1="$cpu1" -v hz="$ticks" -v n="${done_n:-0}" -v u="$lg_user" -v s="$lg_sys" \
    -v w="$lg_wall" -v idle="$idle_rss" -v peak="$peak_rss" -v cores="$(nproc)" 'BEGIN {
  cpu = (t1 - t0) / hz
  printf "server CPU: %.1f s over %.1f s (%.2f of %d cores) = %.3f CPU-ms per lifecycle\n", cpu, w, cpu / w, cores, (n > 0 ? cpu * 1000 / n : 0)
  printf "load generator CPU: %.1f s (%.2f cores, %.0f%% of the machine)\n", u + s, (u + s) / w, 100 * (u + s) / w / cores
  printf "server RSS: %.1f MB idle, %.1f MB peak\n", idle / 1024, peak / 1024
}'
if [[ -n "$PERF_PID" ]]; then
  kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true
  echo "where the server's CPU time goes (perf, self time by function; BENCH_PROFILE=1):"
  perf report -i "$DIR/perf.data" --stdio --no-children --sort ${BENCH_PROFILE_SORT:-dso,symbol} --percent-limit 0.7 2>/dev/null \
    | grep -E '^ +[0-9]' | head -n 25 | sed -E 's/ +/ /g; s/^ //'
fi
