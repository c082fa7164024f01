"""The benchmark's server process: ``xephang server`` with two benchmark settings.

1. The open-files limit is raised (2,000 connections need more than the usual 1,024).
2. The per-connection message budget (30 a second, bursts of 90) is lifted: a simulated
   kiosk issues its next ticket the moment the last one is confirmed, far faster than a
   person can tap, and would otherwise be told "rate_limited". The budget is still
   checked on every message, so its cost stays in the figures.

And one option of its own: ``--clock 2026-12-01T07:00:00+07:00`` starts the server's wall
clock at that moment (it runs on from there at the real pace), so the history phase can
start a server on a generated year's last day or on the morning after it.

Everything else is the real server: the same CLI, store, rules and fan-out.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from bench.procstat import raise_open_files


def lift_message_budget() -> None:
    import server.connections as connections

    real = connections.TokenBucket

    def unlimited(rate: float, burst: float) -> connections.TokenBucket:
        return real(rate=1e9, burst=1e9)

    connections.TokenBucket = unlimited  # type: ignore[assignment,misc]
    if connections.Session(remote="check").bucket.rate < 1e9:  # Session no longer uses the name
        raise SystemExit("bench: cannot lift the per-connection message budget")


def set_clock(start: str) -> None:
    """The wall clock reads ``start`` now and runs on from there (before the server imports it)."""
    import common.clock as clock

    try:
        moment = datetime.fromisoformat(start)
    except ValueError:
        raise SystemExit(f"bench: --clock {start!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise SystemExit(f"bench: --clock {start!r} needs a UTC offset (e.g. +07:00)")
    offset = moment - datetime.now(UTC)

    def shifted() -> datetime:
        return datetime.now(UTC) + offset

    clock.utc_now = shifted


def main(argv: list[str]) -> int:
    raise_open_files()
    lift_message_budget()
    if "--clock" in argv:
        at = argv.index("--clock")
        if at + 1 >= len(argv):
            raise SystemExit("bench: --clock needs a time")
        set_clock(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    from server.cli import main as server_main

    return server_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
