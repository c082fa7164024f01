"""Appointment messages to the booking's phone (issues 14 and 16), for the consumer "notify":

- ``booking_confirmed`` when a booking is made (its ``booking_made`` event) or moved to
  another slot (``booking_moved``: the new time is confirmed);
- ``booking_reminder`` the day before the appointment, at ``REMINDER_AT`` local time — or,
  when the outbox process was not running then, at its first look after that, as long as
  the slot has not begun. A booking made after that moment (the same evening, or for the
  same day) gets no reminder: its confirmation came minutes before.

Each (booking, message, slot) is claimed once in ``outbox.sqlite`` (table
``booking_notices``) before it is sent, like the ticket messages (notify_store.py): a crash
between the claim and the answer sends it at the next start; nothing is sent twice for the
same slot. Just before sending, the booking is read again from the queue's database
(read-only): a booking cancelled, checked in, marked no-show or moved since, or whose slot
has begun, gets nothing (the claim is closed as ``skipped``).

The phone number is read from the bookings table at the moment of sending and is never
copied into ``outbox.sqlite``; it disappears with the booking retention
(``queue.booking_personal_data_days``). Bookings keep no language: the messages are in
Vietnamese. Channels: the Zalo ZNS template of the message when Zalo is on and has one, else
(or when Zalo refuses) the SMS gateway. Web Push needs a browser's subscription, which a
booking does not have.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from common.config import Config
from server.outbox.channels import Channel, Delivery
from server.outbox.notify_texts import notice, phone_number

log = logging.getLogger(__name__)

REMINDER_AT = time(17, 0)  # local time on the day before the appointment
CONFIRMED, REMINDER = "booking_confirmed", "booking_reminder"
CONFIRMING_EVENTS = ("booking_made", "booking_moved")
PHONE_CHANNELS = ("zalo", "sms")  # in the order they are tried

migrations = Migrations("xephang-outbox-booking-notices")


@migrations()
def m001_booking_notices(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table if not exists booking_notices (
            code text not null, message text not null, slot_start text not null,
            seq integer, state text not null, channel text, at text not null,
            status integer, duration_ms integer, detail text,
            primary key (code, message, slot_start)
        )
        """
    )
    db.execute("create index if not exists booking_notices_pending on booking_notices (state) "
               "where state = 'pending'")


_BOOKING = """
select code, site, service, day, slot_start, status, phone, created_at, kind
from bookings where code = ?
"""
_REMINDER_CANDIDATES = """
select code, site, service, day, slot_start, status, phone, created_at, kind
from bookings where kind = 'appointment' and status = 'booked' and phone is not null
and day in (?, ?) and slot_start > ?
"""


@dataclass(frozen=True)
class Booked:
    """What the messages need of a bookings row (the name and CCCD are not read)."""

    code: str
    site: str
    service: str
    day: date
    slot_start: datetime
    status: str
    phone: str | None
    created_at: datetime
    kind: str


@dataclass(frozen=True)
class Claimed:
    code: str
    message: str
    slot_start: str  # as the bookings table writes it (ISO, UTC)
    seq: int | None


def prepare(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.IntegrityError):  # another process applied it at the same time
        migrations.apply(sqlite_utils.Database(conn))


def booked(row: tuple[Any, ...]) -> Booked:
    code, site, service, day, start, status, phone, created, kind = row
    return Booked(code, site, service, date.fromisoformat(day), datetime.fromisoformat(start), status,
                  phone, datetime.fromisoformat(created), kind)


def reminder_moment(day: date, config: Config) -> datetime:
    """When the reminder of an appointment on ``day`` is due (UTC)."""
    return datetime.combine(day - timedelta(days=1), REMINDER_AT, tzinfo=config.tz).astimezone(UTC)


def reminder_due(b: Booked, now: datetime, config: Config) -> bool:
    """Still booked, the slot ahead, the moment passed, and booked before that moment."""
    moment = reminder_moment(b.day, config)
    return (b.kind == "appointment" and b.status == "booked" and b.phone is not None
            and moment <= now < b.slot_start and b.created_at < moment)


def confirmations(lines: list[dict[str, Any]]) -> list[Claimed]:
    """A confirmation for each booking made or moved in these events."""
    found: list[Claimed] = []
    for line in lines:
        data = line.get("data") or {}
        if line["type"] in CONFIRMING_EVENTS and data.get("code") and data.get("slot_start"):
            found.append(Claimed(data["code"], CONFIRMED, data["slot_start"], line["seq"]))
    return found


def reminders(main: sqlite3.Connection, now: datetime, config: Config) -> list[Claimed]:
    """The reminders due now (those already claimed are ignored by ``claim``)."""
    today = now.astimezone(config.tz).date()
    rows = main.execute(_REMINDER_CANDIDATES, [today.isoformat(), (today + timedelta(days=1)).isoformat(),
                                               now.astimezone(UTC).isoformat()]).fetchall()
    return [Claimed(b.code, REMINDER, b.slot_start.isoformat(), None)
            for b in map(booked, rows) if reminder_due(b, now, config)]


def claim(conn: sqlite3.Connection, claims: list[Claimed], at: datetime) -> None:
    """Each (booking, message, slot) once: a row already there stays as it is."""
    if not claims:
        return
    conn.execute("begin immediate")
    try:
        conn.executemany(
            "insert or ignore into booking_notices (code, message, slot_start, seq, state, at) "
            "values (?, ?, ?, ?, 'pending', ?)",
            [(c.code, c.message, c.slot_start, c.seq, at.isoformat()) for c in claims])
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise


def pending(conn: sqlite3.Connection) -> list[Claimed]:
    rows = conn.execute("select code, message, slot_start, seq from booking_notices "
                        "where state = 'pending' order by at, seq, code").fetchall()
    return [Claimed(*row) for row in rows]


def record(conn: sqlite3.Connection, item: Claimed, state: str, channel: str | None,
           delivery: Delivery | None, at: datetime, detail: str = "") -> None:
    conn.execute(
        "update booking_notices set state = ?, channel = ?, at = ?, status = ?, duration_ms = ?, detail = ? "
        "where code = ? and message = ? and slot_start = ?",
        [state, channel, at.isoformat(), delivery.status if delivery else None,
         delivery.duration_ms if delivery else None, (delivery.detail if delivery else "") or detail,
         item.code, item.message, item.slot_start])


def sent_log(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every claimed appointment message, oldest first (tests, and an operator's look)."""
    cursor = conn.execute("select code, message, slot_start, seq, state, channel, status, detail "
                          "from booking_notices order by at, code, message")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def carriers(channels: dict[str, Channel], message: str) -> list[Channel]:
    """The channels that can say ``message`` to a phone, in the order they are tried."""
    return [channels[name] for name in PHONE_CHANNELS if name in channels and channels[name].handles(message)]


def why_not(b: Booked | None, item: Claimed, now: datetime) -> str | None:
    """Why a claimed message is no longer worth sending (None: send it)."""
    if b is None:
        return "no booking"
    if b.status != "booked":
        return f"booking {b.status}"
    if b.slot_start.astimezone(UTC).isoformat() != item.slot_start:
        return "moved since"
    if b.phone is None:
        return "no phone"
    if b.slot_start <= now:
        return "slot begun"
    return None


def fields(b: Booked, config: Config) -> dict[str, Any]:
    """What the texts and a Zalo template may name (common/notify_config.NOTIFY_FIELDS)."""
    site = config.site(b.site)
    service = site.service(b.service) if site else None
    start = b.slot_start.astimezone(config.tz)
    opens = start - timedelta(minutes=service.booking.checkin_early_minutes) if service else start
    return {
        "code": f"{b.code[:4]}-{b.code[4:]}", "site_name": site.name if site else b.site,
        "service_name": service.name_vi if service else b.service,
        "day": start.strftime("%d/%m/%Y"), "time": start.strftime("%H:%M"),
        "checkin_opens": opens.strftime("%H:%M"),
        "url": f"{config.server.public_url.rstrip('/')}/book/{b.code}",
    }


async def send(conn: sqlite3.Connection, main: sqlite3.Connection, channels: dict[str, Channel],
               config: Config, now: datetime) -> None:
    """Send every pending appointment message that is still worth it (one at a time: a few a
    day per booking, no rush)."""
    for item in pending(conn):
        row = main.execute(_BOOKING, [item.code]).fetchone()
        b = booked(row) if row else None
        reason = why_not(b, item, now)
        if reason is not None or b is None:
            record(conn, item, "skipped", None, None, now, reason or "")
            continue
        tried = carriers(channels, item.message)
        target = phone_number(b.phone or "")
        if not tried or target is None:
            continue  # no channel for it now: kept pending while it is worth sending
        values = fields(b, config)
        text = notice(item.message, "vi", values, values["url"], tag=f"xephang-booking-{b.code}")
        delivery: Delivery | None = None
        for channel in tried:
            delivery = await channel.send(target, text)
            if delivery.sent:
                break
            log.warning("%s of booking %s… by %s not sent: %s %s", item.message, b.code[:2], channel.name,
                        delivery.status, delivery.detail)
        assert delivery is not None
        record(conn, item, "sent" if delivery.sent else "failed", channel.name, delivery, now)
