"""The citizen notifications: the outbox consumer "notify" (issue 16).

It reads the committed events (server/outbox/consumer.py hands them in ``seq`` order) of the
sites where a ticket page opted in (server/outbox/notify_store.py), and decides:

- "your turn is near" for an opted-in ticket still waiting with ``notifications.near_at``
  people or fewer ahead — counted by the queue's own pure core
  (``server.core.positions.WaitingLines``, what the ticket page shows) over the site's waiting
  tickets as the queue's database holds them now;
- "you are called, counter N" on the ticket's ``ticket_called`` event (the first one: a
  recall or a later call after a transfer says nothing new).

Each (ticket, message, channel) is claimed once, written down before it is sent, and the
events count as done only after every claimed message has an answer (sent, or failed and
written down): a notification is news for minutes, so one a receiver refused is logged and
not retried, and one claimed before a crash is sent after it. Opt-ins of past days (phone
numbers are personal data) are deleted on the first events of a new day.

Appointments (issue 14): the booking's confirmation on its ``booking_made`` (or
``booking_moved``) event and a reminder the day before, from ``tick`` (the outbox process
calls it every ``process.TICK`` seconds), to the booking's phone: booking_notices.py.

The channels (server/outbox/channels.py) are built from the live settings at every
``configure``; a channel turned off keeps its opt-ins but sends nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import aiohttp

from common.config import Config, Site
from server import event_export
from server.core.model import Ticket, TicketState
from server.core.positions import WaitingLines
from server.outbox import booking_notices, vapid
from server.outbox import notify_store as store
from server.outbox.channels import Channel, SmsChannel, WebPushChannel, ZaloChannel
from server.outbox.consumer import OutboxContext
from server.outbox.notify_texts import notice

log = logging.getLogger(__name__)

KEY = "notify"
AT_ONCE = 16  # notifications sent concurrently

_TICKETS = """
select id, site, day, service, origin_service, sequence, number, priority, state, "order",
       target_counter, issued_at, token
from tickets where site = ? and day = ? and (state = 'waiting' or id in ({marks}))
"""


class Notify:
    key = KEY

    def __init__(self, context: OutboxContext, clock: Callable[[], datetime] | None = None) -> None:
        self.context = context
        self.clock = clock or (lambda: datetime.now(UTC))
        self.conn = context.outbox
        store.prepare(self.conn)
        booking_notices.prepare(self.conn)
        self.main: sqlite3.Connection | None = None
        self.config: Config | None = None
        self.channels: dict[str, Channel] = {}
        self.session: aiohttp.ClientSession | None = None
        self.purged_before: date | None = None

    def configure(self, config: Config) -> None:
        self.config = config
        self.channels = {}  # built at the next handle, inside the running loop (the session)

    async def handle(self, lines: list[dict[str, Any]]) -> int:
        config = self.config
        if config is None:
            return 0
        now = self.clock()
        today = now.astimezone(config.tz).date()
        if self.purged_before != today:
            forgotten = store.forget_before(self.conn, today)
            if forgotten:
                log.info("forgot %d opt-ins of past days", forgotten)
            self.purged_before = today
        optins = store.optins(self.conn, {line["site"] for line in lines})
        if optins:
            store.claim(self.conn, self._decide(config, lines, optins, now), now)
        channels = self._channels(config)
        if booking_notices.carriers(channels, booking_notices.CONFIRMED):
            booking_notices.claim(self.conn, booking_notices.confirmations(lines), now)
        await self._send_pending(config)
        await booking_notices.send(self.conn, self._main(), channels, config, now)
        return len(lines)

    async def tick(self) -> None:
        """Called by the outbox process every ``process.TICK`` seconds: the appointment
        reminders that are due are claimed and sent (booking_notices.py)."""
        config = self.config
        if config is None:
            return
        now = self.clock()
        channels = self._channels(config)
        if booking_notices.carriers(channels, booking_notices.REMINDER):
            booking_notices.claim(self.conn, booking_notices.reminders(self._main(), now, config), now)
        await booking_notices.send(self.conn, self._main(), channels, config, now)

    def _main(self) -> sqlite3.Connection:
        """The queue's database, read-only."""
        if self.main is None:
            self.main = event_export.connect(self.context.main_db)
        return self.main

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    # -- deciding ---------------------------------------------------------------------------

    def _decide(self, config: Config, lines: list[dict[str, Any]], optins: list[store.OptIn],
                now: datetime) -> list[store.Claim]:
        """(ticket, message, channel, seq, fields) for every message these events call for."""
        by_ticket: dict[str, list[store.OptIn]] = {}
        for optin in optins:
            by_ticket.setdefault(optin.ticket_id, []).append(optin)
        claims: list[store.Claim] = []
        called: dict[str, dict[str, Any]] = {}
        for line in lines:
            ticket = line.get("ticket")
            if line["type"] == "ticket_called" and ticket and ticket["id"] in by_ticket:
                called.setdefault(ticket["id"], line)
        sites = {line["site"]: line for line in lines}
        for site_code, last in sites.items():
            site = config.site(site_code)
            opted = [t for t, found in by_ticket.items() if found[0].site == site_code]
            if site is None or not opted:
                continue
            day = max(o.day for t in opted for o in by_ticket[t])
            tickets = self._tickets(site_code, day, opted)
            lines_now = WaitingLines(tickets.values(), config.queue)
            not_near = set(opted) - store.already(self.conn, opted, "near")
            for ticket_id in opted:
                ticket = tickets.get(ticket_id)
                if ticket is None:
                    continue
                call = called.get(ticket_id)
                if call is not None:
                    claims += [(ticket_id, "called", o.channel, call["seq"],
                                _fields(config, site, ticket, o.language, now, counter=call["counter"]))
                               for o in by_ticket[ticket_id]]
                elif ticket_id in not_near and ticket.state is TicketState.WAITING:
                    ahead = lines_now.ahead(ticket)
                    if ahead <= config.notifications.near_at:
                        claims += [(ticket_id, "near", o.channel, last["seq"],
                                    _fields(config, site, ticket, o.language, now, ahead=ahead))
                                   for o in by_ticket[ticket_id]]
        return claims

    def _tickets(self, site: str, day: date, ids: list[str]) -> dict[str, Ticket]:
        """The site's waiting tickets of ``day`` and the opted-in ones, as the queue holds them now."""
        main = self._main()
        found: dict[str, Ticket] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            sql = _TICKETS.format(marks=",".join("?" * len(part)))
            for row in main.execute(sql, [site, day.isoformat(), *part]):
                found[row[0]] = _ticket(row)
        return found

    # -- sending ----------------------------------------------------------------------------

    async def _send_pending(self, config: Config) -> None:
        store.drop_orphans(self.conn)
        waiting = store.pending(self.conn)
        if not waiting:
            return
        channels = self._channels(config)
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(item: store.Pending) -> None:
            channel = channels.get(item.channel)
            if channel is None or not channel.handles(item.message):
                return  # turned off (or no Zalo template for it): kept pending until it is back
            fields = item.fields
            url = fields.pop("url", "")
            async with gate:
                delivery = await channel.send(item.target, notice(item.message, item.language, fields, url,
                                                                  tag=f"xephang-{item.ticket_id}"))
            store.record(self.conn, item, delivery, self.clock())
            if not delivery.sent:
                log.warning("notification %s of %s by %s not sent: %s %s", item.message, item.ticket_id,
                            item.channel, delivery.status, delivery.detail)

        await asyncio.gather(*(one(item) for item in waiting))

    def _channels(self, config: Config) -> dict[str, Channel]:
        if self.channels:
            return self.channels
        if self.session is None:
            self.session = aiohttp.ClientSession()
        n = config.notifications
        channels: dict[str, Channel] = {}
        if n.webpush.enabled:
            key = vapid.private_key(self.context.data_dir)
            channels["webpush"] = WebPushChannel(self.session, key, n.webpush)
        if n.zalo.enabled:
            channels["zalo"] = ZaloChannel(self.session, n.zalo)
        if n.sms.enabled:
            channels["sms"] = SmsChannel(self.session, n.sms)
        self.channels = channels
        return channels


def _ticket(row: tuple[Any, ...]) -> Ticket:
    (ticket_id, site, day, service, origin, sequence, number, priority, state, order, target,
     issued_at, token) = row
    return Ticket(id=ticket_id, site=site, day=date.fromisoformat(day), service=service,
                  origin_service=origin, sequence=sequence, number=number, priority=priority,
                  state=TicketState(state), order=order, token=token, target_counter=target,
                  issued_at=datetime.fromisoformat(issued_at))


def _fields(config: Config, site: Site, ticket: Ticket, language: str, now: datetime, *,
            ahead: int | None = None, counter: int | None = None) -> dict[str, Any]:
    """What the texts and a Zalo template may name (NOTIFY_FIELDS), in the citizen's
    language, plus the page's address (``url``)."""
    english = language == "en"
    service = site.service(ticket.service)
    found: dict[str, Any] = {
        "number": ticket.number, "site_name": site.name,
        "service_name": (service.name_en if english else service.name_vi) if service else ticket.service,
        "day": ticket.day.strftime("%d/%m/%Y"),
        "time": now.astimezone(config.tz).strftime("%H:%M"),
        "url": f"{config.server.public_url.rstrip('/')}/t/{ticket.token}",
        "ahead": ahead if ahead is not None else "", "counter": counter if counter is not None else "",
        "counter_name": "",
    }
    place = site.counter(counter) if counter is not None else None
    if place is not None:
        found["counter_name"] = place.english_name if english else place.name
    return found
