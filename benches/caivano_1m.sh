#!/usr/bin/env bash
# Peak memory of `anist caivano` on a 1,000,000-row municipal CSV, against
# `anist sandbox` running in another process on 127.0.0.1 (single calls, so
# that the figure is the client's alone). Prints /usr/bin/time's peak RSS and
# the job summary. Takes a few minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill "${sandbox_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release --quiet --locked
cargo run --release --quiet --locked --example csv_corpus -- 1000000 > "$work/people-1m.csv" 2>/dev/null
target/release/anist sandbox --port 0 --dir "$work/sandbox" > /dev/null 2>&1 &
sandbox_pid=$!
for _ in $(seq 50); do [ -f "$work/sandbox/anist.toml" ] && break; sleep 0.2; done
/usr/bin/time -f 'peak RSS %M KiB, %e s' target/release/anist caivano \
  --config "$work/sandbox/anist.toml" --input "$work/people-1m.csv" --out "$work/esiti.csv" \
  --school-year 2026/2027 --no-massive --concurrency 32 --quiet --json
