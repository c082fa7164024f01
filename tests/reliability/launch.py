"""Run ``xephang server`` in a child process with test-only knobs taken from the environment.

    python -m tests.reliability.launch --config C --db D --host 127.0.0.1 --port P

``XEPHANG_TEST_AUTH_TIMEOUT`` (seconds) shortens how long an unauthenticated connection may
stay open, so thousands of idle connections can be shown to be closed within a test. Nothing
else differs from ``python -m xephang server``.
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
    return server_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
