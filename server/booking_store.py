"""The bookings table (migration m010): each change in one transaction with its event row.

Runs on the database thread (``Service.run_db``) inside one ``Writer.exclusive`` step
(server/handlers/booking.py), so a booking's count-decide-insert is serialized with every
other booking change and every queue command: no place is sold twice. The event row
(``booking_made``, ``booking_cancelled``, ``booking_moved``, ``booking_checked_in``,
``booking_no_show``; ``ticket_id`` NULL) carries only the code, service, slot and channel,
never the name, phone or CCCD: it is what webhooks deliver.

The CCCD number is stored as ``HMAC-SHA256(key, number)`` (hex) with its last 4 digits; the
key is 32 random bytes in ``cccd.key`` beside the database (mode 0600), made on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from server import event_rows

KEY_FILE = "cccd.key"
BOOKING_EVENTS = (
    "booking_made",
    "booking_cancelled",
    "booking_moved",
    "booking_checked_in",
    "booking_no_show",
)
OPEN_STATUSES = ("booked", "checked_in")  # what holds a place and counts for the person
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredBooking:
    code: str
    site: str
    service: str
    day: date
    slot_start: datetime
    slot_end: datetime
    status: str
    name: str | None
    phone: str | None
    cccd_hash: str
    cccd_last4: str
    created_at: datetime
    changed_at: datetime
    checked_in_at: datetime | None
    ticket_id: str | None
    channel: str
    lead_minutes: int
    kind: str


_COLUMNS = ", ".join(f.name for f in StoredBooking.__dataclass_fields__.values())


def cccd_key(db_path: str | Path) -> bytes:
    """The keyed-hash secret beside the database, created (0600) the first time."""
    path = Path(db_path).resolve().parent / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        return key


def cccd_hash(key: bytes, cccd: str) -> str:
    return hmac.new(key, cccd.encode(), hashlib.sha256).hexdigest()


def booking_ref(key: bytes, code: str) -> str:
    """What the world outside sees of a booking: the code is a credential (whoever holds it
    sees the name and may move or cancel it), so webhooks and exports carry this keyed hash
    instead, the same for every event of the booking."""
    return hmac.new(key, b"booking-ref:" + code.encode(), hashlib.sha256).hexdigest()[:20]


def _database_file(conn: sqlite3.Connection) -> str:
    return str(next(row[2] for row in conn.execute("pragma database_list") if row[1] == "main"))


def _row(values: tuple[Any, ...]) -> StoredBooking:
    (
        code,
        site,
        service,
        day,
        start,
        end,
        status,
        name,
        phone,
        chash,
        last4,
        created,
        changed,
        checked,
        ticket,
        channel,
        lead,
        kind,
    ) = values
    return StoredBooking(
        code,
        site,
        service,
        date.fromisoformat(day),
        datetime.fromisoformat(start),
        datetime.fromisoformat(end),
        status,
        name,
        phone,
        chash,
        last4,
        datetime.fromisoformat(created),
        datetime.fromisoformat(changed),
        datetime.fromisoformat(checked) if checked else None,
        ticket,
        channel,
        lead,
        kind,
    )


def get(conn: sqlite3.Connection, code: str) -> StoredBooking | None:
    found = conn.execute(f"select {_COLUMNS} from bookings where code = ?", [code]).fetchone()
    return _row(found) if found else None


def booked_in_slot(
    conn: sqlite3.Connection, site: str, service: str, slot_start: datetime, slot_end: datetime
) -> int:
    """Bookings holding a place in the slot [start, end) (UTC): those whose own slot starts in
    it — after a manager changed the slot length or the hours, a booking made for the old
    slots still holds its place in the new slot its time falls in (docs/booking.md)."""
    return int(
        conn.execute(
            "select count(*) from bookings where site = ? and service = ? and slot_start >= ? "
            "and slot_start < ? and kind = 'appointment' and status in ('booked', 'checked_in')",
            [site, service, slot_start.isoformat(), slot_end.isoformat()],
        ).fetchone()[0]
    )


def booked_by_slot(conn: sqlite3.Connection, site: str, service: str, day: date) -> dict[str, int]:
    """Slot start (ISO, UTC) → bookings holding a place, for one day."""
    rows = conn.execute(
        "select slot_start, count(*) from bookings where site = ? and service = ? and day = ? "
        "and kind = 'appointment' and status in ('booked', 'checked_in') group by slot_start",
        [site, service, day.isoformat()],
    ).fetchall()
    return {start: count for start, count in rows}


def person_count(
    conn: sqlite3.Connection, site: str, chash: str, day: date, without: str | None = None
) -> int:
    """The person's bookings and remote numbers for ``day`` at ``site`` (all services)."""
    return int(
        conn.execute(
            "select count(*) from bookings where cccd_hash = ? and day = ? and site = ? "
            "and status in ('booked', 'checked_in') and code != ?",
            [chash, day.isoformat(), site, without or ""],
        ).fetchone()[0]
    )


def earliest_open_today(conn: sqlite3.Connection, site: str, chash: str, day: date) -> StoredBooking | None:
    """The person's earliest appointment still booked today at ``site`` (check-in by CCCD)."""
    found = conn.execute(
        f"select {_COLUMNS} from bookings where cccd_hash = ? and day = ? and site = ? "
        "and kind = 'appointment' and status = 'booked' order by slot_start limit 1",
        [chash, day.isoformat(), site],
    ).fetchone()
    return _row(found) if found else None


def in_transaction(conn: sqlite3.Connection, work: Callable[[], T]) -> T:
    """``work()`` in one immediate transaction, rolled back when it raises."""
    conn.execute("begin immediate")
    try:
        result = work()
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")
    return result


def insert(conn: sqlite3.Connection, booking: StoredBooking) -> None:
    conn.execute(
        f"insert into bookings ({_COLUMNS}) values ({', '.join('?' * 18)})",
        [
            booking.code,
            booking.site,
            booking.service,
            booking.day.isoformat(),
            booking.slot_start.isoformat(),
            booking.slot_end.isoformat(),
            booking.status,
            booking.name,
            booking.phone,
            booking.cccd_hash,
            booking.cccd_last4,
            booking.created_at.isoformat(),
            booking.changed_at.isoformat(),
            booking.checked_in_at.isoformat() if booking.checked_in_at else None,
            booking.ticket_id,
            booking.channel,
            booking.lead_minutes,
            booking.kind,
        ],
    )


def update(conn: sqlite3.Connection, code: str, now: datetime, **fields: Any) -> None:
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()}
    unknown = set(values) - set(StoredBooking.__dataclass_fields__)
    if unknown:  # the column names go into the statement's text: only the table's own
        raise ValueError(f"not columns of bookings: {sorted(unknown)}")
    sets = ", ".join(f"{name} = ?" for name in values)
    conn.execute(
        f"update bookings set {sets}, changed_at = ? where code = ?",
        [*values.values(), now.isoformat(), code],
    )


def delete(conn: sqlite3.Connection, code: str) -> None:
    conn.execute("delete from bookings where code = ?", [code])


def add_event(
    conn: sqlite3.Connection,
    kind: str,
    booking: StoredBooking,
    now: datetime,
    actor: str,
    device: str | None,
    **extra: Any,
) -> None:
    """The booking's event row: code, its outward reference, service, slot and channel only
    (never personal data). The code stays inside the server (event_export.outward drops it)."""
    assert kind in BOOKING_EVENTS
    data = {
        "code": booking.code,
        "ref": booking_ref(cccd_key(_database_file(conn)), booking.code),
        "service": booking.service,
        "slot_start": booking.slot_start.isoformat(),
        "channel": booking.channel,
        **extra,
    }
    conn.execute(
        "insert into events (at, site, type, actor, device, ticket_id, counter, data) "
        "values (?, ?, ?, ?, ?, NULL, NULL, ?)",
        [event_rows.micros(now), booking.site, kind, actor, device, msgspec.json.encode(data).decode()],
    )


def mark_no_shows(
    conn: sqlite3.Connection, closed_before: dict[str, datetime], now: datetime, limit: int = 500
) -> int:
    """Bookings still booked whose check-in window closed (per service: slots that started
    before ``closed_before[site:service]``) become no-shows, each with its event row."""
    marked = 0
    for key, before in closed_before.items():
        site, service = key.split(":", 1)
        rows = conn.execute(
            f"select {_COLUMNS} from bookings where status = 'booked' and site = ? and service = ? "
            "and slot_start < ? order by slot_start limit ?",
            [site, service, before.isoformat(), limit - marked],
        ).fetchall()
        for values in rows:
            booking = _row(values)
            update(conn, booking.code, now, status="no_show")
            add_event(conn, "booking_no_show", booking, now, "system", None)
            marked += 1
        if marked >= limit:
            break
    return marked


def forget_personal_data(conn: sqlite3.Connection, before_day: date) -> int:
    """Names and phones of bookings for days before ``before_day`` set NULL (retention)."""
    cursor = conn.execute(
        "update bookings set name = NULL, phone = NULL "
        "where day < ? and (name is not null or phone is not null)",
        [before_day.isoformat()],
    )
    return cursor.rowcount


def retention_day(today: date, days: int) -> date:
    """The first day whose bookings still keep names and phones."""
    return today - timedelta(days=days)


def citizens_of_day(conn: sqlite3.Connection, day: date) -> dict[str, str]:
    """Booking code → "Name · ••••••••1234" of the day's checked-in appointments (the counter's view)."""
    rows = conn.execute(
        "select code, name, cccd_last4 from bookings where day = ? and kind = 'appointment' "
        "and ticket_id is not null and name is not null",
        [day.isoformat()],
    ).fetchall()
    return {ticket: f"{name} · {'•' * 8}{last4}" for ticket, name, last4 in rows}
