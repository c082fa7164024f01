"""The storage compaction of issue 15, run once by the store's migrations 3-6 at the first
start after the upgrade (docs/operations.md, "Upgrades"; sizes in docs/architecture.md).

- ``compact_events`` (m003) rewrites the ``events`` table into today's row format
  (server/event_rows.py): a batch at a time into a new table, each batch its own
  transaction, then swaps the tables. A crash half-way leaves the copied batches, and the
  next start goes on from the last one; once swapped there is nothing left to do.
- ``drop_redundant_ticket_uniques`` (m004) rebuilds ``tickets`` without two unique indexes
  that nothing reads: (site, day, origin_service, sequence) is the ticket id itself
  (``site:day:service:sequence``, its primary key), and the printed number's
  (site, day, number) only re-checked what the configuration check guarantees (services of
  a site never share a number) while costing an index as big as the primary key's.
- ``forget_past_retry_keys`` (m005): a kiosk's idempotency key matters on its day only.
- ``return_space`` (m006) runs VACUUM when a quarter of the file or more is free pages, so
  the space the old rows took goes back to the disk.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time

from server import event_rows

log = logging.getLogger(__name__)

BATCH = 50_000  # rows copied per transaction

_COMPACT_TABLE = """
create table if not exists events_compact (
    seq integer primary key autoincrement, at integer not null, site text not null,
    type text not null, actor text not null, device text, ticket_id text,
    counter integer, data text
)
"""
_COLUMNS = "seq, at, site, type, actor, device, ticket_id, counter, data"
# A ticket's events (the display's recent calls, the rating channels, a ticket's history):
# counter events, with no ticket, are left out of it.
EVENTS_TICKET_INDEX = "create index events_ticket on events (ticket_id) where ticket_id is not null"


def _table_sql(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute("select sql from sqlite_master where type = 'table' and name = ?", [name]).fetchone()
    return row[0] if row else None


def _in_transaction(conn: sqlite3.Connection, *statements: str) -> None:
    conn.execute("begin immediate")
    try:
        for sql in statements:
            conn.execute(sql)
        conn.execute("commit")
    except BaseException:
        if conn.in_transaction:
            conn.execute("rollback")
        raise


def compact_events(conn: sqlite3.Connection, batch: int = BATCH) -> int:
    """Rewrite every event row into today's format; returns the rows rewritten."""
    sql = _table_sql(conn, "events")
    if sql is None or (re.search(r"\bat integer\b", sql) and _table_sql(conn, "events_compact") is None):
        return 0  # already in today's format (or a new database, made in it)
    conn.execute(_COMPACT_TABLE)
    done = conn.execute("select coalesce(max(seq), 0) from events_compact").fetchone()[0]
    last = conn.execute("select coalesce(max(seq), 0) from events").fetchone()[0]
    started, copied = time.monotonic(), 0
    if not last:
        pass  # a new database: nothing to say
    elif done:
        log.info("compacting the event log: going on after event %d of %d", done, last)
    else:
        log.info("compacting the event log: %d events to rewrite (issue 15's row format)", last)
    while True:
        rows = conn.execute(f"select {_COLUMNS} from events where seq > ? order by seq limit ?",
                            [done, batch]).fetchall()
        if not rows:
            break
        converted = [(seq, event_rows.legacy_at(at), site, kind, actor, device, ticket, counter,
                      event_rows.legacy_data(kind, data))
                     for seq, at, site, kind, actor, device, ticket, counter, data in rows]
        conn.execute("begin immediate")
        try:
            conn.executemany(f"insert into events_compact ({_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             converted)
            conn.execute("commit")
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise
        done, copied = rows[-1][0], copied + len(rows)
        elapsed = time.monotonic() - started
        log.info("compacting the event log: %d of %d (%.0f s, %.0f events/s)",
                 done, last, elapsed, copied / max(elapsed, 1e-9))
    (before,) = conn.execute(
        "select coalesce(max(seq), 0) from sqlite_sequence where name = 'events'").fetchone()
    _in_transaction(
        conn,
        "drop table events",
        "alter table events_compact rename to events",
        EVENTS_TICKET_INDEX,
        # Numbering goes on after the highest seq ever given, as AUTOINCREMENT promises.
        f"update sqlite_sequence set seq = max(seq, {int(before)}) where name = 'events'",
    )
    if last:
        log.info("compacted the event log: %d events rewritten in %.1f s", copied, time.monotonic() - started)
    return copied


_REDUNDANT_UNIQUES = re.compile(
    r",\s*unique \(site, day, origin_service, sequence\),\s*unique \(site, day, number\)", re.IGNORECASE)


def drop_redundant_ticket_uniques(conn: sqlite3.Connection) -> bool:
    """Rebuild ``tickets`` without its two redundant unique indexes; False when already done."""
    sql = _table_sql(conn, "tickets")
    if sql is None:
        return False
    stripped, found = _REDUNDANT_UNIQUES.subn("", sql)
    if not found:
        if "unique (site" in sql.lower():
            raise sqlite3.DatabaseError(f"unexpected tickets schema: {sql}")
        return False
    fixed, renamed = re.subn(r'^create table "?tickets"?', "create table tickets_new", stripped,
                             flags=re.IGNORECASE)
    if renamed != 1:
        raise sqlite3.DatabaseError(f"unexpected tickets schema: {sql}")
    started = time.monotonic()
    rebuild_tickets(conn, fixed)
    if conn.execute("select exists (select 1 from tickets)").fetchone()[0]:
        log.info("rebuilt the tickets table without two redundant unique indexes in %.1f s",
                 time.monotonic() - started)
    return True


_FORGET_ON_NEW_DAY = """
create trigger if not exists sites_new_day_forgets_retry_keys after update of day on sites
when new.day > old.day begin
    update tickets set idempotency_key = null
    where site = old.code and day = old.day and idempotency_key is not null;
end
"""


def forget_past_retry_keys(conn: sqlite3.Connection) -> None:
    """Forget the idempotency keys of every site's past days, and from now on of each day
    as its site moves to the next (in the same transaction)."""
    conn.execute(_FORGET_ON_NEW_DAY)
    conn.execute("update tickets set idempotency_key = null where idempotency_key is not null "
                 "and day < (select s.day from sites s where s.code = tickets.site)")


def free_share(conn: sqlite3.Connection) -> float:
    """The share of the file's pages that are free (returned to the disk only by VACUUM)."""
    (pages,) = conn.execute("pragma page_count").fetchone()
    (free,) = conn.execute("pragma freelist_count").fetchone()
    return free / pages if pages else 0.0


def return_space(conn: sqlite3.Connection, at_least: float = 0.25, pages: int = 2560) -> bool:
    """VACUUM when ``at_least`` of the file, and ``pages`` pages at least (10 MB), are free;
    True when it ran."""
    share = free_share(conn)
    (free,) = conn.execute("pragma freelist_count").fetchone()
    if share < at_least or free < pages:
        return False
    started = time.monotonic()
    log.info("returning %.0f%% of the database file to the disk (VACUUM)", share * 100)
    conn.execute("vacuum")
    # VACUUM wrote the new file through the write-ahead log: copy it in and cut the log back.
    conn.execute("pragma wal_checkpoint(truncate)").fetchall()
    log.info("VACUUM done in %.1f s", time.monotonic() - started)
    return True


def rebuild_tickets(conn: sqlite3.Connection, create_new: str) -> None:
    """Rebuild ``tickets`` as ``create_new`` makes ``tickets_new`` (SQLite cannot drop or
    change a constraint): copy every row, swap, recreate its index, check the foreign keys,
    in one transaction with foreign keys off (counters.active_ticket refers to tickets)."""
    conn.execute("pragma foreign_keys=off")
    try:
        conn.execute("begin immediate")
        conn.execute("drop table if exists tickets_new")
        conn.execute(create_new)
        conn.execute("insert into tickets_new select * from tickets")
        conn.execute("drop table tickets")
        conn.execute("alter table tickets_new rename to tickets")
        conn.execute("create index tickets_site_day on tickets (site, day, state)")
        if conn.execute("pragma foreign_key_check").fetchall():
            raise sqlite3.IntegrityError("foreign keys broken by the tickets rebuild")
        conn.execute("commit")
    except BaseException:
        if conn.in_transaction:
            conn.execute("rollback")
        raise
    finally:
        conn.execute("pragma foreign_keys=on")

