"""From a worker thread back to the Qt thread: the one bridge every app uses.

The websocket thread (``common/qt_client.py``), the kiosk's printer thread and the
display's speech thread hand their results to a ``QtBridge`` created on the Qt thread; it
runs them there, in order, through a signal that Qt queues when it is emitted from another
thread (called on the Qt thread itself, it runs at once). So no state object or widget
ever sees a second thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot


class QtBridge(QObject):
    """Runs callables on the thread this object lives in (thread-safe to call from any)."""

    _posted = Signal(object, object)  # callback, argument

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._posted.connect(self._run)  # queued across threads, direct on its own

    def deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        """``callback(value)`` on the Qt thread."""
        self._posted.emit(callback, value)

    def post(self, fn: Callable[[], None]) -> None:
        """``fn()`` on the Qt thread."""
        self._posted.emit(_call, fn)

    @Slot(object, object)
    def _run(self, callback: Callable[[Any], None], value: Any) -> None:
        callback(value)


def _call(fn: Callable[[], None]) -> None:
    fn()
