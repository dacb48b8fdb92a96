#!/usr/bin/env bash
# The release build without cargo-leptos (which takes ~20 minutes to compile on a fresh machine):
# the server binary, the browser half (cargo → wasm-bindgen → wasm-opt), the stylesheet (lightningcss) and the
# static files in target/site, each file also precompressed (.br, .gz) for the server to send.
# It lays the site out exactly as `cargo leptos build --release --precompress` does, except that
# the WASM keeps wasm-bindgen's name (pkg/smart2fa_bg.wasm), which is the name the server
# expects when cargo-leptos did not build it. `make dev` still uses cargo-leptos (watch, reload).
# Usage: .ci/build-site.sh   (prints the time of each step)
#        BUILD_BENCH=1 .ci/build-site.sh   also builds smart2fa-bench in the same cargo run (the
#        benchmarks' binary; one compile of the crate for both instead of two).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# wasm-opt from the npm registry (binaryen, compiled to WebAssembly: nothing to compile here).
WASM_OPT="$PWD/node_modules/.bin/wasm-opt"
[[ -x "$WASM_OPT" ]] || { echo "wasm-opt is missing: run .ci/setup-tools.sh" >&2; exit 1; }

# cargo-leptos sets LEPTOS_* variables that leptos reads at compile time; a build without them
# must not reuse (or leave) artifacts that were compiled with them.
unset LEPTOS_OUTPUT_NAME LEPTOS_SITE_ROOT LEPTOS_SITE_PKG_DIR LEPTOS_HASH_FILES

timed() {
  local what="$1"; shift
  local t0=$EPOCHREALTIME
  "$@"
  printf '\033[1;34m[build]\033[0m %-34s %6.1f s\n' "$what" "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")" >&2
}

site=target/site
staging=target/site.new
rm -rf "$staging"
mkdir -p "$staging/pkg"

if [[ "${BUILD_BENCH:-}" == 1 ]]; then
  timed "server + smart2fa-bench (cargo, release)" \
    cargo build --release --bin smart2fa --bin smart2fa-bench --no-default-features --features ssr,bench --quiet
else
  timed "server (cargo, release)" \
    cargo build --release --bin smart2fa --no-default-features --features ssr --quiet
fi
timed "browser half (cargo, wasm32)" \
  cargo build --lib --target wasm32-unknown-unknown --profile wasm-release \
  --no-default-features --features hydrate --quiet
timed "wasm-bindgen" \
  wasm-bindgen --target web --no-typescript --out-dir "$staging/pkg" --out-name smart2fa \
  target/wasm32-unknown-unknown/wasm-release/smart2fa.wasm
# The features rustc's wasm32 target emits by default; -Oz as cargo-leptos does in release.
timed "wasm-opt -Oz" \
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$staging/pkg/smart2fa_bg.wasm" -o "$staging/pkg/smart2fa_bg.wasm"
# The stylesheet through lightningcss (npm, a prebuilt binary), as cargo-leptos does: prefixed
# for the browsers of Cargo.toml's `browserquery` ("defaults"), minified.
timed "stylesheet (lightningcss)" \
  node_modules/.bin/lightningcss --minify --browserslist style/main.css -o "$staging/pkg/smart2fa.css"
cp -R public/. "$staging/"

precompress() {
  find "$staging" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.svg' \
    -o -name '*.json' -o -name '*.html' \) -print0 \
    | xargs -0 -P 2 -I{} sh -c 'brotli -f -q 11 -k "{}" && gzip -f -9 -k "{}"'
}
timed "precompress (brotli, gzip)" precompress

rm -rf "$site"
mv "$staging" "$site"
wasm_br=$(stat -c %s "$site/pkg/smart2fa_bg.wasm.br")
js_br=$(stat -c %s "$site/pkg/smart2fa.js.br")
printf '\033[1;34m[build]\033[0m site ready in %s: WASM %s KB (%s KB brotli), JS %s KB brotli\n' "$site" \
  "$(( $(stat -c %s "$site/pkg/smart2fa_bg.wasm") / 1024 ))" "$(( wasm_br / 1024 ))" "$(( js_br / 1024 ))" >&2
