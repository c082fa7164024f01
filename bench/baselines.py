"""Baselines measured in the same run, on the same machine and disk.

* SQLite: one single-row INSERT + COMMIT per transaction, WAL and synchronous=FULL like
  the server's store, in the benchmark's temporary directory (the server's disk).
* websockets: a bare echo server process (``bench.echo``) and closed-loop clients in a
  load-generator process; see ``Worker.cmd_echo``.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.stats import latency_summary


def sqlite_commits(directory: Path, count: int) -> dict[str, Any]:
    """Durable single-row commits, one after another: latency and commits per second."""
    path = directory / "baseline.db"
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("pragma journal_mode=wal")
        conn.execute("pragma synchronous=full")
        conn.execute("create table if not exists rows (id integer primary key, at text, data text)")
        row = ("2026-11-25T08:00:00+07:00", "x" * 400)  # about an event row's size
        for _ in range(20):  # warm up: WAL file created, pages cached
            conn.execute("begin immediate")
            conn.execute("insert into rows (at, data) values (?, ?)", row)
            conn.execute("commit")
        latencies = []
        started = time.monotonic()
        for _ in range(count):
            t0 = time.monotonic()
            conn.execute("begin immediate")
            conn.execute("insert into rows (at, data) values (?, ?)", row)
            conn.execute("commit")
            latencies.append(time.monotonic() - t0)
        elapsed = time.monotonic() - started
    finally:
        conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {**latency_summary(latencies), "per_second": count / elapsed}
