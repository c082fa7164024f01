"""Shared fixtures: a real queue server on 127.0.0.1 with a controllable clock."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
from datetime import timedelta

import pytest

from tests.helpers import FakeClock, ServerHarness, ThreadedServer, example_config, local_time


@pytest.fixture(autouse=True)
def _qt_garbage_on_the_gui_thread(request):
    """Qt tests collect garbage as the apps do (common/qt_gc.py): only on the GUI thread,
    and all of a test's at its end, so that no worker thread of this or a later test (the
    kiosk's printer, the display's speech) collects Qt objects and deadlocks with Qt."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("qapp")
    from common.qt_gc import collected_on_gui_thread

    with collected_on_gui_thread():
        yield
    gc.collect()


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


@pytest.fixture
def live_server(tmp_path, clock, config):
    """A real server on a background thread, for Qt tests that cannot await.

    ``live_server.url``; ``live_server.stop()``/``start()`` to simulate an outage (same
    port, same database); ``live_server.call(fn)`` runs ``fn(server)`` on its loop.
    """
    server = ThreadedServer(config, tmp_path / "xephang.db", clock)
    server.start()
    yield server
    server.close()


__all__ = ["timedelta"]


@pytest.fixture
async def receivers():
    """A push service, a Zalo ZNS endpoint and an SMS gateway on 127.0.0.1 (tests/notify_receivers.py)."""
    from tests.notify_receivers import Receivers

    found = Receivers()
    await found.start()
    yield found
    await found.stop()
