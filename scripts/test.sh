#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, Rust unit / integration /
# property / doc tests, the CLI end to end, and the examples.
# The C library and its C / Free Pascal consumers run through
# scripts/test_c.sh (installs valgrind, Free Pascal and pkg-config with apt-get
# when missing), the Python wheel through scripts/test_python.sh (a venv under
# target/), the Windows artefacts through scripts/test_windows.sh (the rustup
# targets, MinGW-w64 and Wine installed when missing; anist.dll x64 and x86 and
# anist.exe cross-built at opt-level 0 and run under Wine; about 6 minutes;
# ANIST_TEST_WINDOWS=0 leaves them out). A throwaway PostgreSQL server
# (scripts/postgres.sh: installed with apt-get when missing, started on
# 127.0.0.1, stopped at the end) serves the shared-backend tests (#19):
# the store conformance suites, the shared jobs, and three worker processes
# on a 20,000-row job (examples/shared_workers.rs). Used as is by .ci/run;
# needs Rust, Python 3 and gcc.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step prints the time since the start, so that the slow ones show.
step() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

# Files a test leaves in the checkout (an output, a journal, an audit trail
# with personal data written to the working directory) fail the run.
untracked() { git status --porcelain --untracked-files=all 2>/dev/null | grep '^??' || true; }
untracked_before=$(untracked)

# Property tests draw their cases from a seed taken from the commit tested
# (its first 15 hex digits), so a run of one commit draws the same cases on
# any machine, and each new commit draws new ones. PROPTEST_RNG_SEED set by
# the caller wins; outside a git checkout each test draws its own seed.
if [ -z "${PROPTEST_RNG_SEED:-}" ] && head=$(git rev-parse HEAD 2>/dev/null); then
    PROPTEST_RNG_SEED=$((16#${head:0:15}))
fi
if [ -n "${PROPTEST_RNG_SEED:-}" ]; then
    export PROPTEST_RNG_SEED
    echo "property tests: PROPTEST_RNG_SEED=$PROPTEST_RNG_SEED (set it to draw these cases again)"
fi

step "PostgreSQL for the shared backend (scripts/postgres.sh)"
pg_dir=$(mktemp -d /tmp/anist-pg.XXXXXX)
stop_pg() { scripts/postgres.sh stop "$pg_dir" || true; rm -rf "$pg_dir"; }
trap stop_pg EXIT
ANIST_TEST_PG_URL=$(scripts/postgres.sh start "$pg_dir")
# The CA of the server's certificate (TLS verification tests).
ANIST_TEST_PG_CA="$pg_dir/ca.pem"
export ANIST_TEST_PG_URL ANIST_TEST_PG_CA
echo "$ANIST_TEST_PG_URL"

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "no module imports a module that imports it back (tools/module_cycles)"
python3 tools/module_cycles/check.py

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked --quiet

step "cargo test (unit, integration, property and doc tests)"
log=$(mktemp)
trap 'rm -f "$log"; stop_pg' EXIT
cargo test --workspace --all-features --locked 2>&1 | tee "$log"
rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
# The PostgreSQL halves ran: none was skipped for want of the server.
if grep -q 'skipped: no PostgreSQL' "$log"; then
    echo "a PostgreSQL test was skipped although the server was started"
    exit 1
fi

step "examples"
cargo run --locked --quiet --example validate_codes
cargo run --locked --quiet --example generate_sample -- --check

step "README command one (anist demo on the sandbox)"
# The release binary and the multi-worker example in one build (one
# feature resolution: the example's dev-dependencies would otherwise make
# a second build of the client).
cargo build --locked --quiet --release --bin anist --example shared_workers
demo_dir=$(mktemp -d)
target/release/anist demo --dir "$demo_dir" --quiet --json > "$demo_dir/summary.json"
grep -q '"rows_total": 5000' "$demo_dir/summary.json"
grep -q '"error": 0' "$demo_dir/summary.json"
rm -rf "$demo_dir"

step "three workers on one 20,000-row job, one killed twice (examples/shared_workers.rs, PostgreSQL)"
# Output byte-identical to one worker's, every row once, no 429, budget
# used >= 90%, shared audit trail verified; exits 1 otherwise.
target/release/examples/shared_workers --rows 20000 --rate 500 --lease 10

step "C and Free Pascal (scripts/test_c.sh: libanist, examples under valgrind, fpc -Mdelphi, C benchmark)"
c_log=$(mktemp)
py_log=$(mktemp)
trap 'rm -f "$log" "$c_log" "$py_log"; stop_pg' EXIT
scripts/test_c.sh 2>&1 | tee "$c_log"
c_line=$(grep -E '^C: [0-9]+ programs passed' "$c_log" | tail -1)

step "Python bindings (scripts/test_python.sh: wheel, pytest, stubtest)"
scripts/test_python.sh 2>&1 | tee "$py_log"
python_passed=$(grep -Eo '^Python: [0-9]+ passed' "$py_log" | tail -1 | awk '{print $2}')

win_line=""
if [ "${ANIST_TEST_WINDOWS:-1}" = 1 ]; then
    step "Windows (scripts/test_windows.sh: anist.dll x64/x86 and anist.exe cross-built, run under Wine)"
    win_log=$(mktemp)
    trap 'rm -f "$log" "$c_log" "$py_log" "$win_log"; stop_pg' EXIT
    scripts/test_windows.sh 2>&1 | tee "$win_log"
    win_line=$(grep -E '^Windows: ' "$win_log" | tail -1)
fi

step "nothing left in the checkout"
left=$(comm -13 <(echo "$untracked_before" | sort) <(untracked | sort))
if [ -n "$left" ]; then
    echo "$left"
    echo "a test left these files in the checkout: write them to a temporary folder"
    exit 1
fi

echo
echo "Rust: ${rust_passed} passed, 0 failed"
echo "Python: ${python_passed} passed, 0 failed"
echo "${c_line}"
if [ -n "$win_line" ]; then echo "$win_line"; fi
echo "Total: $((SECONDS / 60)) min $((SECONDS % 60)) s"
