"""Shared fixtures: a real queue server on 127.0.0.1 with a controllable clock."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import timedelta  # noqa: E402

import pytest  # noqa: E402

from tests.helpers import FakeClock, ServerHarness, example_config, local_time  # noqa: E402


@pytest.fixture
def clock() -> FakeClock:
    """Wednesday 25 Nov 2026, 08:00 in Hà Nội time: the example centre is issuing."""
    return FakeClock(local_time(2026, 11, 25, 8, 0))


@pytest.fixture
def config():
    return example_config()


@pytest.fixture
async def harness(tmp_path, clock, config):
    """A running server; ``harness.restart()`` stops it and starts a new one on the same db."""
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    yield h
    await h.stop()


__all__ = ["timedelta"]
