"""What the counter state talks to, and the small values it hands around.

The ``Link`` (the connection), the ``SettingsStore`` (what is remembered between runs) and
plain listeners instead of Qt signals, so ``CounterState`` runs without Qt in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from common import protocol as p
from common.client import ClientError, RequestFailed
from common.i18n import Language, Translator


@dataclass(frozen=True)
class Credentials:
    """Held in memory only, so a reconnect can log in and reopen the counter by itself."""

    username: str
    password: str
    site: str | None = None
    counter: int | None = None


@dataclass(frozen=True)
class Notice:
    """One line for the status bar: both languages, so the EN toggle applies to it too."""

    kind: str  # "info" | "error"
    vi: str
    en: str

    def text(self, language: Language) -> str:
        return self.en if language == "en" else self.vi


def error_notice(error: ClientError, tr: Translator) -> Notice:
    """A failed request for the status line: the server's own words, else "no connection"."""
    if isinstance(error, RequestFailed):
        return Notice("error", error.message_vi, error.message_en)
    return Notice("offline", *tr.both("request_offline"))


Callback = Callable[[Any], None]


class Link(Protocol):
    """The connection as the state sees it (``counter.link.ServerLink`` in the app)."""

    def start(self, credentials: Callable[[], Credentials | None]) -> None: ...
    def stop(self) -> None: ...
    def request(self, message: p.ClientMessage, on_result: Callback | None = None,
                on_error: Callback | None = None) -> None: ...


class SettingsStore(Protocol):
    def value(self, key: str) -> str | None: ...
    def set_value(self, key: str, value: str) -> None: ...


class MemorySettings:
    """A settings store in a dict (tests; ``--screenshot`` runs that must not write)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def value(self, key: str) -> str | None:
        return self.values.get(key)

    def set_value(self, key: str, value: str) -> None:
        self.values[key] = value


class Listeners:
    def __init__(self) -> None:
        self._callbacks: list[Callable[..., None]] = []

    def connect(self, callback: Callable[..., None]) -> None:
        self._callbacks.append(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)


def utc_now() -> datetime:
    return datetime.now(UTC)


def resolve_counter(choices: list[p.CounterChoice], site: str | None,
                    number: int | None) -> p.CounterChoice | None:
    """The choice a ``--counter N [--site S]`` names; None when absent or ambiguous."""
    if number is None:
        return None
    found = [c for c in choices if c.number == number and (site is None or c.site == site)]
    return found[0] if len(found) == 1 else None


def replace_choice(choice: p.CounterChoice, **changes: Any) -> p.CounterChoice:
    import msgspec

    return msgspec.structs.replace(choice, **changes)
