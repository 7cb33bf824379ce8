"""Every examples/python/*.py runs to completion."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = sorted((REPO / "examples" / "python").glob("*.py"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    run = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip()


def test_examples_type_check() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *map(str, EXAMPLES)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
