#!/usr/bin/env bash
# Fuzzes the /2fa REST API with Schemathesis against a live release server: every operation of
# /2fa/openapi.json, with valid and invalid (bad, boundary) inputs, as one account with valid
# credentials. Fails on any answer that is a 5xx, whose status, content type or body is not the
# one the document gives, or that is an error without the {code, errorCode, message, moreInfo}
# envelope. Findings are fixed in the code, never excluded here.
#
# The server (a fresh SQLite database and account) and Schemathesis run together in a network
# namespace of their own that has only loopback: URLs the fuzzer makes up (status callbacks,
# provider and SMTP hosts) can never reach anything outside this machine.
#
# Needs a release build (.ci/build-site.sh); installs Schemathesis if missing.
# Tuning: FUZZ_MAX_EXAMPLES (per operation and phase), FUZZ_SEED, FUZZ_PORT, SMART2FA_BIN.
# Idempotent; needs no input. Usage: .ci/fuzz.sh [more schemathesis run options, e.g.
#   --include-path /2fa/send --report har]
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[fuzz]\033[0m %s\n' "$*" >&2; }

ST="$(.ci/setup-tools.sh --schemathesis)"
BIN="${SMART2FA_BIN:-./target/release/smart2fa}"
[[ -x "$BIN" ]] || { echo "no release build at $BIN: run .ci/build-site.sh first" >&2; exit 1; }

# Re-run inside a private network namespace with loopback only (as root, or as a user through a
# user namespace). Never run without one: a made-up URL must not reach another machine.
if [[ -z "${FUZZ_IN_NETNS:-}" ]]; then
  userns=(); [[ $(id -u) -ne 0 ]] && userns=(--map-root-user)
  exec env FUZZ_IN_NETNS=1 unshare --net "${userns[@]}" -- "$PWD/.ci/fuzz.sh" "$@"
fi
ip link set lo up
if ip -o link show | grep -v ': lo:' | grep -q .; then
  echo "the fuzzing namespace has a network interface besides loopback: refusing to run" >&2; exit 1
fi

DIR="$(mktemp -d)"
# What the run leaves to read afterwards: the server's log and Schemathesis' report.
OUT="${FUZZ_OUT:-$PWD/target/fuzz}"
mkdir -p "$OUT"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

export SMART2FA_DATA_DIR="$DIR/data"
export LEPTOS_SITE_ADDR="127.0.0.1:${FUZZ_PORT:-3981}"
export LEPTOS_ENV=PROD
unset DATABASE_URL SMART2FA_ALLOW_PRIVATE_OUTBOUND
# Schemathesis also calls every operation without credentials (each must answer 401): more
# than the throttle lets one address fail before it slows down and refuses it.
export SMART2FA_API_AUTH__SLOW_AFTER=1000000 SMART2FA_API_AUTH__REFUSE_AFTER=1000000
BASE="http://$LEPTOS_SITE_ADDR"
created="$("$BIN" account create --name "Fuzz Corp")"
SID="$(sed -E 's/.*"accountSid":"([^"]+)".*/\1/' <<<"$created")"
TOKEN="$(sed -E 's/.*"authToken":"([^"]+)".*/\1/' <<<"$created")"
"$BIN" serve >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 150); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null "$BASE/healthz" || { echo "the server did not start" >&2; tail -40 "$OUT/server.log" >&2; exit 1; }

log "schemathesis $("$ST" --version | awk '{print $NF}') against $BASE/2fa/openapi.json"
start=$SECONDS
status=0
# A hard stop well inside CI's budget, should the run ever hang. Run from $OUT: Schemathesis
# keeps a cache in its working directory.
HOOKS="$PWD/.ci/fuzz_checks.py"
cd "$OUT"
rm -f junit.xml
SCHEMATHESIS_HOOKS="$HOOKS" timeout "${FUZZ_TIMEOUT:-900}" "$ST" run "$BASE/2fa/openapi.json" \
  --auth "$SID:$TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,error_envelope \
  --max-examples "${FUZZ_MAX_EXAMPLES:-100}" \
  ${FUZZ_SEED:+--seed "$FUZZ_SEED"} \
  --workers 2 \
  --request-timeout 20 \
  --generation-database none \
  --no-color \
  --output-truncate false \
  --report junit --report-junit-path "$OUT/junit.xml" "$@" || status=$?
log "took $((SECONDS - start)) s"
# A plain closing line: operations whose checks all passed, and those with findings.
python3 - "$OUT/junit.xml" <<'PY' || true
import sys, xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
print(f"fuzz: {len(cases) - failed} passed, {failed} failed")
PY
if [[ $status -ne 0 ]]; then
  echo "--- server log (last 40 lines; all of it in $OUT/server.log) ---" >&2
  tail -40 "$OUT/server.log" >&2
fi
exit $status
