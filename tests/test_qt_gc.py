"""Cyclic garbage is collected on the GUI thread, never on a worker thread that happens to
allocate (see common/qt_gc.py for the deadlock this prevents)."""

from __future__ import annotations

import gc
import threading
from typing import ClassVar

from common.qt_gc import collect_due, collected_on_gui_thread


class _Cycle:
    collected_on: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.collected_on.append(threading.current_thread().name)


def _allocate_past_the_threshold() -> list[list]:
    """More new containers (tracked by the collector) than its first threshold."""
    return [[] for _ in range(gc.get_threshold()[0] * 3)]


def test_a_worker_allocating_does_not_collect_and_the_gui_thread_does(qtbot) -> None:
    _Cycle.collected_on.clear()
    before = gc.isenabled()  # (tests/conftest.py runs every Qt test inside one of these too)
    with collected_on_gui_thread(interval_ms=20):
        assert not gc.isenabled()
        _Cycle()  # garbage only the cyclic collector can free
        worker = threading.Thread(target=_allocate_past_the_threshold, name="printer")
        worker.start()
        worker.join()
        assert _Cycle.collected_on == []  # the worker crossed the threshold and collected nothing
        alive = _allocate_past_the_threshold()  # a collection is due: the GUI thread's timer does it
        qtbot.waitUntil(lambda: _Cycle.collected_on != [], timeout=2000)
        del alive
    assert _Cycle.collected_on == [threading.main_thread().name]
    assert gc.isenabled() == before


def test_without_it_the_worker_thread_collects() -> None:
    """The hazard itself: what the context manager exists to prevent."""
    _Cycle.collected_on.clear()
    assert gc.isenabled()
    gc.collect()
    _Cycle()
    worker = threading.Thread(target=_allocate_past_the_threshold, name="printer")
    worker.start()
    worker.join()
    assert _Cycle.collected_on == ["printer"]


def test_collect_due_collects_only_when_a_generation_is_over_its_threshold() -> None:
    gc.disable()
    try:
        gc.collect()
        assert collect_due() == -1
        alive = _allocate_past_the_threshold()
        assert collect_due() >= 0
        assert collect_due() == -1  # counted again from zero
        del alive
    finally:
        gc.enable()
