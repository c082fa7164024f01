"""Plain listeners instead of Qt signals, so the apps' state objects run without Qt.

Each state has ``changed = Listeners()``; its views ``changed.connect(redraw)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Listeners:
    def __init__(self) -> None:
        self._callbacks: list[Callable[..., None]] = []

    def connect(self, callback: Callable[..., None]) -> None:
        self._callbacks.append(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)
