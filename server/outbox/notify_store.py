"""The citizen notifications' tables in ``outbox.sqlite`` (issue 16), under their own
migration set "xephang-outbox-notify":

- ``notify_optins``: who asked to be told, per ticket and channel: the browser's push
  subscription (JSON) or a phone number, the page's language. Written by the server when a
  ticket page opts in (``notify_subscribe``), read by the outbox process. A phone number is
  personal data: every opt-in is deleted once its ticket's day is over (``forget_before``).
- ``notify_sent``: each (ticket, message, channel) at most one row: written ``pending``
  before it is sent (so a message is claimed once), then ``sent`` or ``failed`` with the HTTP
  status, the time it took and a short detail. A ``pending`` row left by a crash is sent when
  the process comes back: at least once, and twice only if the process died between the
  receiver's answer and this row's update.

Both processes open the file with ``open_notify`` (WAL; the tables are created if missing, so
either may be first). Every write is one short transaction.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from server.outbox import state
from server.outbox.channels import Delivery

migrations = Migrations("xephang-outbox-notify")
Claim = tuple[str, str, str, int, dict[str, Any]]  # ticket, message, channel, event seq, the text's fields


@migrations()
def m001_optins_and_sent(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table if not exists notify_optins (
            ticket_id text not null, channel text not null, target text not null,
            site text not null, day text not null, language text not null, at text not null,
            primary key (ticket_id, channel)
        )
        """
    )
    db.execute("create index if not exists notify_optins_site on notify_optins (site, day)")
    db.execute(
        """
        create table if not exists notify_sent (
            ticket_id text not null, message text not null, channel text not null,
            seq integer not null, state text not null, fields text not null, at text not null,
            status integer, duration_ms integer, detail text,
            primary key (ticket_id, message, channel)
        )
        """
    )
    db.execute("create index if not exists notify_sent_pending on notify_sent (state) "
               "where state = 'pending'")


@dataclass(frozen=True)
class OptIn:
    ticket_id: str
    channel: str
    target: str
    site: str
    day: date
    language: str


@dataclass(frozen=True)
class Pending:
    ticket_id: str
    message: str
    channel: str
    seq: int
    fields: dict[str, Any]
    target: str
    language: str


def open_notify(path: Path) -> sqlite3.Connection:
    """The server's connection (the ticket pages' opt-ins): autocommit, WAL."""
    conn = state.connect(path)
    prepare(conn)
    return conn


def prepare(conn: sqlite3.Connection) -> None:
    """The notifications' tables on an open connection (the outbox process's own)."""
    with contextlib.suppress(sqlite3.IntegrityError):  # the other process applied it at the same time
        migrations.apply(sqlite_utils.Database(conn))


def subscribe(conn: sqlite3.Connection, optin: OptIn, at: datetime) -> None:
    """One channel for one ticket (a second subscription on the channel replaces the first)."""
    conn.execute("insert or replace into notify_optins values (?, ?, ?, ?, ?, ?, ?)",
                 [optin.ticket_id, optin.channel, optin.target, optin.site, optin.day.isoformat(),
                  optin.language, at.isoformat()])


def unsubscribe(conn: sqlite3.Connection, ticket_id: str, channel: str | None) -> int:
    """Forget one channel (None: every channel) of a ticket; how many were forgotten."""
    if channel is None:
        cursor = conn.execute("delete from notify_optins where ticket_id = ?", [ticket_id])
    else:
        cursor = conn.execute("delete from notify_optins where ticket_id = ? and channel = ?",
                              [ticket_id, channel])
    return cursor.rowcount


def channels_of(conn: sqlite3.Connection, ticket_id: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "select channel from notify_optins where ticket_id = ? order by channel", [ticket_id])]


def forget_before(conn: sqlite3.Connection, day: date) -> int:
    """Delete the opt-ins (phone numbers, push subscriptions) of tickets of days before ``day``."""
    return conn.execute("delete from notify_optins where day < ?", [day.isoformat()]).rowcount


def optins(conn: sqlite3.Connection, sites: set[str]) -> list[OptIn]:
    if not sites:
        return []
    marks = ",".join("?" * len(sites))
    rows = conn.execute(
        f"select ticket_id, channel, target, site, day, language from notify_optins where site in ({marks})",
        sorted(sites)).fetchall()
    return [OptIn(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]), r[5]) for r in rows]


def already(conn: sqlite3.Connection, ticket_ids: list[str], message: str) -> set[str]:
    """Of ``ticket_ids``, those that have ``message`` claimed on some channel."""
    found: set[str] = set()
    for start in range(0, len(ticket_ids), 500):
        part = ticket_ids[start:start + 500]
        marks = ",".join("?" * len(part))
        found.update(r[0] for r in conn.execute(
            f"select ticket_id from notify_sent where message = ? and ticket_id in ({marks})",
            [message, *part]))
    return found


def claim(conn: sqlite3.Connection, claims: list[Claim], at: datetime) -> None:
    """(ticket, message, channel, seq, fields) each claimed once: a row already there stays."""
    if not claims:
        return
    conn.execute("begin immediate")
    try:
        conn.executemany(
            "insert or ignore into notify_sent (ticket_id, message, channel, seq, state, fields, at) "
            "values (?, ?, ?, ?, 'pending', ?, ?)",
            [(t, m, c, seq, json.dumps(fields, ensure_ascii=False), at.isoformat())
             for t, m, c, seq, fields in claims])
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise


def pending(conn: sqlite3.Connection) -> list[Pending]:
    """The claimed messages not yet sent whose opt-in is still there (with its target)."""
    rows = conn.execute(
        """
        select s.ticket_id, s.message, s.channel, s.seq, s.fields, o.target, o.language
        from notify_sent s join notify_optins o on o.ticket_id = s.ticket_id and o.channel = s.channel
        where s.state = 'pending' order by s.seq
        """).fetchall()
    return [Pending(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]


def drop_orphans(conn: sqlite3.Connection) -> None:
    """Pending messages whose opt-in was withdrawn (or forgotten) are not sent."""
    conn.execute(
        """
        update notify_sent set state = 'withdrawn' where state = 'pending' and not exists (
            select 1 from notify_optins o where o.ticket_id = notify_sent.ticket_id
            and o.channel = notify_sent.channel)
        """)


def record(conn: sqlite3.Connection, item: Pending, delivery: Delivery, at: datetime) -> None:
    conn.execute(
        "update notify_sent set state = ?, at = ?, status = ?, duration_ms = ?, detail = ? "
        "where ticket_id = ? and message = ? and channel = ?",
        ["sent" if delivery.sent else "failed", at.isoformat(), delivery.status, delivery.duration_ms,
         delivery.detail, item.ticket_id, item.message, item.channel])
    if delivery.gone:  # the browser dropped the subscription: nothing more can reach it
        conn.execute("delete from notify_optins where ticket_id = ? and channel = ?",
                     [item.ticket_id, item.channel])


def sent_log(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every claimed message, oldest first (tests, and an operator's look)."""
    cursor = conn.execute("select ticket_id, message, channel, seq, state, status, detail from notify_sent "
                          "order by seq, ticket_id, message, channel")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
