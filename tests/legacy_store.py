"""Rows as the store wrote them before issue 15, for the migration tests: each event row's
``data`` the whole ticket (or counter) as JSON and ``at`` an ISO 8601 text. Written to a
database whose migrations stopped before m003 (``OLD_SCHEMA_BEFORE``)."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from datetime import date
from typing import Any

import msgspec
import sqlite_utils

from server import store
from server.core import events as ev
from server.core.model import SiteState

OLD_SCHEMA_BEFORE = "m003_compact_event_rows"


def old_database(path: str) -> sqlite_utils.Database:
    import sqlite3

    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    store.migrations.apply(db, stop_before=OLD_SCHEMA_BEFORE)
    return db


def _value(value: Any) -> Any:
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _row(obj: Any) -> dict[str, Any]:
    return {f.name: _value(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def commit(db: sqlite_utils.Database, results: Iterable[tuple[SiteState, list[ev.Event]]]) -> None:
    """What ``Store.commit`` wrote before issue 15 (the last version of each row wins)."""
    conn = db.conn
    conn.execute("begin immediate")
    for state, events in results:
        if not events:
            continue
        conn.execute("insert or replace into sites (code, day, next_order, front_order) values (?, ?, ?, ?)",
                     [state.code, state.day.isoformat(), state.next_order, state.front_order])
        for service, last in state.sequences.items():
            conn.execute("insert or replace into sequences (site, day, service, last) values (?, ?, ?, ?)",
                         [state.code, state.day.isoformat(), service, last])
        for event in events:
            ticket_id = counter = None
            if isinstance(event, ev.TicketEvent):
                row = _row(event.ticket)
                for later in ("appointment_at", "booking"):  # columns of m009 (issue 14)
                    row.pop(later)
                conn.execute(store.ticket_upsert_text(list(row)), list(row.values()))
                ticket_id, counter = event.ticket.id, event.ticket.counter
            elif isinstance(event, ev.CounterEvent):
                counter = event.counter.number
            data = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)
                    if f.name not in ("at", "actor", "device")}
            conn.execute(
                "insert into events (at, site, type, actor, device, ticket_id, counter, data) "
                "values (?, ?, ?, ?, ?, ?, ?, ?)",
                [event.at.isoformat(), state.code, ev.EVENT_TYPES[type(event)], event.actor,
                 event.device, ticket_id, counter, msgspec.json.encode(data).decode()])
        for live in state.counters.values():
            conn.execute(
                "insert or replace into counters (site, number, status, clerk, pause_reason, active_ticket, "
                "normal_streak, since) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [state.code, live.number, live.status.value, live.clerk, live.pause_reason,
                 live.active_ticket, live.normal_streak, _value(live.since)])
    conn.execute("commit")
