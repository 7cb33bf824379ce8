"""Shared fixtures: one sandbox for the client tests (synthetic population)."""

from __future__ import annotations

import pathlib
from typing import Iterator

import pytest

import anist

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own folder: the default audit trail
    (`anist-audit.sqlite` in the working directory) lands there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[anist.Sandbox]:
    audit = tmp_path_factory.mktemp("audit") / "audit.sqlite"
    box = anist.Sandbox(seed=7, population=400, audit=audit)
    box.start()
    yield box
    box.close()


@pytest.fixture(scope="session")
def client(sandbox: anist.Sandbox) -> anist.Client:
    return sandbox.start()
