#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, Rust unit / integration /
# property / doc tests, the CLI end to end, and the examples.
# The Python wheel (bindings-python) runs through scripts/test_python.sh; the
# C / Free Pascal consumers (bindings-c) join this script when that crate lands.
# Used as is by .ci/run; needs Rust (cargo, rustfmt, clippy) and Python 3.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked --quiet

step "cargo test (unit, integration, property and doc tests)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-features --locked 2>&1 | tee "$log"
rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')

step "examples"
cargo run --locked --quiet --example validate_codes
cargo run --locked --quiet --example generate_sample -- --check

step "README command one (anist demo on the sandbox)"
demo_dir=$(mktemp -d)
cargo run --locked --quiet --release -- demo --dir "$demo_dir" --quiet --json > "$demo_dir/summary.json"
grep -q '"rows_total": 5000' "$demo_dir/summary.json"
grep -q '"error": 0' "$demo_dir/summary.json"
rm -rf "$demo_dir"

step "Python bindings (scripts/test_python.sh: wheel, pytest, stubtest)"
py_log=$(mktemp)
trap 'rm -f "$log" "$py_log"' EXIT
scripts/test_python.sh 2>&1 | tee "$py_log"
python_passed=$(grep -Eo '^Python: [0-9]+ passed' "$py_log" | tail -1 | awk '{print $2}' || true)

echo
echo "Python: ${python_passed:-0} passed, 0 failed"
echo "Rust: ${rust_passed} passed, 0 failed"
