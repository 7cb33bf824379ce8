#!/usr/bin/env bash
# Builds the Python wheel (bindings-python, maturin) in a venv under target/
# and runs its pytest suite, which includes `python -m mypy.stubtest anist`
# and the examples/python/*.py scripts. Idempotent; needs only Python >= 3.9
# (3.11 on CI) and Rust. Tool versions are pinned here.
# The wheel under test is built in cargo's `dev` profile (ANIST_WHEEL_PROFILE
# overrides it), so that it reuses the dependencies `cargo test` has just
# built: about 1 minute instead of 8 on CI's two cores. The same sources ship
# in the optimised `wheel` profile (bindings-python/pyproject.toml:
# `maturin build` with no --profile).
# Prints "Python: N passed, M failed" as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=target/pyvenv
WHEELS=target/wheels-python
MATURIN_VERSION=1.16.0
PYTEST_VERSION=9.2.0
MYPY_VERSION=2.4.1

step() { printf '\n==> %s\n' "$*"; }

step "Python venv ($VENV) with maturin $MATURIN_VERSION, pytest $PYTEST_VERSION, mypy $MYPY_VERSION"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin==$MATURIN_VERSION" "pytest==$PYTEST_VERSION" "mypy==$MYPY_VERSION"

profile=${ANIST_WHEEL_PROFILE:-dev}
step "maturin build (profile $profile)"
rm -rf "$WHEELS"
start=$(date +%s)
(cd bindings-python && "../$VENV/bin/maturin" build --locked --profile "$profile" \
    --interpreter "../$VENV/bin/python" --out "../$WHEELS")
echo "wheel built in $(( $(date +%s) - start )) s"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --force-reinstall --no-deps "$WHEELS"/anist-*.whl

step "pytest (bindings-python/tests)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
"$VENV/bin/python" -m pytest bindings-python/tests -q -p no:cacheprovider 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | awk '{print $1}' || true)
failed=$(grep -Eo '[0-9]+ failed' "$log" | tail -1 | awk '{print $1}' || true)
echo
echo "Python: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
