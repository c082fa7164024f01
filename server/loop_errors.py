"""The server process's event-loop exception handler: accept() failing for want of file
descriptors (or memory) is one warning without a traceback, not an error with one on every
attempt.

asyncio logs "socket.accept() out of system resource" at ERROR with the full traceback each
time accept() fails with EMFILE, ENFILE, ENOBUFS or ENOMEM, and it tries again every second,
up to 100 times a go: a server out of file descriptors wrote 57 MB of log in 25 s. Here that
is one warning of a fixed wording, which ``common.logs.RepeatFilter`` then writes once per
interval with the number of repeats left out. Everything else goes to asyncio's own handler.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Any

log = logging.getLogger(__name__)

OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def handle_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    if (isinstance(exc, OSError) and exc.errno in OUT_OF_RESOURCES
            and "accept" in str(context.get("message", ""))):
        log.warning("cannot accept connections: %s; retrying every second (out of file "
                    "descriptors? LimitNOFILE in the systemd unit)", exc.strerror or exc)
        return
    loop.default_exception_handler(context)


def install(loop: asyncio.AbstractEventLoop) -> None:
    loop.set_exception_handler(handle_loop_exception)
