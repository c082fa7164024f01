"""Reports, exports and forecasts run in a process of their own, at a lower CPU priority.

A year's report is seconds of SQL and of Python (percentiles, spreadsheets). On the
server's own threads that Python holds the interpreter lock against the event loop, and the
SQL's helper functions take it back once per row: a kiosk's ticket waited behind a manager's
report (issue 15 measured a median of 1 s). In another process the queue and the report
share only the CPU, and the report's process is ``nice``: the operating system gives the
queue the cores first.

The process starts with the first report (most servers never run one in a day) and reads
through a read-only connection (WAL: it sees what was committed, and never blocks a
commit). One report at a time; up to ``MAX_WAITING`` more wait their turn, beyond that a
caller gets ``ReportsBusy`` at once instead of a page that never comes.

A job is a module-level function ``fn(connection, *args)`` with arguments that pickle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from common.errors import ServerError

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_WAITING = 16  # jobs queued behind the running one before callers are turned away
NICENESS = 10  # the report process's priority below the server's


class ReportsBusy(ServerError):
    """Too many reports are waiting already: try again in a moment."""


class ReportProcess:
    """One worker process for heavy read-only work (see the module docstring)."""

    def __init__(self, db_path: str, *, max_waiting: int = MAX_WAITING) -> None:
        self.db_path = db_path
        self.max_waiting = max_waiting
        self._pool: ProcessPoolExecutor | None = None
        self._pending = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` in the report process; raises ReportsBusy when full."""
        if self._pending > self.max_waiting:
            raise ReportsBusy(f"{self._pending} reports are running or waiting")
        self._pending += 1
        try:
            try:
                future = self._executor().submit(_call, fn, args)
            except BrokenProcessPool:  # the process died (killed, out of memory): start anew
                self._discard()
                future = self._executor().submit(_call, fn, args)
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                log.error("the report process stopped during a report; it restarts with the next one")
                self._discard()
                raise
        finally:
            self._pending -= 1

    def warm(self) -> None:
        """Start the process now, in the background, so the first report does not wait for
        it (a second or so of start-up and imports; the production server does this once it
        listens)."""
        self._executor().submit(_call, _nothing, ())

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, never fork: the server has threads (and their locks) a fork would copy.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context,
                                             initializer=_open, initargs=(self.db_path,))
        return self._pool

    def _discard(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        """Stop the process; a report still running finishes in it and is thrown away."""
        self._discard()


# -- inside the report process --------------------------------------------------------------------

_connection: sqlite3.Connection | None = None


PARENT_CHECK_SECONDS = 1.0


def _open(db_path: str) -> None:
    global _connection
    with contextlib.suppress(OSError):  # not permitted here: reports then compete as equals
        os.nice(NICENESS)
    parent = os.getppid()
    threading.Thread(target=_exit_without, args=(parent,), name="parent-watch", daemon=True).start()
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    _connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    _connection.execute("pragma busy_timeout=5000")


def _exit_without(parent: int) -> None:
    """A pool's worker outlives a server that was killed (SIGKILL, out of memory): it waits
    for work forever, holding a connection. It leaves once its parent is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _call(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    assert _connection is not None
    return fn(_connection, *args)


def _nothing(connection: sqlite3.Connection) -> None:
    """The first job of a warmed process: it only imports and connects."""

