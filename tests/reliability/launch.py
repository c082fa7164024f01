"""Run ``xephang server`` in a child process with test-only knobs taken from the environment.

    python -m tests.reliability.launch --config C --db D --host 127.0.0.1 --port P

``XEPHANG_TEST_AUTH_TIMEOUT`` (seconds) shortens how long an unauthenticated connection may
stay open, so thousands of idle connections can be shown to be closed within a test.
``XEPHANG_TEST_FAIL_COMMIT_AFTER`` (N) makes every database commit after the N-th fail as a
full or broken disk would. ``XEPHANG_TEST_CENSUS=1`` adds ``GET /testz/census``: after a full
garbage collection, how many connection objects the server still holds (see ``census``).
Nothing else differs from ``python -m xephang server``.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    import server.connections
    from server.cli import main as server_main

    timeout = os.environ.get("XEPHANG_TEST_AUTH_TIMEOUT")
    if timeout:
        server.connections.AUTH_TIMEOUT = float(timeout)
    if os.environ.get("XEPHANG_TEST_CENSUS") == "1":
        _add_census_route()
    fail_after = os.environ.get("XEPHANG_TEST_FAIL_COMMIT_AFTER")
    if fail_after:
        _break_disk_after(int(fail_after))
    return server_main(sys.argv[1:])


# Per-connection objects: once every connection of a load has closed, their counts must be
# back to what they were before it. A leak of any of them shows as an exact excess, which
# RSS (allocator noise of megabytes) cannot show for a few kilobytes a connection.
CENSUS_TYPES = ("ServerConnection", "Session", "TokenBucket", "_SelectorSocketTransport")


def census(server) -> dict[str, int]:
    """Live (reachable) objects per connection type, the server's own tables, and tasks."""
    import asyncio
    import gc

    gc.collect()
    counts = dict.fromkeys(CENSUS_TYPES, 0)
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in counts:
            counts[name] += 1
    audiences = server.connections.audiences.values()
    return {
        **counts,
        "sessions": len(server.connections.sessions),
        "audience members": sum(len(a.staff) + len(a.kiosks) for a in audiences),
        "watchers": sum(len(w) for a in audiences for w in a.watchers.values()),
        "closing": len(server.connections.closing),
        "tasks": len(asyncio.all_tasks()),
    }


def _add_census_route() -> None:
    from server.http import json_response
    from server.web import routes

    every_page = routes.route_table
    routes.route_table = lambda: {  # type: ignore[assignment]
        **every_page(), "/testz/census": lambda server, request, query: json_response(200, census(server))}


def _break_disk_after(commits: int) -> None:
    import sqlite3

    from server.store import Store

    real_commit = Store.commit
    done = 0

    def commit(self, results):
        nonlocal done
        done += 1
        if done > commits:
            raise sqlite3.OperationalError("database or disk is full")
        return real_commit(self, results)

    Store.commit = commit


if __name__ == "__main__":
    sys.exit(main())
