"""Side by side, in one run, on the same synthetic codes (default 1,000,000):

- ``anist.is_valid_cf`` called in a Python loop,
- ``anist.validate_cf_many`` on the whole list (one call),
- python-stdnum's ``stdnum.it.codicefiscale.is_valid`` in a Python loop,
- python-codicefiscale's ``codicefiscale.codicefiscale.is_valid`` in a loop.

The corpus is ``anist.synthetic_codes(n, seed, mixed=True)``: 80% valid, 5%
valid omocodic, 15% invalid of several kinds (invented people only). Run by
``benches/compare/run_python.sh``; figures go to benches/README.md.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable, List, Optional

import anist


def timed(label: str, n: int, fn: Callable[[], int], repeat: int) -> None:
    best = float("inf")
    valid = 0
    for _ in range(repeat):
        start = time.perf_counter()
        valid = fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<44} {best * 1000:10.1f} ms  {n / best:13,.0f} codes/s  ({valid} valid)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    codes: List[str] = anist.synthetic_codes(args.n, seed=args.seed, mixed=True)
    n = len(codes)
    print(f"{n} codes (anist {anist.__version__}), best of {args.repeat}")

    is_valid = anist.is_valid_cf
    timed("anist.is_valid_cf (Python loop)", n, lambda: sum(1 for c in codes if is_valid(c)), args.repeat)

    def batch() -> int:
        return sum(1 for r in anist.validate_cf_many(codes) if r is None)

    timed("anist.validate_cf_many (one call)", n, batch, args.repeat)

    stdnum_valid: Optional[Callable[[str], bool]]
    try:
        from stdnum.it import codicefiscale as stdnum_cf

        stdnum_valid = stdnum_cf.is_valid
    except ImportError:
        stdnum_valid = None
    if stdnum_valid is not None:
        f = stdnum_valid
        timed("python-stdnum it.codicefiscale.is_valid", n, lambda: sum(1 for c in codes if f(c)), 1)
    else:
        print("python-stdnum not installed: skipped")

    try:
        from codicefiscale import codicefiscale as pcf

        g = pcf.is_valid
        timed("python-codicefiscale is_valid", n, lambda: sum(1 for c in codes if g(c)), 1)
    except ImportError:
        print("python-codicefiscale not installed: skipped")


if __name__ == "__main__":
    main()
