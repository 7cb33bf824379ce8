"""The Python half of the error agreement: every sample of the workspace's
error catalogue, raised through the binding's own functions, is of the class
ERRORS.md gives its kind, and its code is listed there with that kind."""

from __future__ import annotations

import pathlib
import re

import anist
import anist._anist

ERRORS_MD = pathlib.Path(__file__).resolve().parents[2] / "ERRORS.md"


def _tables() -> tuple[dict[str, str], dict[str, str]]:
    text = ERRORS_MD.read_text(encoding="utf-8")
    kinds: dict[str, str] = {}
    start = text.index("| kind | what it means | Python class | C status |")
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = line.split("|")
        kinds[cells[1].split("`")[1]] = cells[3].split("`")[1]
    codes = dict(re.findall(r"^\| `([a-z0-9_]+)` \| `([a-z_]+)` \|$", text, re.M))
    return kinds, codes


def test_every_sample_is_of_the_class_of_its_kind() -> None:
    kinds, codes = _tables()
    samples = anist._anist._error_samples()
    assert len(samples) > 200
    seen_classes = set()
    for e in samples:
        assert isinstance(e, anist.AnistError)
        assert codes.get(e.code) == e.kind, e.code
        assert type(e).__name__ == kinds[e.kind], (e.code, e.kind)
        assert getattr(anist, type(e).__name__) is type(e)
        seen_classes.add(type(e).__name__)
    # every class of a kind is reachable from some code
    assert seen_classes == set(kinds.values())


def test_the_class_attributes_come_from_the_error() -> None:
    by_code = {e.code: e for e in anist._anist._error_samples()}
    assert by_code["voucher_throttled"].retry_after == 1.0
    assert by_code["voucher_network"].sent == "no"
    assert by_code["call_not_sent"].sent == "no"
    assert by_code["cf_empty"].position is None or isinstance(by_code["cf_empty"].position, int)
    assert isinstance(by_code["audit_tampered"], anist.AuditError)
    # an exhausted quota says when it resets
    assert by_code["gateway_quota_exceeded"].reset == 3600.0
