#!/usr/bin/env bash
# `anist anpr massiva` on 20,000 synthetic codici fiscali (C030 massivo):
# once against the in-process sandbox (prints the token requests the
# sandbox answered), once against `anist sandbox` in another process on
# 127.0.0.1 (the peak RSS is then the client's alone). PROFILE=debug uses
# the debug build (no release build needed).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
flag=$([ "$profile" = release ] && echo --release || true)
work=$(mktemp -d)
trap 'kill "${sandbox_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build $flag --quiet --locked -p anist --bin anist --example csv_corpus
"target/$profile/examples/csv_corpus" 20000 > "$work/people.csv" 2>/dev/null
bin="target/$profile/anist"
common=(anpr massiva --input "$work/people.csv" --motivo "prot. 1/2026" --poll-seconds 0.5 --json)
echo "in-process sandbox:"
/usr/bin/time -f 'peak RSS %M KiB, %e s (client and sandbox)' "$bin" "${common[@]}" \
  --out "$work/a.csv" --audit "$work/a-audit.sqlite" --ids "$work/a-ids.sqlite" || true
"$bin" sandbox --port 0 --dir "$work/sandbox" > /dev/null 2>&1 &
sandbox_pid=$!
for _ in $(seq 50); do [ -f "$work/sandbox/anist.toml" ] && break; sleep 0.2; done
echo "sandbox in another process:"
/usr/bin/time -f 'peak RSS %M KiB, %e s (client only)' "$bin" "${common[@]}" \
  --config "$work/sandbox/anist.toml" \
  --out "$work/b.csv" --audit "$work/b-audit.sqlite" --ids "$work/b-ids.sqlite" || true
