# The two commands of the README, and a few helpers. Everything is in .ci/ so CI runs the same.
.PHONY: run test fuzz dev bench bench-search bench-usage bench-scale bench-abuse soak check fmt

## Set up whatever is missing, build a release and run it on SQLite with the demo account.
run:
	@.ci/setup-tools.sh
	@.ci/build-site.sh
	@LEPTOS_ENV=PROD ./target/release/smart2fa serve --demo

## Set up whatever is missing (incl. Chromium and PostgreSQL) and run every test.
test:
	@.ci/test.sh

## API fuzzing alone: Schemathesis against a release server on a fresh SQLite database (also a
## step of `make test`). Extra options for `schemathesis run`: make fuzz FUZZ_ARGS="--seed 1".
fuzz:
	@.ci/setup-tools.sh
	@.ci/build-site.sh
	@.ci/fuzz.sh $(FUZZ_ARGS)

## Benchmark: release server on fresh SQLite, full send → read → verify lifecycles; prints figures.
bench:
	@.ci/bench.sh

## Benchmark: 1 M synthetic OTPs, then the OTPs page (deep pages, filters) and the CSV export.
bench-search:
	@.ci/bench.sh search

## Benchmark: 10 M realistic OTPs over 400 days (smart2fa seed's bulk path), then the usage API.
bench-usage:
	@.ci/bench.sh usage

## Benchmark: one vs two instances on one PostgreSQL behind HAProxy; counts limit overruns and
## duplicate deliveries across instances.
bench-scale:
	@.ci/bench.sh scale

## Benchmark: an honest tenant's latency alone and while another floods slow callbacks, huge
## reports and wrong passwords.
bench-abuse:
	@.ci/bench.sh abuse

## Soak: 10 minutes at 70 % of the measured maximum rate; a line a minute (errors, p99, RSS,
## database growth). BENCH_SOAK_MINUTES, BENCH_SOAK_PERCENT or BENCH_SOAK_RATE tune it.
soak:
	@.ci/bench.sh soak

## Day-to-day: rebuild and reload on every change (debug build).
dev:
	@.ci/setup-tools.sh --dev
	SMART2FA_DEMO=true cargo leptos watch

## Fast feedback while editing: both halves compile, formatting (views too) and lints are clean.
check: leptosfmt
	cargo fmt --check
	leptosfmt --quiet --check src || { echo "view! macros are not formatted: run make fmt" >&2; exit 1; }
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

## Format everything: the `view!` macros (leptosfmt, .leptosfmt.toml), then the rest (rustfmt).
## leptosfmt runs twice: a view it rewraps can need a second pass to settle.
fmt: leptosfmt
	leptosfmt --quiet src
	leptosfmt --quiet src
	cargo fmt

.PHONY: leptosfmt
leptosfmt:
	@command -v leptosfmt >/dev/null || { echo "leptosfmt is missing: cargo install leptosfmt --version 0.1.33 --locked" >&2; exit 1; }
