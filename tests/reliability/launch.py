"""Run ``xephang server`` in a child process with test-only knobs taken from the environment.

    python -m tests.reliability.launch --config C --db D --host 127.0.0.1 --port P

``XEPHANG_TEST_AUTH_TIMEOUT`` (seconds) shortens how long an unauthenticated connection may
stay open, so thousands of idle connections can be shown to be closed within a test.
``XEPHANG_TEST_FAIL_COMMIT_AFTER`` (N) makes every database commit after the N-th fail as a
full or broken disk would. Nothing else differs from ``python -m xephang server``.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    import server.app
    from server.cli import main as server_main

    timeout = os.environ.get("XEPHANG_TEST_AUTH_TIMEOUT")
    if timeout:
        server.app.AUTH_TIMEOUT = float(timeout)
    fail_after = os.environ.get("XEPHANG_TEST_FAIL_COMMIT_AFTER")
    if fail_after:
        _break_disk_after(int(fail_after))
    return server_main(sys.argv[1:])


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
