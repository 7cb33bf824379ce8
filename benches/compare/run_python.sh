#!/usr/bin/env bash
# Times anist's Python bindings against python-stdnum and
# python-codicefiscale on the same 1M synthetic codes (benches/compare/cf_python.py).
# The peers are installed into a bench-only venv (target/bench-pyvenv); the
# anist wheel is the one scripts/test_python.sh builds (built here if absent).
# Usage: benches/compare/run_python.sh [--n N] [--repeat R]
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
VENV=target/bench-pyvenv
WHEELS=target/wheels-python
STDNUM_VERSION=2.2
CODICEFISCALE_VERSION=0.12.1

if ! ls "$WHEELS"/anist-*.whl >/dev/null 2>&1; then
    [ -x target/pyvenv/bin/maturin ] || {
        "$PYTHON" -m venv target/pyvenv
        target/pyvenv/bin/python -m pip install --quiet "maturin==1.16.0"
    }
    (cd bindings-python && ../target/pyvenv/bin/maturin build --locked --profile wheel \
        --interpreter ../target/pyvenv/bin/python --out "../$WHEELS")
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "python-stdnum==$STDNUM_VERSION" "python-codicefiscale==$CODICEFISCALE_VERSION"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --force-reinstall --no-deps "$WHEELS"/anist-*.whl
"$VENV/bin/python" benches/compare/cf_python.py "$@"
