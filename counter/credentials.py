"""What the clerk logs in with, held in memory so a reconnect logs in and reopens the
counter by itself, and which counter a ``--counter N [--site S]`` names."""

from __future__ import annotations

from dataclasses import dataclass

from common import protocol as p


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    site: str | None = None
    counter: int | None = None


def resolve_counter(choices: list[p.CounterChoice], site: str | None,
                    number: int | None) -> p.CounterChoice | None:
    """The choice a ``--counter N [--site S]`` names; None when absent or ambiguous."""
    if number is None:
        return None
    found = [c for c in choices if c.number == number and (site is None or c.site == site)]
    return found[0] if len(found) == 1 else None
