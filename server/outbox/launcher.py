"""Starting and stopping the outbox process (process.py) from the server (issue 16).

A process of its own (the ``spawn`` context: a fresh interpreter, none of the server's
threads or sockets), started once the server listens and stopped with it; it also stops by
itself when the server is gone (it watches its parent's pid), so a server killed with
SIGKILL leaves no deliveries running behind it, and the next start takes over from the
cursors in ``outbox.sqlite``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from multiprocessing.process import BaseProcess
from pathlib import Path

from server.outbox import process

log = logging.getLogger(__name__)

STOP_WAIT = 10.0  # seconds for a graceful stop before it is killed


class OutboxProcess:
    def __init__(self, main_db: str | Path, *, log_level: int = logging.INFO) -> None:
        self.main_db = str(main_db)
        self.log_level = log_level
        self._process: BaseProcess | None = None

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(target=process.main, name="xephang-outbox", daemon=True,
                                        args=(self.main_db, os.getpid(), self.log_level))
        self._process.start()
        log.info("outbox process started (pid %s)", self._process.pid)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def stop(self) -> None:
        found, self._process = self._process, None
        if found is None:
            return
        if found.is_alive():
            found.terminate()  # SIGTERM: the process finishes its loop and closes its databases
            found.join(STOP_WAIT)
        if found.is_alive():
            found.kill()
            found.join()
