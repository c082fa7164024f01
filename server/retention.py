"""History retention: archive old raw events (and their tickets) to a compressed JSON Lines
file, then prune them from the database, beside a running server.

The policy (docs/operations.md, "History: archive and prune"): raw events are kept
``server.keep_events_months`` (13: the same month last year stays comparable, and every late
rating is long in), tickets ``server.keep_tickets_months`` (60: the reports read them). A
cut-off is the first day of a month, in the centre's time zone. ``prune`` deletes only what
an archive recorded in the database (table ``history_archives``) covers, unless told to.

Both run on a connection of their own while the server writes. ``archive`` only reads (one
snapshot, so the file is consistent) and then records itself in one short transaction.
``prune`` deletes in small batches (``BATCH`` rows, a few milliseconds of the write lock
each) and pauses between them, so the server's writer, which waits up to 5 s for the lock,
gets in between two batches within milliseconds.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import sqlite3
import time
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TextIO

from common.errors import ServerError
from server import event_rows

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = "xephang-history-archive"
ARCHIVE_VERSION = 1
BATCH = 2000  # events deleted per transaction (~10-20 ms of the write lock)
# Tickets per transaction: BATCH // TICKETS_SLOWER. A ticket's row sits in three indexes, one
# of them (the page token) random, so each costs ~8 times an event: 2,000 held the lock
# 160-330 ms, 250 hold it ~20-40 ms.
TICKETS_SLOWER = 8
PAUSE_SECONDS = 0.02  # between two batches: longer than the writer's first busy-retry sleeps
# Never written to an archive: the ticket page's address and the kiosk's retry key are access
# secrets, of no use once the day is over.
SECRET_TICKET_COLUMNS = ("token", "idempotency_key")


class RetentionError(ServerError):
    """An archive or a prune refused (the reason is for the operator) or failed."""


@dataclass(frozen=True)
class Cutoffs:
    """Events before the local midnight that starts ``events_before`` and tickets of days
    before ``tickets_before`` go (``tickets_before <= events_before``)."""

    events_before: date
    tickets_before: date


def months_back(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def policy_cutoffs(today: date, keep_events_months: int, keep_tickets_months: int) -> Cutoffs:
    return Cutoffs(months_back(today, keep_events_months), months_back(today, keep_tickets_months))


def local_midnight_micros(day: date, tz: zoneinfo.ZoneInfo) -> int:
    """The events table's ``at`` of ``day``'s start, local time."""
    return event_rows.micros(datetime.combine(day, clock_time(), tzinfo=tz))


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection for retention work beside a running server; refuses a database whose
    schema is older than this code's (the server upgrades it at its next start)."""
    if not Path(path).exists():
        raise RetentionError(f"no database at {path}")
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=5.0)
    conn.execute("pragma busy_timeout=5000")
    conn.execute("pragma foreign_keys=on")
    if conn.execute("select 1 from sqlite_master where name = 'history_archives'").fetchone() is None:
        conn.close()
        raise RetentionError(f"{path} is not at this version's schema: start the server once to upgrade it")
    return conn


# -- archive -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveSummary:
    file: Path
    before: date
    events: int
    tickets: int
    first_day: date | None


def archive(conn: sqlite3.Connection, before: date, tz: zoneinfo.ZoneInfo, out: Path,
            today: date) -> ArchiveSummary:
    """Write every event before ``before`` (local midnight) and the tickets of the days
    those events cover to ``out`` (gzip JSON Lines: a header line, then one line per row),
    then record the archive in ``history_archives``."""
    if before > today:
        raise RetentionError(f"--before {before} is after today ({today}): events of that day may still come")
    if out.exists():
        raise RetentionError(f"{out} exists; choose a new file")
    cut = local_midnight_micros(before, tz)
    partial = out.with_name(out.name + ".partial")
    conn.execute("begin")  # one snapshot: the file is consistent whatever the server writes meanwhile
    try:
        (oldest,) = conn.execute("select min(at) from events").fetchone()
        first_day = event_rows.from_micros(oldest).astimezone(tz).date() if oldest is not None else None
        try:
            with gzip.open(partial, "wt", encoding="utf-8", compresslevel=6) as handle:
                _write_line(handle, {"format": ARCHIVE_FORMAT, "version": ARCHIVE_VERSION,
                                     "before": before.isoformat(), "timezone": str(tz),
                                     "first_day": first_day.isoformat() if first_day else None,
                                     "written_at": datetime.now(UTC).isoformat()})
                tickets = _write_rows(handle, "tickets", _ticket_rows(conn, first_day, before))
                events = _write_rows(handle, "events", _event_rows(conn, cut))
            _fsync(partial)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise RetentionError(f"cannot write {out}: {exc.strerror or exc}") from exc
    finally:
        conn.execute("commit")
    partial.rename(out)
    conn.execute("begin immediate")
    try:
        conn.execute("insert into history_archives (before, file, written_at, events, tickets) "
                      "values (?, ?, ?, ?, ?)",
                      [before.isoformat(), str(out.resolve()), datetime.now(UTC).isoformat(), events,
                       tickets])
        conn.execute("commit")
    except BaseException:
        if conn.in_transaction:
            conn.execute("rollback")
        raise
    log.info("archived %d events and %d tickets before %s to %s", events, tickets, before, out)
    return ArchiveSummary(out, before, events, tickets, first_day)


def _write_line(handle: TextIO, row: dict[str, Any]) -> None:
    handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    handle.write("\n")


def _write_rows(handle: TextIO, table: str, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for row in rows:
        _write_line(handle, {"table": table, **row})
        count += 1
    return count


def _ticket_rows(conn: sqlite3.Connection, first_day: date | None, before: date) -> Iterator[dict[str, Any]]:
    if first_day is None:
        return
    cursor = conn.execute("select * from tickets where day >= ? and day < ? order by day, site, id",
                          [first_day.isoformat(), before.isoformat()])
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield {n: v for n, v in zip(names, values, strict=True) if n not in SECRET_TICKET_COLUMNS}


def old_event_batches(conn: sqlite3.Connection, cut: int, batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of events before ``cut``, a batch at a time, walking from the oldest seq.
    Events are appended in time order, so the walk ends at the first batch with none
    before ``cut`` instead of reading the whole table (``at`` has no index)."""
    after = 0
    while True:
        rows = conn.execute("select seq, at, site, type, actor, device, ticket_id, counter, data from events "
                            "where seq > ? order by seq limit ?", [after, batch]).fetchall()
        old = [row for row in rows if row[1] < cut]
        if not old:
            return
        yield old
        after = rows[-1][0]


def _event_rows(conn: sqlite3.Connection, cut: int) -> Iterator[dict[str, Any]]:
    for rows in old_event_batches(conn, cut, 10_000):
        for seq, at, site, kind, actor, device, ticket_id, counter, data in rows:
            yield {"seq": seq, "at": event_rows.from_micros(at).isoformat(), "site": site, "type": kind,
                   "actor": actor, "device": device, "ticket_id": ticket_id, "counter": counter,
                   "data": event_rows.decode(data)}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_archive(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of an archive, the header first (tests, and anyone reading one back)."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


# -- prune ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneSummary:
    events: int
    tickets: int
    sequences: int
    batches: int
    archive: str | None


def covering_archive(conn: sqlite3.Connection, before: date) -> str | None:
    """The file of a recorded archive that covers everything before ``before``, if its file
    is still there (an archive moved elsewhere: say so with ``--yes``)."""
    rows = conn.execute("select file from history_archives where before >= ? order by before desc",
                        [before.isoformat()]).fetchall()
    return next((file for (file,) in rows if Path(file).is_file()), None)


def prune(conn: sqlite3.Connection, cutoffs: Cutoffs, tz: zoneinfo.ZoneInfo, *, without_archive: bool = False,
          batch: int = BATCH, pause: Callable[[], None] = lambda: time.sleep(PAUSE_SECONDS)) -> PruneSummary:
    """Delete events before ``cutoffs.events_before`` and tickets (and their numbering rows)
    of days before ``cutoffs.tickets_before`` that no event refers to any more."""
    if cutoffs.tickets_before > cutoffs.events_before:
        raise RetentionError("tickets cannot go before their events: the tickets' cut-off is later")
    covered = covering_archive(conn, cutoffs.events_before)
    if covered is None and not without_archive:
        raise RetentionError(
            f"no archive covers the events before {cutoffs.events_before}: write one first "
            f"(xephang history archive --before {cutoffs.events_before} FILE), or pass --yes to delete "
            "without one")
    batches = 0

    def write(sql: str, params: list[Any]) -> int:
        nonlocal batches
        conn.execute("begin immediate")
        try:
            count = conn.execute(sql, params).rowcount
            conn.execute("commit")
        except sqlite3.IntegrityError as exc:
            conn.execute("rollback")
            raise RetentionError(f"cannot delete: {exc}") from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise
        batches += 1
        pause()
        return count

    cut = local_midnight_micros(cutoffs.events_before, tz)
    events = 0
    for old in old_event_batches(conn, cut, batch):
        events += write("delete from events where seq between ? and ? and at < ?",
                        [old[0][0], old[-1][0], cut])
        if events % (batch * 50) < batch:
            log.info("pruned %d events before %s", events, cutoffs.events_before)
    tickets = sequences = 0
    before = cutoffs.tickets_before.isoformat()
    sites = conn.execute("select code from sites union select distinct site from sequences").fetchall()
    for (site,) in sites:
        days = conn.execute("select day, count(*) from tickets where site = ? and day < ? "
                            "group by day order by day", [site, before]).fetchall()
        for first, last in _spans(days, max(1, batch // TICKETS_SLOWER)):
            tickets += write("delete from tickets where site = ? and day between ? and ? and not exists "
                             "(select 1 from events e where e.ticket_id = tickets.id)", [site, first, last])
        sequences += write("delete from sequences where site = ? and day < ?", [site, before])
    log.info("pruned %d events before %s, %d tickets and %d numbering rows before %s in %d batches",
             events, cutoffs.events_before, tickets, sequences, cutoffs.tickets_before, batches)
    return PruneSummary(events, tickets, sequences, batches, covered)


def _spans(days: list[tuple[str, int]], batch: int) -> Iterator[tuple[str, str]]:
    """Consecutive days grouped so that each group holds about ``batch`` rows (a day at least)."""
    group: list[str] = []
    rows = 0
    for day, count in days:
        if group and rows + count > batch:
            yield group[0], group[-1]
            group, rows = [], 0
        group.append(day)
        rows += count
    if group:
        yield group[0], group[-1]


# -- vacuum --------------------------------------------------------------------------------------


def vacuum(path: str | Path) -> tuple[int, int]:
    """VACUUM the database, which nothing else may have open (a running server would wait
    for the whole rewrite and stop); returns the file's size before and after."""
    before = Path(path).stat().st_size
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=0)
    try:
        conn.execute("pragma locking_mode=exclusive")
        try:
            conn.execute("begin exclusive")  # refused while another connection has the file open (WAL)
            conn.execute("commit")
        except sqlite3.OperationalError as exc:
            raise RetentionError(
                f"{path} is open in another program (the server?): stop it first ({exc})") from exc
        conn.execute("vacuum")
        conn.execute("pragma wal_checkpoint(truncate)")
    finally:
        conn.close()
    return before, Path(path).stat().st_size
