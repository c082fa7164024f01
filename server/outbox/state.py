"""The outbox process's own database, ``outbox.sqlite`` beside the queue's (issue 16).

Never the queue's database: the outbox's writes must not take the writer's lock. It holds,
under the migration set "xephang-outbox":

- ``cursors``: per consumer ("webhook:<id>", "notify"), the last event ``seq`` it has done;
- ``deliveries``: the webhook delivery log, one row per attempt (subscription, event seq =
  its id, attempt number, time, HTTP status, duration, error, delivered or not);
- ``replays``: what an administrator asked from the page ("replay from event N": the
  cursor goes back; "resend this event": one more delivery of it), until the process has
  done it.

A consumer with tables of its own (notify) keeps them here too, under its own migration set.
Connections are opened per thread; the process writes in small transactions (WAL,
synchronous=FULL), the server's pages read (``open_read``) and the administrator's replay
request writes one row (``request_replay``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

FILE = "outbox.sqlite"
FLUSH = 0.25  # seconds between two writes of the journal (cursors and attempts)
KEEP_LOG = timedelta(days=30)  # delivery attempts older than this are pruned
migrations = Migrations("xephang-outbox")


@migrations()
def m001_cursors_deliveries_replays(db: sqlite_utils.Database) -> None:
    db.execute("create table cursors (consumer text primary key, seq integer not null, at text not null)")
    db.execute(
        """
        create table deliveries (
            id integer primary key autoincrement, webhook text not null, seq integer not null,
            type text not null, attempt integer not null, at text not null, status integer,
            duration_ms integer not null, error text, delivered integer not null
        )
        """
    )
    db.execute("create index deliveries_webhook on deliveries (webhook, id)")
    db.execute(
        """
        create table replays (
            id integer primary key autoincrement, consumer text not null, seq integer not null,
            single integer not null, requested_at text not null, requested_by text not null,
            done_at text
        )
        """
    )


def webhook_key(webhook_id: str) -> str:
    """The consumer (cursor) name of a webhook subscription."""
    return f"webhook:{webhook_id}"


def path_beside(main_db: str | Path) -> Path:
    """The outbox database of a queue database: the same directory (the data directory)."""
    return Path(main_db).parent / FILE


def connect(path: Path) -> sqlite3.Connection:
    """A writing connection to the outbox database: autocommit, WAL, durable commits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("pragma journal_mode=wal")
    conn.execute("pragma synchronous=full")
    conn.execute("pragma busy_timeout=5000")
    return conn


def open_state(path: Path) -> sqlite3.Connection:
    """The outbox database for writing (created and migrated when new)."""
    conn = connect(path)
    migrations.apply(sqlite_utils.Database(conn))
    return conn


def open_read(path: Path) -> sqlite3.Connection | None:
    """The outbox database read-only (None before the outbox process first created it)."""
    if not path.exists():
        return None
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
    conn.execute("pragma busy_timeout=5000")
    return conn


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# -- cursors --------------------------------------------------------------------------------------


def cursor(conn: sqlite3.Connection, consumer: str) -> int | None:
    row = conn.execute("select seq from cursors where consumer = ?", [consumer]).fetchone()
    return None if row is None else int(row[0])


def set_cursor(conn: sqlite3.Connection, consumer: str, seq: int) -> None:
    conn.execute("insert into cursors (consumer, seq, at) values (?, ?, ?) on conflict (consumer) "
                 "do update set seq = excluded.seq, at = excluded.at", [consumer, seq, now_text()])


def drop_cursor(conn: sqlite3.Connection, consumer: str) -> None:
    conn.execute("delete from cursors where consumer = ?", [consumer])


def cursors(conn: sqlite3.Connection) -> dict[str, int]:
    return {name: int(seq) for name, seq in conn.execute("select consumer, seq from cursors")}


# -- the delivery log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    webhook: str
    seq: int
    type: str
    attempt: int
    at: str
    status: int | None
    duration_ms: int
    error: str | None
    delivered: bool


def log_attempts(conn: sqlite3.Connection, attempts: list[Attempt]) -> None:
    if not attempts:
        return
    with _transaction(conn):
        _insert_attempts(conn, attempts)


def _insert_attempts(conn: sqlite3.Connection, attempts: list[Attempt]) -> None:
    conn.executemany(
        "insert into deliveries (webhook, seq, type, attempt, at, status, duration_ms, error, delivered) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(a.webhook, a.seq, a.type, a.attempt, a.at, a.status, a.duration_ms, a.error, int(a.delivered))
         for a in attempts])


def prune_log(conn: sqlite3.Connection, now: datetime) -> int:
    cutoff = (now - KEEP_LOG).isoformat(timespec="milliseconds")
    return conn.execute("delete from deliveries where at < ?", [cutoff]).rowcount


def recent_attempts(conn: sqlite3.Connection, webhook: str, limit: int = 50) -> list[dict[str, Any]]:
    cur = conn.execute("select seq, type, attempt, at, status, duration_ms, error, delivered from deliveries "
                       "where webhook = ? order by id desc limit ?", [webhook, limit])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def last_success(conn: sqlite3.Connection, webhook: str) -> dict[str, Any] | None:
    return _one(conn, "select seq, at from deliveries where webhook = ? and delivered = 1 "
                      "order by id desc limit 1", webhook)


def last_error(conn: sqlite3.Connection, webhook: str) -> dict[str, Any] | None:
    return _one(conn, "select seq, at, status, error from deliveries where webhook = ? and delivered = 0 "
                      "order by id desc limit 1", webhook)


def delivered_seqs(conn: sqlite3.Connection, webhook: str) -> list[int]:
    """Every event delivered to ``webhook`` (one entry per successful attempt), in log order."""
    return [int(r[0]) for r in conn.execute(
        "select seq from deliveries where webhook = ? and delivered = 1 order by id", [webhook])]


class Journal:
    """What the process has done but not yet written: cursor moves and delivery attempts,
    written together in one transaction every ``FLUSH`` seconds (``flush``), so the
    deliveries cost the disk a few commits a second, not one per event — the queue's own
    commits share that disk. A crash loses at most the last ``FLUSH`` seconds of it: those
    events are delivered again (at least once), their attempts are not in the log."""

    def __init__(self) -> None:
        self.cursors: dict[str, int] = {}
        self.attempts: list[Attempt] = []

    def flush(self, conn: sqlite3.Connection) -> None:
        if not self.cursors and not self.attempts:
            return
        cursors, self.cursors = self.cursors, {}
        attempts, self.attempts = self.attempts, []
        with _transaction(conn):
            for consumer, seq in cursors.items():
                set_cursor(conn, consumer, seq)
            _insert_attempts(conn, attempts)


# -- replay requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    id: int
    consumer: str
    seq: int
    single: bool  # resend this one event (else: the cursor goes back to before it)


def request_replay(conn: sqlite3.Connection, consumer: str, seq: int, *, single: bool, by: str) -> int:
    cur = conn.execute("insert into replays (consumer, seq, single, requested_at, requested_by) "
                       "values (?, ?, ?, ?, ?)", [consumer, seq, int(single), now_text(), by])
    return int(cur.lastrowid or 0)


def pending_replays(conn: sqlite3.Connection) -> list[Replay]:
    return [Replay(int(i), c, int(s), bool(single)) for i, c, s, single in conn.execute(
        "select id, consumer, seq, single from replays where done_at is null order by id")]


def replay_done(conn: sqlite3.Connection, replay_id: int) -> None:
    conn.execute("update replays set done_at = ? where id = ?", [now_text(), replay_id])


def _one(conn: sqlite3.Connection, sql: str, *args: Any) -> dict[str, Any] | None:
    cur = conn.execute(sql, args)
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


class _transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("begin immediate")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.conn.execute("commit" if kind is None else "rollback")
