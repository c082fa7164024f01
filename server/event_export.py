"""The event log as JSON Lines, for a provincial or national warehouse that loads it
continuously (issue 16): ``xephang export events --after SEQ``.

Each line is one event, in ``seq`` order, self-contained: its time (ISO 8601, UTC, to the
microsecond), site, type, actor, device, counter, its own facts (``data``, as stored:
server/event_rows.py) and, for a ticket's event, what issuing fixed about the ticket (its
id, day, number, origin service, priority, issuing kiosk) — never a page token or a retry
key. An export is idempotent: the same range gives the same lines, so a loader keyed on
``seq`` (``insert … on conflict do nothing``) can run it again after a failure and go on from
the last ``seq`` it holds. docs/integration.md shows the PostgreSQL side.

Reads a read-only connection beside a running server (WAL), in pages of ``PAGE`` events.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from server import event_rows

PAGE = 5000
FORMAT = 1  # the line format's version, in every line: a loader can refuse what it does not know

_EVENTS = """
select e.seq, e.at, e.site, e.type, e.actor, e.device, e.ticket_id, e.counter, e.data,
       t.day, t.number, t.origin_service, t.priority, t.issued_by
from events e left join tickets t on t.id = e.ticket_id
where e.seq > ? order by e.seq limit ?
"""

_encoder = msgspec.json.Encoder()


def connect(db: Path) -> sqlite3.Connection:
    """A read-only connection to ``db`` (FileNotFoundError when there is none)."""
    if not db.exists():
        raise FileNotFoundError(db)
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    conn.execute("pragma busy_timeout=5000")
    return conn


def events(conn: sqlite3.Connection, after: int, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The events with ``seq`` > ``after``, in order, at most ``limit`` (None: all)."""
    left = limit
    while left is None or left > 0:
        page = PAGE if left is None else min(PAGE, left)
        rows = conn.execute(_EVENTS, [after, page]).fetchall()
        for row in rows:
            yield line(row)
        if len(rows) < page:
            return
        after = rows[-1][0]
        if left is not None:
            left -= len(rows)


def line(row: tuple[Any, ...]) -> dict[str, Any]:
    seq, at, site, kind, actor, device, ticket_id, counter, data, day, number, origin, priority, kiosk = row
    found: dict[str, Any] = {
        "format": FORMAT, "seq": seq, "at": event_rows.from_micros(at).isoformat(), "site": site,
        "type": kind, "actor": actor, "device": device, "counter": counter,
        "data": event_rows.decode(data),
    }
    if ticket_id is not None:
        found["ticket"] = {"id": ticket_id, "day": day, "number": number, "origin_service": origin,
                           "priority": priority, "issued_by": kiosk}
    return found


INTERNAL_DATA = ("code",)  # a booking's code is a credential: outward lines carry its "ref"


def outward(found: dict[str, Any]) -> dict[str, Any]:
    """The line as it leaves the server (exports, webhooks): without what only the server
    may hold (a booking's code, see server/booking_store.booking_ref)."""
    data = found.get("data")
    if not data or not any(key in data for key in INTERNAL_DATA):
        return found
    return {**found, "data": {k: v for k, v in data.items() if k not in INTERNAL_DATA}}


def encode(found: dict[str, Any]) -> bytes:
    return _encoder.encode(found) + b"\n"
