#!/usr/bin/env bash
# The README's test command: installs what is missing (tools, Chromium, PostgreSQL, npm
# packages), starts PostgreSQL, runs every test (unit + HTTP on SQLite and PostgreSQL, the WASM
# leak guard, Playwright against a release build with and without JavaScript, Schemathesis
# fuzzing the REST API of that release build), stops what it started. Idempotent; needs no input.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# A clean clone builds once: incremental caches would only cost disk and time there.
if [[ "${CI:-}" == "true" ]]; then export CARGO_INCREMENTAL=0; fi
step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*"; }

step "tools"
.ci/setup-tools.sh --test

step "PostgreSQL (throwaway server on 127.0.0.1)"
export SMART2FA_TEST_DATABASE_URL="$(.ci/postgres.sh start)"
SERVER_PID=""
SMTP_PID=""
E2E_DIR=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [[ -n "$SMTP_PID" ]] && kill "$SMTP_PID" 2>/dev/null && wait "$SMTP_PID" 2>/dev/null || true
  [[ -n "$E2E_DIR" ]] && rm -rf "$E2E_DIR"
  .ci/postgres.sh stop || true
}
trap cleanup EXIT

step "WASM leak guard: the browser build compiles without any server dependency"
cargo check --lib --target wasm32-unknown-unknown --no-default-features --features hydrate --quiet
leaked="$(cargo tree -e normal --target wasm32-unknown-unknown --no-default-features --features hydrate --prefix none \
  | awk '{print $1}' | sort -u \
  | grep -xE 'sqlx|sqlx-core|axum|leptos_axum|tokio|tower-sessions|argon2|figment|tracing-subscriber|clap|hyper' || true)"
if [[ -n "$leaked" ]]; then
  echo "server-only crates reached the WASM build:" >&2; echo "$leaked" >&2; exit 1
fi
echo "no server crate in the hydrate build"

step "unit and HTTP tests (SQLite and PostgreSQL), the store contract, the benchmarks' own code"
cargo test --features ssr,bench

step "release build (server, WASM through wasm-bindgen and wasm-opt, stylesheet, precompressed)"
.ci/build-site.sh

step "end-to-end (Playwright in Chromium, with and without JavaScript)"
E2E_DIR="$(mktemp -d)"
export SMART2FA_DATA_DIR="$E2E_DIR/data"
export LEPTOS_SITE_ADDR="127.0.0.1:${E2E_PORT:-3917}"
export LEPTOS_ENV=PROD
export BASE_URL="http://$LEPTOS_SITE_ADDR"
unset DATABASE_URL
export E2E_ACCOUNT_NAME="E2E Test Corp"
export E2E_EMAIL="admin@e2e.example.com"
export E2E_PASSWORD="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
created="$(SMART2FA_ADMIN_PASSWORD="$E2E_PASSWORD" ./target/release/smart2fa account create \
  --name "$E2E_ACCOUNT_NAME" --admin-email "$E2E_EMAIL")"
export E2E_ACCOUNT_SID="$(sed -E 's/.*"accountSid":"([^"]+)".*/\1/' <<<"$created")"
export E2E_AUTH_TOKEN="$(sed -E 's/.*"authToken":"([^"]+)".*/\1/' <<<"$created")"
# One email with the same password in two accounts: sign-in asks which account to open.
export E2E_MULTI_EMAIL="multi@e2e.example.com"
export E2E_MULTI_PASSWORD="multi-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
for name in "Multi One" "Multi Two"; do
  created="$(SMART2FA_ADMIN_PASSWORD="$E2E_MULTI_PASSWORD" ./target/release/smart2fa account create \
    --name "$name" --admin-email "$E2E_MULTI_EMAIL")"
done
export E2E_MULTI_SID2="$(sed -E 's/.*"accountSid":"([^"]+)".*/\1/' <<<"$created")"
# A real SMTP server on loopback (with AUTH) for Settings → Channels; the server may reach it
# because this operator allows private addresses.
export E2E_SMTP_DIR="$E2E_DIR/mailbox"
export E2E_SMTP_USER="e2e-mailer"
export E2E_SMTP_PASSWORD="smtp-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$E2E_SMTP_DIR"
python3 src/tests/smtp_server.py --dir "$E2E_SMTP_DIR" --port 0 --mode plain \
  --user "$E2E_SMTP_USER" --password "$E2E_SMTP_PASSWORD" >"$E2E_DIR/smtp.out" 2>"$E2E_DIR/smtp.log" &
SMTP_PID=$!
for _ in $(seq 100); do
  grep -q '^LISTENING' "$E2E_DIR/smtp.out" 2>/dev/null && break
  kill -0 "$SMTP_PID" 2>/dev/null || { cat "$E2E_DIR/smtp.log" >&2; exit 1; }
  sleep 0.2
done
export E2E_SMTP_PORT="$(awk '/^LISTENING/ {print $3; exit}' "$E2E_DIR/smtp.out")"
[[ -n "$E2E_SMTP_PORT" ]] || { echo "the test SMTP server did not start" >&2; cat "$E2E_DIR/smtp.log" >&2; exit 1; }
export SMART2FA_ALLOW_PRIVATE_OUTBOUND=true
./target/release/smart2fa serve >"$E2E_DIR/server.log" 2>&1 &
SERVER_PID=$!
if ! (cd end2end && npx playwright test); then
  echo "--- server log (last 50 lines) ---" >&2; tail -50 "$E2E_DIR/server.log" >&2; exit 1
fi

step "API fuzzing (Schemathesis against the release server: every operation, bad and boundary inputs)"
.ci/fuzz.sh
