"""Shared fixtures: one sandbox for the client tests (synthetic population)."""

from __future__ import annotations

import pathlib
from typing import Iterator

import pytest

import anist

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[anist.Sandbox]:
    box = anist.Sandbox(seed=7, population=400)
    box.start()
    yield box
    box.close()


@pytest.fixture(scope="session")
def client(sandbox: anist.Sandbox) -> anist.Client:
    return sandbox.start()
