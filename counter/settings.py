"""What the counter app remembers between runs (the last username, counter and outcome,
the language, "always on top"): a small key-value store.

``CounterState`` is handed a ``SettingsStore``: ``QtSettingsStore`` (``counter/app.py``)
in the app, ``MemorySettings`` in tests and in ``--screenshot`` runs, which must not write.
"""

from __future__ import annotations

from typing import Protocol


class SettingsStore(Protocol):
    def value(self, key: str) -> str | None: ...
    def set_value(self, key: str, value: str) -> None: ...


class MemorySettings:
    """A settings store in a dict."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def value(self, key: str) -> str | None:
        return self.values.get(key)

    def set_value(self, key: str, value: str) -> None:
        self.values[key] = value
