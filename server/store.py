"""Durable storage in SQLite (WAL, synchronous=FULL) through sqlite-utils.

``commit`` writes a batch of rule results in ONE transaction: the changed tickets and
counters, each site's numbering, and the append-only event log. The server tells nobody
about a result before ``commit`` has returned. ``load_site`` rebuilds a site's state
exactly as it was committed.

The connection is not thread-safe: every method must run on the same single thread
(the server uses a one-thread executor).
"""

from __future__ import annotations

import dataclasses
import logging
import operator
import re
import sqlite3
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import sqlite_utils
from immutables import Map
from sqlite_utils.migrations import Migrations

from common.errors import ServerError
from server import event_rows, store_compaction
from server.core import events as ev
from server.core.model import (
    CounterState,
    CounterStatus,
    SiteRules,
    SiteState,
    Ticket,
    TicketState,
    new_site_state,
)

log = logging.getLogger(__name__)

Row = tuple[Any, ...]  # one row's values, in its INSERT's column order

# A display's snapshot: the day's calls, found from the day's tickets (tickets_site_day, then
# events_ticket). CROSS JOIN keeps that order: walking the events table backwards instead
# (for ORDER BY seq) scanned all of a year's events when the day had no call yet.
RECENT_CALLS_SQL = (
    "select e.seq, e.at, e.counter, e.data, t.id, t.number, t.day from tickets t "
    "cross join events e on e.ticket_id = t.id where t.site = ? and t.day = ? "
    "and e.type = 'ticket_called' order by e.seq desc limit ?"
)

migrations = Migrations("xephang")

TICKET_COLUMNS = [f.name for f in dataclasses.fields(Ticket)]
_DATETIME_COLUMNS = {
    f.name for f in dataclasses.fields(Ticket) if "datetime" in str(f.type)
}


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table tickets (
            id text primary key, site text not null, day text not null, service text not null,
            origin_service text not null, sequence integer not null, number text not null,
            priority text, state text not null, "order" integer not null,
            token text not null unique, idempotency_key text, issued_by text, counter integer,
            target_counter integer, clerk text, issued_at text not null, called_at text,
            first_called_at text, started_at text, finished_at text, absent_at text,
            held_at text, recalls integer not null default 0,
            transfers integer not null default 0, outcome text, dossier_code text,
            rating integer, note text,
            unique (site, day, service, sequence),
            unique (site, day, number)
        )
        """
    )
    db.execute("create index tickets_site_day on tickets (site, day, state)")
    db.execute(
        """
        create table counters (
            site text not null, number integer not null, status text not null,
            clerk text, pause_reason text, active_ticket text references tickets(id),
            normal_streak integer not null default 0, since text,
            primary key (site, number)
        )
        """
    )
    db.execute(
        """
        create table sites (
            code text primary key, day text not null,
            next_order integer not null, front_order integer not null
        )
        """
    )
    db.execute(
        """
        create table sequences (
            site text not null, day text not null, service text not null,
            last integer not null, primary key (site, day, service)
        )
        """
    )
    db.execute(
        """
        create table events (
            seq integer primary key autoincrement, at text not null, site text not null,
            type text not null, actor text not null, device text, ticket_id text,
            counter integer, data text not null
        )
        """
    )
    db.execute("create index events_ticket on events (ticket_id)")
    db.execute(
        """
        create table devices (
            id text primary key, site text not null, kind text not null,
            printer_state text, printer_detail text, seen_at text
        )
        """
    )


@migrations(transactional=False)  # a table rebuild needs foreign keys off, outside a transaction
def m002_sequence_unique_per_origin_service(db: sqlite_utils.Database) -> None:
    """Number sequences are unique per *origin* service. m001 keyed them by the current
    service, which a transfer changes: after A003 moved to DD, issuing D003 violated the
    constraint, the commit failed and the server stopped. Rebuilds the table (SQLite cannot
    drop a constraint); idempotent, so a crash half-way is safe to re-run."""
    conn = db.conn
    (sql,) = conn.execute("select sql from sqlite_master where name = 'tickets'").fetchone()
    old, new = "unique (site, day, service, sequence)", "unique (site, day, origin_service, sequence)"
    if new in sql:
        return
    # sqlite_master keeps the original text, but with "CREATE TABLE" in capitals.
    fixed, renamed = re.subn(r"^create table tickets\b", "create table tickets_new", sql.replace(old, new),
                             flags=re.IGNORECASE)
    if new not in fixed or renamed != 1:
        raise sqlite3.DatabaseError(f"unexpected tickets schema: {sql}")
    store_compaction.rebuild_tickets(conn, fixed)



@migrations(transactional=False)  # batches of their own: a crash half-way goes on at the next start
def m003_compact_event_rows(db: sqlite_utils.Database) -> None:
    """Events keep their own facts, not a copy of the whole ticket (server/event_rows.py)."""
    store_compaction.compact_events(db.conn)


@migrations(transactional=False)  # a table rebuild needs foreign keys off, outside a transaction
def m004_tickets_without_redundant_uniques(db: sqlite_utils.Database) -> None:
    store_compaction.drop_redundant_ticket_uniques(db.conn)


@migrations()
def m005_forget_retry_keys_of_past_days(db: sqlite_utils.Database) -> None:
    """A kiosk's idempotency key guards a retried tap on its own day only (``load_site``
    reads the stored day's): the store forgets the keys of a day when the site moves to the
    next (a trigger on ``sites``), and this forgets those of the days already past. A key
    with its kiosk's token gets the ticket and its page's address back."""
    store_compaction.forget_past_retry_keys(db.conn)


@migrations(transactional=False)  # VACUUM cannot run inside a transaction
def m006_return_the_space_of_old_rows(db: sqlite_utils.Database) -> None:
    store_compaction.return_space(db.conn)


@migrations()
def m007_history_archives(db: sqlite_utils.Database) -> None:
    """The archives ``xephang history archive`` wrote: what ``prune`` may delete (server/retention.py)."""
    db.execute(
        """
        create table history_archives (
            id integer primary key, before text not null, file text not null,
            written_at text not null, events integer not null, tickets integer not null
        )
        """
    )


@migrations()
def m008_ratings_by_ticket(db: sqlite_utils.Database) -> None:
    """The rating events, by ticket, with their actor: a report's phone/counter split of a
    year's ratings reads this small partial index alone instead of every event of every
    rated ticket (about one event in fifteen is a rating)."""
    db.execute("create index events_rated on events (ticket_id, type, actor) where type = 'ticket_rated'")


@migrations()
def m009_appointment_tickets(db: sqlite_utils.Database) -> None:
    """Issue 14: a ticket checked in from a booking carries its slot start and booking code;
    a counter counts the appointments it has called in a row (server/core/selection.py)."""
    db.execute("alter table tickets add column appointment_at text")
    db.execute("alter table tickets add column booking text")
    db.execute("alter table counters add column appointment_streak integer not null default 0")


@migrations()
def m010_bookings(db: sqlite_utils.Database) -> None:
    """Issue 14: appointments (server/booking_store.py). The CCCD number is never stored: its
    keyed hash (for the per-person limit and check-in by card) and last 4 digits; the name and
    phone are set NULL ``queue.booking_personal_data_days`` after the day. ``kind``:
    'appointment', or 'remote' for a number for today taken from the phone (it counts against
    the per-person limit; its slot_start is when it was taken)."""
    db.execute(
        """
        create table bookings (
            code text primary key, site text not null, service text not null, day text not null,
            slot_start text not null, slot_end text not null, status text not null,
            name text, phone text, cccd_hash text not null, cccd_last4 text not null,
            created_at text not null, changed_at text not null, checked_in_at text,
            ticket_id text, channel text not null, lead_minutes integer not null,
            kind text not null default 'appointment'
        )
        """
    )
    db.execute("create index bookings_slot on bookings (site, service, slot_start, status)")
    db.execute("create index bookings_person on bookings (cccd_hash, day)")
    # The ticker's no-show and retention sweeps: bookings still booked, by slot.
    db.execute("create index bookings_open on bookings (status, slot_start)")


@migrations()
def m011_tickets_by_dossier_code(db: sqlite_utils.Database) -> None:
    """Issue 16: the integration API finds tickets by the dossier code the clerk recorded
    (GET /api/v1/tickets/by-dossier/{code}, newest first) through this index instead of
    reading every ticket of every day. Partial: most tickets carry no dossier code."""
    db.execute(
        "create index tickets_dossier on tickets (dossier_code, day, issued_at)"
        " where dossier_code is not null"
    )


class Checkpointer:
    """Copies the WAL into the database file on its own connection and thread, so that a
    commit never pays for a checkpoint (SQLite's automatic one runs inside the commit that
    crosses 1,000 pages: a few ms of copying and an fsync of the database file).

    A PASSIVE checkpoint neither blocks nor waits for the writer; commits stay exactly as
    durable (each is fsynced in the WAL). ``run`` is called every second or so.
    """

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("pragma busy_timeout=5000")

    def run(self) -> None:
        self.conn.execute("pragma wal_checkpoint(passive)").fetchall()

    def close(self) -> None:
        self.conn.close()


class StoreError(ServerError):
    """The database cannot be opened or written; the server must stop rather than guess."""


class Store:
    def __init__(self, db: sqlite_utils.Database, path: str) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> Store:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            db = sqlite_utils.Database(conn)
            db.execute("pragma journal_mode=wal")
            db.execute("pragma synchronous=full")
            db.execute("pragma foreign_keys=on")
            db.execute("pragma busy_timeout=5000")
            # Checkpoints run beside the writer (``Checkpointer``); this is the fallback.
            db.execute("pragma wal_autocheckpoint=20000")  # ~80 MB of WAL
            migrations.apply(db)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        return cls(db, str(path))

    def close(self) -> None:
        self.db.close()

    def checkpointer(self) -> Checkpointer:
        return Checkpointer(self.path)

    def reader(self) -> sqlite3.Connection:
        """A read-only connection of its own, for reports and pages: WAL lets it read the last
        committed state beside the writer, so a long report never holds up a commit. It may
        make TEMP tables (a report's working table) and nothing else."""
        uri = Path(self.path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        conn.execute("pragma busy_timeout=5000")
        return conn

    # -- restore -------------------------------------------------------------------------

    def load_site(self, rules: SiteRules, today: date) -> SiteState:
        """The site's state as last committed (its stored day may be before ``today``)."""
        code = rules.site.code
        row = next(self.db.query("select * from sites where code = ?", [code]), None)
        if row is None:
            return new_site_state(rules, today)
        day = date.fromisoformat(row["day"])
        tickets = {
            r["id"]: _ticket_from_row(r)
            for r in self.db.query(
                "select * from tickets where site = ? and day = ?", [code, day.isoformat()]
            )
        }
        state = new_site_state(rules, day)
        counters = dict(state.counters)
        for r in self.db.query("select * from counters where site = ?", [code]):
            if r["number"] in counters:  # a counter removed from configuration is dropped
                counters[r["number"]] = CounterState(
                    number=r["number"], status=CounterStatus(r["status"]), clerk=r["clerk"],
                    pause_reason=r["pause_reason"], active_ticket=r["active_ticket"],
                    normal_streak=r["normal_streak"], since=_dt(r["since"]),
                    appointment_streak=r["appointment_streak"],
                )
        sequences = {
            r["service"]: r["last"]
            for r in self.db.query(
                "select service, last from sequences where site = ? and day = ?",
                [code, day.isoformat()],
            )
        }
        keys = {t.idempotency_key: t.id for t in tickets.values() if t.idempotency_key}
        return dataclasses.replace(
            state, tickets=Map(tickets), counters=MappingProxyType(counters),
            sequences=MappingProxyType(sequences), keys=Map(keys),
            next_order=row["next_order"], front_order=row["front_order"],
        )

    # -- write ---------------------------------------------------------------------------

    def commit(self, results: Iterable[tuple[SiteState, list[ev.Event]]]) -> list[int]:
        """Persist rule results in one durable transaction; returns each event's seq.

        The rows are gathered first (each ticket, counter, site and sequence once, as of
        its last result in the batch) and written with one statement per table.
        """
        rows = _BatchRows()
        for state, events in results:
            if events:
                rows.add(state, events)
        conn = self.db.conn
        try:
            conn.execute("begin immediate")
            conn.executemany(_TICKET_UPSERT, rows.tickets.values())
            conn.executemany(_SEQUENCE_UPSERT, rows.sequences.values())
            conn.executemany(_COUNTER_UPSERT, rows.counters.values())
            # After the tickets: a site's new day forgets the old day's retry keys (m005).
            conn.executemany(_SITE_UPSERT, rows.sites.values())
            seqs = [conn.execute(_EVENT_INSERT, row).lastrowid for row in rows.events]
            conn.execute("commit")
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise
        return seqs  # type: ignore[return-value]

    def record_device(self, device: str, site: str, kind: str, state: str | None,
                      detail: str | None, at: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "insert into devices (id, site, kind, printer_state, printer_detail, seen_at) "
                "values (?, ?, ?, ?, ?, ?) on conflict(id) do update set "
                "printer_state = coalesce(excluded.printer_state, printer_state), "
                "printer_detail = coalesce(excluded.printer_detail, printer_detail), "
                "seen_at = excluded.seen_at",
                [device, site, kind, state, detail, _iso(at)],
            )

    def recent_calls(self, site: str, day: date, limit: int) -> list[dict[str, Any]]:
        """The site's last calls of ``day``, oldest first, for a display's snapshot."""
        rows = list(self.db.query(RECENT_CALLS_SQL, [site, day.isoformat(), limit]))
        calls = []
        for row in reversed(rows):
            data = event_rows.decode(row["data"])
            calls.append({
                "seq": row["seq"], "ticket_id": row["id"], "number": row["number"],
                "service": data["service"], "counter": row["counter"],
                "reason": data["reason"], "at": event_rows.from_micros(row["at"]),
            })
        return calls

    def ticket_by_token(self, token: str) -> dict[str, Any] | None:
        return next(self.db.query("select * from tickets where token = ?", [token]), None)

    def ticket_with_token(self, token: str) -> Ticket | None:
        row = self.ticket_by_token(token)
        return _ticket_from_row(row) if row else None

    def rate_past_ticket(self, site: str, ticket_id: str, before: date,
                         rate: Callable[[Ticket | None], ev.TicketRated]) -> Ticket:
        """Rate a ticket of a day before ``before``: ``rate`` (the rule) gets the stored ticket
        (None if there is none) and returns its event or raises. The rating and the event row
        are written in one transaction, the same rows a rating through ``commit`` writes."""
        conn = self.db.conn
        try:
            conn.execute("begin immediate")
            row = next(self.db.query("select * from tickets where id = ? and site = ? and day < ?",
                                     [ticket_id, site, before.isoformat()]), None)
            event = rate(_ticket_from_row(row) if row else None)
            conn.execute("update tickets set rating = ? where id = ?", [event.ticket.rating, ticket_id])
            conn.execute(_EVENT_INSERT, _event_row(site, event, ticket_id, event.ticket.counter))
            conn.execute("commit")
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise
        return event.ticket


def _event_row(site: str, event: ev.Event, ticket_id: str | None, counter: int | None) -> Row:
    """The values of one ``events`` row (``_EVENT_INSERT``; the format: server/event_rows.py)."""
    return (event_rows.micros(event.at), site, ev.EVENT_TYPES[type(event)], event.actor, event.device,
            ticket_id, counter, event_rows.event_data(event))


class _BatchRows:
    """The rows one commit writes, each table's rows keyed so that the last version wins."""

    def __init__(self) -> None:
        self.sites: dict[str, Row] = {}
        self.tickets: dict[str, Row] = {}
        self.sequences: dict[tuple[str, str, str], Row] = {}
        self.counters: dict[tuple[str, int], Row] = {}
        self.events: list[Row] = []

    def add(self, state: SiteState, events: list[ev.Event]) -> None:
        code = state.code
        day = state.day.isoformat()
        self.sites[code] = (code, day, state.next_order, state.front_order)
        counters: set[int] = set()
        rolled_over = False
        for event in events:
            ticket_id = counter = None
            if isinstance(event, ev.TicketEvent):
                ticket = event.ticket
                ticket_id, counter = ticket.id, ticket.counter
                self.tickets[ticket.id] = _ticket_values(ticket)
                if ticket.day == state.day:
                    key = (code, day, ticket.origin_service)
                    self.sequences[key] = (
                        *key, state.sequences.get(ticket.origin_service, ticket.sequence))
                if ticket.counter is not None:  # active ticket changes rewrite the counter
                    counters.add(ticket.counter)
                if isinstance(event, ev.TicketTransferred):  # it left with counter=None
                    counters.add(event.from_counter)
                elif isinstance(event, ev.TicketExpired):
                    rolled_over = True
            elif isinstance(event, ev.CounterEvent):
                counter = event.counter.number
                counters.add(counter)
            self.events.append(_event_row(code, event, ticket_id, counter))
        if rolled_over:
            counters |= set(state.counters)
        for number in counters:
            live = state.counters.get(number)
            if live is not None:
                self.counters[(code, number)] = (
                    code, number, live.status.value, live.clerk, live.pause_reason,
                    live.active_ticket, live.normal_streak, _iso(live.since), live.appointment_streak)


_SITE_UPSERT = (
    "insert into sites (code, day, next_order, front_order) values (?, ?, ?, ?) "
    "on conflict(code) do update set day = excluded.day, "
    "next_order = excluded.next_order, front_order = excluded.front_order"
)
_TICKET_UPSERT = (
    'insert into tickets ("id", "site", "day", "service", "origin_service", "sequence", '
    '"number", "priority", "state", "order", "token", "idempotency_key", "issued_by", '
    '"counter", "target_counter", "clerk", "issued_at", "called_at", "first_called_at", '
    '"started_at", "finished_at", "absent_at", "held_at", "recalls", "transfers", "outcome", '
    '"dossier_code", "rating", "note", "appointment_at", "booking") values (?, ?, ?, ?, ?, ?, '
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "on conflict(id) do update set "
    '"site" = excluded."site", "day" = excluded."day", "service" = excluded."service", '
    '"origin_service" = excluded."origin_service", "sequence" = excluded."sequence", '
    '"number" = excluded."number", "priority" = excluded."priority", '
    '"state" = excluded."state", "order" = excluded."order", "token" = excluded."token", '
    '"idempotency_key" = excluded."idempotency_key", "issued_by" = excluded."issued_by", '
    '"counter" = excluded."counter", "target_counter" = excluded."target_counter", '
    '"clerk" = excluded."clerk", "issued_at" = excluded."issued_at", '
    '"called_at" = excluded."called_at", "first_called_at" = excluded."first_called_at", '
    '"started_at" = excluded."started_at", "finished_at" = excluded."finished_at", '
    '"absent_at" = excluded."absent_at", "held_at" = excluded."held_at", '
    '"recalls" = excluded."recalls", "transfers" = excluded."transfers", '
    '"outcome" = excluded."outcome", "dossier_code" = excluded."dossier_code", '
    '"rating" = excluded."rating", "note" = excluded."note", '
    '"appointment_at" = excluded."appointment_at", "booking" = excluded."booking"'
)


def ticket_upsert_text(columns: list[str]) -> str:
    """The upsert for these columns; ``_TICKET_UPSERT`` is it for TICKET_COLUMNS, spelled
    out as fixed text (checked just below, so a new Ticket field cannot be missed)."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "id")
    placeholders = ", ".join("?" * len(columns))
    return f"insert into tickets ({quoted}) values ({placeholders}) on conflict(id) do update set {updates}"


if ticket_upsert_text(TICKET_COLUMNS) != _TICKET_UPSERT:
    raise RuntimeError("server.store._TICKET_UPSERT is out of step with the Ticket dataclass")

_SEQUENCE_UPSERT = (
    "insert into sequences (site, day, service, last) values (?, ?, ?, ?) "
    "on conflict(site, day, service) do update set last = max(last, excluded.last)"
)
_COUNTER_UPSERT = (
    "insert into counters (site, number, status, clerk, pause_reason, active_ticket, "
    "normal_streak, since, appointment_streak) values (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "on conflict(site, number) do update set status = excluded.status, "
    "clerk = excluded.clerk, pause_reason = excluded.pause_reason, "
    "active_ticket = excluded.active_ticket, normal_streak = excluded.normal_streak, "
    "since = excluded.since, appointment_streak = excluded.appointment_streak"
)
_EVENT_INSERT = (
    "insert into events (at, site, type, actor, device, ticket_id, counter, data) "
    "values (?, ?, ?, ?, ?, ?, ?, ?)"
)
_ticket_fields = operator.attrgetter(*TICKET_COLUMNS)
_CONVERTED = [i for i, name in enumerate(TICKET_COLUMNS)
              if name in _DATETIME_COLUMNS or name in ("day", "state")]


def _ticket_values(ticket: Ticket) -> Row:
    """The ticket's column values in TICKET_COLUMNS order, as ``_ticket_to_row`` makes them."""
    values = list(_ticket_fields(ticket))
    for i in _CONVERTED:
        value = values[i]
        if value is not None:
            values[i] = value.value if isinstance(value, TicketState) else value.isoformat()
    return tuple(values)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _ticket_to_row(ticket: Ticket) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in TICKET_COLUMNS:
        value = getattr(ticket, name)
        if isinstance(value, date):  # datetime is a date too
            value = value.isoformat()
        elif isinstance(value, TicketState):
            value = value.value
        row[name] = value
    return row


def _ticket_from_row(row: dict[str, Any]) -> Ticket:
    values = {name: row[name] for name in TICKET_COLUMNS}
    for name in _DATETIME_COLUMNS:
        values[name] = _dt(values[name])
    values["day"] = date.fromisoformat(values["day"])
    values["state"] = TicketState(values["state"])
    return Ticket(**values)
