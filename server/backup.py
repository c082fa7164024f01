"""``xephang backup``'s copy and check (docs/operations.md, "Backups").

The copy is SQLite's online backup API in one step: a consistent snapshot of one moment,
read beside a running server (WAL: the server's writer is never held), synced to disk when
it ends. (A step per N pages would restart from the beginning whenever the server commits.)

The check is everything ``pragma integrity_check`` does, split so that two cores share it:
``pragma quick_check`` (every page's b-tree structure, each record's format, NOT NULL,
every page used exactly once, the free list) and, per table, ``pragma
integrity_check(TABLE)`` (the same structure checks of that table and its indexes, plus
that every row has its entry in each index and each index entry its row, and UNIQUE).
A table's check skips only the page accounting, which ``quick_check`` does.
"""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CHECK_THREADS = 2  # the checks are CPU-bound and SQLite releases the GIL while it works
MAP_BYTES = 1 << 34  # read the copy through mmap: fewer copies per page than read()
LARGEST = ("tickets", "events")  # a province-year: ~0.8 and ~1.1 GB


@dataclass(frozen=True)
class BackupResult:
    copy_seconds: float
    check_seconds: float
    problems: list[str]  # empty: the copy passed its check

    @property
    def ok(self) -> bool:
        return not self.problems


def copy(source: Path, target: Path) -> None:
    """A consistent copy of ``source`` into the new file ``target``, synced to disk."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(str(target))
        try:
            dest.execute("pragma synchronous=full")
            src.backup(dest)  # all pages in one step
        finally:
            dest.close()
    finally:
        src.close()


def _run(target: Path, pragma: str) -> list[str]:
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True, check_same_thread=False)
    try:
        conn.execute(f"pragma mmap_size={MAP_BYTES}")
        rows = [row[0] for row in conn.execute(pragma)]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def check(target: Path, threads: int = CHECK_THREADS) -> list[str]:
    """What is wrong with the database file ``target`` (nothing: an empty list)."""
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        tables = [name for (name,) in conn.execute(
            "select name from sqlite_master where type = 'table' order by name")]
    finally:
        conn.close()
    # The biggest first, so that the last checks to start are the short ones.
    tables.sort(key=lambda name: LARGEST.index(name) if name in LARGEST else len(LARGEST))
    pragmas = [*(f"pragma integrity_check('{t}')" for t in tables), "pragma quick_check"]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="backup-check") as pool:
        results = list(pool.map(lambda pragma: _run(target, pragma), pragmas))
    return [problem for found in results for problem in found]


def backup(source: Path, target: Path) -> BackupResult:
    """Copy, then check the copy; a copy that fails is removed."""
    started = time.monotonic()
    try:
        copy(source, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    copied = time.monotonic()
    problems = check(target)
    return BackupResult(copied - started, time.monotonic() - copied, problems)
