"""One process at a time owns a database's settings: an exclusive lock beside the database.

``xephang server`` holds ``<db>.lock`` (``fcntl.flock``) for its whole life; ``xephang
config import`` takes it for its transaction. An import while a server runs would not be
seen by it, and the server's next change would then be refused as stale, so the import is
refused instead. The lock goes with the process (a crash releases it); the file stays.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from server.store import StoreError


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def is_locked(db: Path) -> bool:
    """True while another process holds the database's lock (nothing is taken)."""
    try:
        with exclusive(db):
            return False
    except StoreError:
        return True


@contextlib.contextmanager
def exclusive(db: Path) -> Iterator[None]:
    """Hold the database's lock; StoreError at once if another process holds it."""
    path = lock_path(db)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # a first start: the data directory is new
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open database {db}: its lock file {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{db} is in use by another process (a server or an import)") from None
        yield
    finally:
        os.close(fd)  # closing the file releases the lock
