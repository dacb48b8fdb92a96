#!/usr/bin/env bash
# Installs the build tools smart2fa needs, skipping whatever is already there.
# Idempotent and quiet when nothing is missing.
# Usage: .ci/setup-tools.sh [--test|--dev|--schemathesis]
#   --test          also installs what the test suite needs (Chromium, PostgreSQL, Playwright,
#                   python3 with aiosmtpd plus openssl for the SMTP server the email tests talk
#                   to, and Schemathesis for the API fuzzing of .ci/fuzz.sh).
#   --dev           also installs cargo-leptos (`make dev`: watch and reload; ~20 min to compile,
#                   so the release build of `make run` and `make test` does without it).
#   --schemathesis  only installs Schemathesis (in a virtualenv of its own, outside the clone so
#                   a fresh clone reuses it) and prints the path of its command.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
CARGO_LEPTOS_VERSION=0.3.11
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1
want_dev=0
[[ "${1:-}" == "--dev" ]] && want_dev=1

# Schemathesis (PyPI), pinned, in its own virtualenv: it brings many packages that must not
# meet the system's or aiosmtpd's.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/smart2fa/schemathesis-$SCHEMATHESIS_VERSION"
schemathesis_install() {
  local st="$SCHEMATHESIS_VENV/bin/schemathesis"
  if ! ("$st" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"); then
    command -v python3 >/dev/null || apt_install python3
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    log "pip install schemathesis==$SCHEMATHESIS_VERSION (API fuzzing) into $SCHEMATHESIS_VENV"
    rm -rf "$SCHEMATHESIS_VENV"
    python3 -m venv "$SCHEMATHESIS_VENV"
    "$SCHEMATHESIS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      "schemathesis==$SCHEMATHESIS_VERSION" >&2
  fi
  echo "$st"
}

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "apt-get install ${missing[*]}"
  local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  if [[ $apt_updated -eq 0 ]]; then $sudo apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

if [[ "${1:-}" == "--schemathesis" ]]; then schemathesis_install; exit 0; fi

# System packages first (fast), so a parallel cargo build is not starved later.
# brotli and gzip precompress the site (.ci/build-site.sh).
apt_install pkg-config libssl-dev brotli
if [[ $want_test -eq 1 ]]; then
  apt_install chromium fonts-dejavu-core postgresql
  command -v openssl >/dev/null || apt_install openssl
  command -v python3 >/dev/null || apt_install python3
  # The email tests start a real SMTP server (src/tests/smtp_server.py) on aiosmtpd.
  if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    log "pip install --user aiosmtpd==1.4.6 (the SMTP server of the email tests)"
    # Debian's own python3 refuses --user installs (PEP 668) unless told it may.
    python3 -m pip install --user --quiet aiosmtpd==1.4.6 2>/dev/null \
      || python3 -m pip install --user --quiet --break-system-packages aiosmtpd==1.4.6
  fi
  schemathesis_install >/dev/null
fi

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >/dev/null
fi

if ! (command -v wasm-bindgen >/dev/null && wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION"); then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (compiles from source, ~10 min)"
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --locked --quiet 2>/dev/null \
    || cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --quiet
fi

if [[ $want_dev -eq 1 ]] && ! (command -v cargo-leptos >/dev/null && cargo-leptos --version | grep -q "$CARGO_LEPTOS_VERSION"); then
  if ! rustup toolchain list | grep -q '^nightly'; then
    log "rustup toolchain install nightly (cargo-leptos needs a newer rustc than stable)"
    rustup toolchain install nightly --profile minimal >/dev/null
  fi
  log "cargo +nightly install cargo-leptos $CARGO_LEPTOS_VERSION (compiles from source, ~20 min)"
  cargo +nightly install cargo-leptos --version "=$CARGO_LEPTOS_VERSION" --locked --quiet 2>/dev/null \
    || cargo +nightly install cargo-leptos --version "=$CARGO_LEPTOS_VERSION" --quiet
fi

# npm packages: ECharts (copied to public/vendor by postinstall), binaryen's wasm-opt (compiled
# to WebAssembly, so nothing to compile here), and Playwright.
if [[ -f package.json ]] && [[ ! -f public/vendor/echarts.min.js || ! -x node_modules/.bin/wasm-opt || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci (ECharts, wasm-opt)"
  npm ci --no-audit --no-fund --silent >/dev/null
fi
if [[ $want_test -eq 1 && -f end2end/package.json ]] && [[ ! -d end2end/node_modules/@playwright/test || end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
  log "npm ci in end2end (Playwright; no browser download)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent >/dev/null)
fi
exit 0
