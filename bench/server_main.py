"""The benchmark's server process: ``xephang server`` with two benchmark settings.

1. The open-files limit is raised (2,000 connections need more than the usual 1,024).
2. The per-connection message budget (30 a second, bursts of 90) is lifted: a simulated
   kiosk issues its next ticket the moment the last one is confirmed, far faster than a
   person can tap, and would otherwise be told "rate_limited". The budget is still
   checked on every message, so its cost stays in the figures.

Everything else is the real server: the same CLI, store, rules and fan-out.
"""

from __future__ import annotations

import sys

from bench.procstat import raise_open_files


def lift_message_budget() -> None:
    import server.connections as connections

    real = connections.TokenBucket

    def unlimited(rate: float, burst: float) -> connections.TokenBucket:
        return real(rate=1e9, burst=1e9)

    connections.TokenBucket = unlimited  # type: ignore[assignment,misc]
    if connections.Session(remote="check").bucket.rate < 1e9:  # Session no longer uses the name
        raise SystemExit("bench: cannot lift the per-connection message budget")


def main(argv: list[str]) -> int:
    raise_open_files()
    lift_message_budget()
    from server.cli import main as server_main

    return server_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
