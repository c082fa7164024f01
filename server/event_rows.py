"""The ``events`` table's row format, defined once: what each event keeps in its ``data``.

An event row holds the event's own facts in columns — ``seq``, ``at`` (microseconds since
the Unix epoch, UTC, an integer), ``site``, ``type``, ``actor``, ``device``, ``ticket_id``,
``counter`` (a ticket event's ``ticket.counter``, a counter event's number) — and in
``data`` a small JSON object (NULL when it would be empty): the event's own fields (a
call's ``reason``, a transfer's ``from_service``/``from_counter``, a counter change's
``change``) plus only those fields of
the ticket or counter that the event set and that the ``tickets``/``counters`` row may
overwrite later, or that a reader needs (``TICKET_FIELDS``, ``COUNTER_FIELDS``). Fields
whose value is null are left out. The ticket as a whole is its ``tickets`` row.

Until migration 3 every row's ``data`` held the whole ticket (or counter) as JSON, and
``at`` an ISO 8601 text: ``legacy_data`` turns such a payload into this format, from the
same tables, so a migrated row equals the row the same event is written as today.
docs/architecture.md ("The event log") lists the format per type.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from server.core import events as ev

# Per event type: the ticket's fields its row keeps. Everything else about the ticket is in
# its ``tickets`` row (fixed at issue: number, origin service, priority, issued_at/_by) or is
# the event's own time and actor (called_at, started_at, finished_at, absent_at, held_at, clerk).
TICKET_FIELDS: dict[str, tuple[str, ...]] = {
    "ticket_issued": (),
    "ticket_called": ("service",),  # the display's recent calls name the service called
    "service_started": (),
    "ticket_finished": ("outcome", "dossier_code"),
    "ticket_absent": (),
    "ticket_held": ("note",),
    "ticket_transferred": ("service", "target_counter"),  # where it went (from_*: where from)
    "ticket_cancelled": ("note",),  # the reason given, if any
    "ticket_expired": (),
    "ticket_rated": ("rating",),
}
# A counter event's counter fields (its number is the ``counter`` column, its status follows
# from ``change``: opened and resumed → open, paused → paused, closed → closed).
COUNTER_FIELDS: dict[str, tuple[str, ...]] = {
    "counter_changed": ("clerk", "pause_reason"),
}
_COMMON = ("at", "actor", "device", "ticket", "counter")

if set(TICKET_FIELDS) | set(COUNTER_FIELDS) != set(ev.EVENT_TYPES.values()):
    raise RuntimeError("server.event_rows: every event type needs its row format")

_OWN_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in dataclasses.fields(kind) if f.name not in _COMMON)
    for kind in ev.EVENT_TYPES
}
_encoder = msgspec.json.Encoder()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def event_data(event: ev.Event) -> str | None:
    """The ``data`` column of ``event``'s row: JSON, or None for nothing to keep."""
    kind = type(event)
    data = {name: getattr(event, name) for name in _OWN_FIELDS[kind]}
    name = ev.EVENT_TYPES[kind]
    if isinstance(event, ev.TicketEvent):
        data.update((f, getattr(event.ticket, f)) for f in TICKET_FIELDS[name])
    elif isinstance(event, ev.CounterEvent):
        data.update((f, getattr(event.counter, f)) for f in COUNTER_FIELDS[name])
    return _json({k: v for k, v in data.items() if v is not None})


def legacy_data(type_name: str, data: str | bytes | None) -> str | None:
    """An old row's ``data`` (the whole ticket or counter) in today's format; a payload
    already in today's format comes back unchanged (so a migration can run twice)."""
    if data is None:
        return None
    old = msgspec.json.decode(data)
    whole = old.pop("ticket", None)
    fields = TICKET_FIELDS.get(type_name, ())
    if whole is None:
        whole = old.pop("counter", None)
        fields = COUNTER_FIELDS.get(type_name, ())
    if isinstance(whole, dict):
        old.update((f, whole.get(f)) for f in fields)
    return _json({k: v for k, v in old.items() if v is not None})


def _json(data: dict[str, Any]) -> str | None:
    return _encoder.encode(data).decode() if data else None


def micros(at: datetime) -> int:
    """The ``at`` column: an aware time as whole microseconds since the epoch (exact)."""
    return (at - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def legacy_at(value: str | int) -> int:
    """An old row's ``at`` (ISO 8601 text) as today's integer; an integer stays as it is."""
    if isinstance(value, int):
        return value
    return micros(datetime.fromisoformat(value))


def decode(data: str | bytes | None) -> dict[str, Any]:
    """A row's ``data`` as a dict (empty for NULL)."""
    if data is None:
        return {}
    decoded: dict[str, Any] = msgspec.json.decode(data)
    return decoded
