#!/usr/bin/env bash
# `make bench-scale` (`.ci/bench.sh scale` builds, then runs this): one and then two release
# servers on one PostgreSQL database behind HAProxy (Debian's, round robin), driven by
# `smart2fa-bench loadgen` through the proxy. Prints lifecycles/s and the servers' CPU-ms per
# lifecycle for one and for two instances, then checks the promises that must hold across
# instances and prints what it counted:
#   - exact limits: BENCH_RACE_SENDS (default 600) parallel sends charged on one limit of
#     BENCH_RACE_LIMIT (default 200) through both instances; overruns = accepted - limit;
#   - exactly-once delivery: the sandbox deliveries both instances counted (their /metrics)
#     against the distinct messages in the database; duplicates = counted - distinct.
# BENCH_DATABASE_URL=postgres://… uses that (empty) database; otherwise a fresh database on the
# test server of .ci/postgres.sh (which runs with fsync off: compare runs, not products).
# BENCH_CONCURRENCY (default 64) and BENCH_SECONDS (default 20) tune the load.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null || {
  sudo_=""; [[ $(id -u) -ne 0 ]] && sudo_=sudo
  $sudo_ apt-get install -y -qq haproxy >/dev/null
}
DIR="$(mktemp -d)"
made_db=""
PIDS=()
PROXY_PID=""
cleanup() {
  [[ -n "$PROXY_PID" ]] && kill "$PROXY_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [[ -n "$made_db" ]] && psql "$made_db" -qc "DROP DATABASE IF EXISTS $db_name" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
if [[ -z "${BENCH_DATABASE_URL:-}" ]]; then
  admin="$(.ci/postgres.sh start)"
  db_name="smart2fa_bench_$(date +%s)"
  psql "$admin" -qc "CREATE DATABASE $db_name"
  made_db="$admin"
  BENCH_DATABASE_URL="${admin%/*}/$db_name"
fi
export DATABASE_URL="$BENCH_DATABASE_URL" SMART2FA_DATA_DIR="$DIR/data" LEPTOS_ENV=PROD \
  SMART2FA_LOG_LEVEL=warn SMART2FA_METRICS_TOKEN="bench-$RANDOM$RANDOM"
BIN=./target/release/smart2fa
creds="$($BIN account create --name Bench)"
sid="$(sed -E 's/.*"accountSid":"([^"]+)".*/\1/' <<<"$creds")"
token="$(sed -E 's/.*"authToken":"([^"]+)".*/\1/' <<<"$creds")"
PROXY_PORT="${BENCH_PORT:-3990}"
PORTS=($((PROXY_PORT + 1)) $((PROXY_PORT + 2)))

start_instance() {
  LEPTOS_SITE_ADDR="127.0.0.1:$1" $BIN serve >"$DIR/server-$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server on port $1 did not start:" >&2; cat "$DIR/server-$1.log" >&2; exit 1
}
# (Re)starts HAProxy in front of the first $1 instances.
start_proxy() {
  [[ -n "$PROXY_PID" ]] && { kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; }
  {
    printf 'global\n  maxconn 4096\ndefaults\n  mode http\n  option http-keep-alive\n'
    printf '  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n'
    printf 'frontend bench\n  bind 127.0.0.1:%s\n  default_backend smart2fa\n' "$PROXY_PORT"
    printf 'backend smart2fa\n  balance roundrobin\n'
    for i in $(seq 0 $(($1 - 1))); do printf '  server s%s 127.0.0.1:%s\n' "$i" "${PORTS[$i]}"; done
  } >"$DIR/haproxy.cfg"
  haproxy -db -f "$DIR/haproxy.cfg" >"$DIR/haproxy.log" 2>&1 &
  PROXY_PID=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PROXY_PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "HAProxy did not start:" >&2; cat "$DIR/haproxy.log" >&2; exit 1
}
cpu_ticks() { local t=0; for p in "${PIDS[@]}"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"; }
# One load run through the proxy; prints loadgen's figures and the servers' CPU per lifecycle.
load() {
  local c0 c1 out n secs
  c0="$(cpu_ticks)"
  out="$(./target/release/smart2fa-bench loadgen --url "http://127.0.0.1:$PROXY_PORT" --account "$sid" --token "$token" \
    --concurrency "${BENCH_CONCURRENCY:-64}" --duration "${BENCH_SECONDS:-20}")"
  c1="$(cpu_ticks)"
  echo "$out"
  n="$(sed -nE 's/^lifecycles: ([0-9]+) in.*/\1/p' <<<"$out")"
  secs="$(sed -nE 's/^lifecycles: [0-9]+ in ([0-9.]+) s.*/\1/p' <<<"$out")"
  awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v n="${n:-0}" -v w="${secs:-1}" -v k="${#PIDS[@]}" 'BEGIN {
    printf "servers CPU: %.1f s over %.1f s (%.2f cores for %d instance(s)) = %.3f CPU-ms per lifecycle\n", c / hz, w, c / hz / w, k, (n > 0 ? c * 1000 / hz / n : 0) }'
}
# A metric summed over both instances' /metrics: the series named $1 whose labels match the
# regexes $2 and $3 (both optional).
metric_sum() {
  local total=0 v
  for p in "${PORTS[@]}"; do
    v="$(curl -fs -H "Authorization: Bearer $SMART2FA_METRICS_TOKEN" "http://127.0.0.1:$p/metrics" \
      | awk -v name="$1" -v a="${2:-}" -v b="${3:-}" '($1 == name || index($1, name "{") == 1) && $1 ~ a && $1 ~ b { s += $NF } END { printf "%d", s }')"
    total=$((total + v))
  done
  echo "$total"
}

echo "smart2fa $($BIN --version | awk '{print $2}') on PostgreSQL ($(nproc) cores), sandbox provider, HAProxy $(haproxy -v | awk 'NR == 1 { print $3 }') round robin"
start_instance "${PORTS[0]}"
start_proxy 1
echo "== one instance behind the proxy"
load
start_instance "${PORTS[1]}"
start_proxy 2
echo "== two instances behind the proxy"
load

# Exact limits across instances: one limit, many parallel sends through both instances.
race_limit="${BENCH_RACE_LIMIT:-200}"
race_sends="${BENCH_RACE_SENDS:-600}"
api() { curl -s -u "$sid:$token" -H 'Content-Type: application/json' "$@"; }
api -o /dev/null -X POST "http://127.0.0.1:$PROXY_PORT/2fa/limits" \
  -d "{\"name\": \"race\", \"buckets\": [{\"name\": \"hour\", \"maxOtp\": $race_limit, \"interval\": 3600}]}"
export sid token PROXY_PORT
seq 1 "$race_sends" | xargs -P 64 -I{} sh -c 'curl -s -o /dev/null -w "%{http_code}\n" -u "$sid:$token" \
  -H "Content-Type: application/json" "http://127.0.0.1:$PROXY_PORT/2fa/send" \
  -d "{\"service\": \"Race\", \"to\": \"+1303555$(printf %04d $((1000 + {})))\", \"limits\": {\"race\": \"one-key\"}}"' \
  >"$DIR/race.codes"
accepted="$(grep -c '^200$' "$DIR/race.codes" || true)"
refused="$(grep -c '^429$' "$DIR/race.codes" || true)"
other=$((race_sends - accepted - refused))
echo "limit race: $race_sends parallel sends on a limit of $race_limit through 2 instances: $accepted accepted, $refused refused (429), $other other; overruns: $((accepted > race_limit ? accepted - race_limit : 0))"

# Exactly-once delivery: wait for the queue to drain, then compare both instances' counts of
# sandbox deliveries with the distinct messages the database holds.
for _ in $(seq 1 100); do
  [[ "$(metric_sum smart2fa_delivery_queue_depth)" == 0 ]] && break
  sleep 0.1
done
counted="$(metric_sum smart2fa_deliveries_total 'provider="sandbox"' 'outcome="(delivered|sent)"')"
stored="$(psql "$DATABASE_URL" -Atc 'SELECT COUNT(*) FROM sandbox_messages')"
otps="$(psql "$DATABASE_URL" -Atc 'SELECT COUNT(*) FROM otps')"
echo "delivery: $otps OTPs, $counted sandbox deliveries counted by the instances, $stored distinct messages stored; duplicates: $((counted - stored))"
