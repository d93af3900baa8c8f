"""Fixtures of the unit tests that run the pipeline's steps in this process (tests/helpers/pipeline.py)."""

from __future__ import annotations

import sys

import pytest

from compliance.pipeline import launch
from tests.helpers import harness as h


@pytest.fixture
def as_doit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The steps run as under doit's default task: a failed step is reported by the last one."""
    monkeypatch.setattr(sys, "argv", ["doit"])


@pytest.fixture
def fake_launcher(monkeypatch: pytest.MonkeyPatch) -> h.FakeLauncher:
    """The local launcher replaced by one that writes given logs (tests/helpers/harness.py)."""
    found = h.FakeLauncher()
    monkeypatch.setitem(launch.LAUNCHERS, "local", found)
    return found
