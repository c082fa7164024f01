"""The hall board's model: what every display shows, built from snapshots and updates.

Pure Python, no Qt, no socket, no clock reads: every method that depends on time takes
``now`` (monotonic seconds) from the caller. The wiring feeds it the server's messages
and the connection status; the views only read it.

What it decides:

* **What is shown.** A display may show a subset of the counters and services (its
  ``DeviceView`` from the server's welcome, or the command line, which wins). When only
  counters are chosen, the services shown are the ones those counters serve.
* **What is announced.** ``apply_update`` returns the calls to announce: those in
  ``update.calls`` that were never seen before, for a shown counter, in ``seq`` order.
  A snapshot's ``recent_calls`` are remembered as seen and never announced, so a
  reconnect (or the first connection) is silent. ``call_key`` is the dedupe key used
  here and by the announcer.
* **The spotlight.** The newest call (or, when an announcer drives it, the call being
  spoken) is spotlighted for ``spotlight_seconds``; a spotlight held by a running
  announcement does not expire until that announcement ends (with a safety cap).
* **Staleness.** The last known board stays visible while offline; ``stale`` says so.
  A new snapshot replaces everything.
"""

from __future__ import annotations

import enum
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from common import protocol as p
from display.announcement import AnnouncementSettings

log = logging.getLogger(__name__)

CallKey = tuple[int, str, str]
ACTIVE_TICKET_STATES = frozenset({"called", "serving"})
MAX_CALLS_KEPT = 50  # calls kept for the "recent calls" list (before filtering)
MAX_SEEN = 4096  # call keys remembered for de-duplication
HOLD_CAP_SECONDS = 90.0  # an announcement that never reports its end releases the spotlight
LINGER_SECONDS = 3.0  # spotlight kept this long after its announcement ends


def call_key(call: p.CallView) -> CallKey:
    """Identity of one call event: the server's unique ``seq``, plus the ticket and time so
    a server started on a fresh database (seqs counting from 1 again) is never mistaken
    for a replay."""
    return (call.seq, call.ticket_id, call.at.isoformat())


class Link(enum.StrEnum):
    """The display's connection, as the people in the hall should understand it."""

    CONNECTING = "connecting"  # never had a snapshot yet
    ONLINE = "online"
    OFFLINE = "offline"  # lost; reconnecting by itself
    REJECTED = "rejected"  # the server refused this display (bad token, ...)


class Phase(enum.StrEnum):
    """What a counter is doing, as drawn on the board."""

    CALLING = "calling"  # a ticket was called; the citizen is on the way
    SERVING = "serving"
    IDLE = "idle"  # open, nobody at the desk
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CounterTile:
    number: int
    name: str
    phase: Phase
    ticket: str | None = None
    pause_reason: str | None = None
    spotlit: bool = False
    name_en: str = ""  # "": not known (an older server)

    def name_in(self, language: str) -> str:
        """The counter's name on a board in ``language`` ("vi" or "en")."""
        return self.name_en or self.name if language == "en" else self.name


@dataclass(frozen=True, slots=True)
class ServiceTile:
    code: str
    name_vi: str
    name_en: str
    waiting: int
    sold_out: bool


@dataclass(frozen=True, slots=True)
class Spotlight:
    call: p.CallView
    until: float  # monotonic seconds
    held: bool = False  # an announcement of this call is playing
    held_since: float = 0.0


def parse_filter_numbers(values: Iterable[int] | None) -> frozenset[int] | None:
    return frozenset(values) if values else None


def announcement_settings(view: p.AnnouncementView) -> AnnouncementSettings:
    """The server's announcement settings as the announcer's (ValueError if unusable)."""
    return AnnouncementSettings(
        template=view.template, repeat=view.repeat, number_style=view.number_style,  # type: ignore[arg-type]
        thousand=view.thousand, zero_tens=view.zero_tens, four=view.four, voice=view.voice, rate=view.rate,
        chime=view.chime,
    )


class BoardState:
    """Everything a hall board or counter display shows; fed messages, read by views."""

    def __init__(
        self,
        *,
        counters: Iterable[int] | None = None,
        services: Iterable[str] | None = None,
        recent_limit: int = 6,
        spotlight_seconds: float = 10.0,
        spotlight_follows_announcer: bool = False,
    ) -> None:
        self._cli_counters = parse_filter_numbers(counters)
        self._cli_services = frozenset(services) if services else None
        self._device_counters: frozenset[int] | None = None
        self._device_services: frozenset[str] | None = None
        self.recent_limit = recent_limit
        self.spotlight_seconds = spotlight_seconds
        self.spotlight_follows_announcer = spotlight_follows_announcer
        self.device: p.DeviceView | None = None
        self.site: p.SiteInfo | None = None
        self.day: date | None = None
        self.counters: dict[int, p.CounterView] = {}
        self.services: dict[str, p.ServiceView] = {}
        self.tickets: dict[str, p.TicketView] = {}  # active (called/serving) only
        self.calls: list[p.CallView] = []  # newest last, all counters
        self.spotlight: Spotlight | None = None
        self.link = Link.CONNECTING
        self.link_detail = ""
        self.server_offset_seconds = 0.0  # server clock - this machine's clock
        self.snapshots = 0
        self.synced_at: datetime | None = None  # server time of the last message applied
        self._seen: OrderedDict[CallKey, None] = OrderedDict()

    # -- filters ------------------------------------------------------------------------

    @property
    def counter_filter(self) -> frozenset[int] | None:
        return self._cli_counters if self._cli_counters is not None else self._device_counters

    @property
    def service_filter(self) -> frozenset[str] | None:
        """Services shown: chosen explicitly, else those the shown counters serve."""
        chosen = self._cli_services if self._cli_services is not None else self._device_services
        if chosen is not None:
            return chosen
        counters = self.counter_filter
        if counters is None:
            return None
        served = {code for n in counters if n in self.counters for code in self.counters[n].services}
        return frozenset(served) if served else None

    def shows_counter(self, number: int) -> bool:
        chosen = self.counter_filter
        return chosen is None or number in chosen

    # -- inputs -------------------------------------------------------------------------

    def apply(self, message: p.ServerMessage, now: float,
              local_time: datetime | None = None) -> list[p.CallView]:
        """Apply any server message; returns the calls to announce (only ever from updates)."""
        if isinstance(message, p.Welcome):
            self.apply_welcome(message, local_time)
        elif isinstance(message, p.Snapshot):
            self.apply_snapshot(message, now, local_time)
        elif isinstance(message, p.Update):
            return self.apply_update(message, now)
        return []

    def apply_welcome(self, welcome: p.Welcome, local_time: datetime | None = None) -> None:
        self.device = welcome.device
        if welcome.device is not None:
            self._device_counters = parse_filter_numbers(welcome.device.counters)
            self._device_services = frozenset(welcome.device.services) if welcome.device.services else None
        self._sync_clock(welcome.server_time, local_time)

    def apply_snapshot(self, snapshot: p.Snapshot, now: float, local_time: datetime | None = None) -> None:
        """Replace everything; remember its calls as seen (never announced)."""
        self.site = snapshot.site
        self.day = snapshot.site.day
        self.counters = {c.number: c for c in snapshot.counters}
        self.services = {s.code: s for s in snapshot.services}
        self.tickets = {t.id: t for t in snapshot.tickets if t.state in ACTIVE_TICKET_STATES}
        calls = sorted(snapshot.recent_calls, key=lambda c: c.seq)
        self.calls = calls[-MAX_CALLS_KEPT:]
        for call in calls:
            self._remember(call)
        self.snapshots += 1
        self.link, self.link_detail = Link.ONLINE, ""
        self.synced_at = snapshot.server_time
        self._sync_clock(snapshot.server_time, local_time)
        self._respotlight_after_snapshot(snapshot, now)

    def _respotlight_after_snapshot(self, snapshot: p.Snapshot, now: float) -> None:
        """Keep a spotlight only if it is still true; a display that starts right after a
        call shows it (silently) for what remains of its spotlight time."""
        if self.spotlight is not None:
            current = self.spotlight.call
            if not any(call_key(c) == call_key(current) for c in self.calls):
                self.spotlight = None
            return
        shown = [c for c in self.calls if self.shows_counter(c.counter)]
        if not shown:
            return
        newest = shown[-1]
        age = (snapshot.server_time - newest.at).total_seconds()
        if 0 <= age < self.spotlight_seconds and self._still_active(newest):
            self.spotlight = Spotlight(newest, now + self.spotlight_seconds - age)

    def apply_update(self, update: p.Update, now: float) -> list[p.CallView]:
        """Upsert what changed; returns the new calls to announce, oldest first."""
        if self.site is None:
            # Before the first snapshot there is nothing to update; the snapshot that
            # follows carries this state (and these calls, which stay unannounced).
            for call in update.calls:
                self._remember(call)
            return []
        if update.day is not None and self.day is not None and update.day != self.day:
            log.info("the server rolled over to %s: clearing calls", update.day)
            self.calls, self.spotlight, self.tickets = [], None, {}
            self.day = update.day
        for counter in update.counters:
            self.counters[counter.number] = counter
        for service in update.services:
            self.services[service.code] = service
        for ticket in update.tickets:
            if ticket.state in ACTIVE_TICKET_STATES:
                self.tickets[ticket.id] = ticket
            else:
                self.tickets.pop(ticket.id, None)
        fresh: list[p.CallView] = []
        for call in sorted(update.calls, key=lambda c: c.seq):
            if self._remember(call):
                self.calls.append(call)
                if self.shows_counter(call.counter):
                    fresh.append(call)
        del self.calls[:-MAX_CALLS_KEPT]
        if fresh and not self.spotlight_follows_announcer:
            self.spotlight = Spotlight(fresh[-1], now + self.spotlight_seconds)
        return fresh

    def set_link(self, status: str, detail: str = "") -> None:
        """The connection's status (``online``/``offline``/``connecting``/``rejected``)."""
        if status == "online":
            # Logged in again; only the snapshot that follows makes the board current.
            if self.link is Link.REJECTED:
                self.link = Link.OFFLINE if self.site is not None else Link.CONNECTING
        elif status == "rejected":
            self.link = Link.REJECTED
        elif status == "offline" or self.site is not None:
            self.link = Link.OFFLINE
        else:
            self.link = Link.CONNECTING
        self.link_detail = detail

    # -- spotlight ----------------------------------------------------------------------

    def spotlight_call(self, key: CallKey, now: float) -> bool:
        """Spotlight a known call (an announcer started speaking it) until it is released."""
        call = next((c for c in reversed(self.calls) if call_key(c) == key), None)
        if call is None:
            return False
        self.spotlight = Spotlight(call, now + self.spotlight_seconds, held=True, held_since=now)
        return True

    def release_spotlight(self, key: CallKey, now: float) -> None:
        """The announcement of ``key`` ended: let its spotlight expire normally."""
        spot = self.spotlight
        if spot is not None and call_key(spot.call) == key and spot.held:
            self.spotlight = Spotlight(spot.call, max(spot.until, now + LINGER_SECONDS))

    def expire(self, now: float) -> bool:
        """Drop an expired spotlight; True if the board changed."""
        spot = self.spotlight
        if spot is None:
            return False
        expired = now - spot.held_since >= HOLD_CAP_SECONDS if spot.held else now >= spot.until
        if expired:
            self.spotlight = None
        return expired

    def spotlight_at(self, now: float) -> p.CallView | None:
        """The spotlighted call at ``now`` (without changing anything)."""
        spot = self.spotlight
        if spot is None:
            return None
        if spot.held and now - spot.held_since < HOLD_CAP_SECONDS:
            return spot.call
        return spot.call if now < spot.until else None

    def next_expiry(self) -> float | None:
        """When ``expire`` may next change something (monotonic seconds), if ever."""
        spot = self.spotlight
        if spot is None:
            return None
        return spot.held_since + HOLD_CAP_SECONDS if spot.held else spot.until

    # -- outputs ------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """A snapshot has been received: there is a board to show."""
        return self.site is not None

    @property
    def stale(self) -> bool:
        """Showing the last known board while not connected."""
        return self.site is not None and self.link is not Link.ONLINE

    @property
    def notice(self) -> str:
        return self.site.notice if self.site else ""

    def counter_tiles(self, now: float | None = None) -> list[CounterTile]:
        spot_counter = None
        if now is not None:
            spot = self.spotlight_at(now)
            spot_counter = spot.counter if spot else None
        tiles = []
        for number in sorted(self.counters):
            if self.shows_counter(number):
                tiles.append(self._tile(self.counters[number], spot_counter == number))
        return tiles

    def counter_tile(self, number: int, now: float | None = None) -> CounterTile | None:
        counter = self.counters.get(number)
        if counter is None:
            return None
        spot = self.spotlight_at(now) if now is not None else None
        return self._tile(counter, spot is not None and spot.counter == number)

    def _tile(self, c: p.CounterView, spotlit: bool) -> CounterTile:
        phase, ticket, reason = self._phase(c)
        return CounterTile(c.number, c.name, phase, ticket, reason, spotlit, name_en=c.name_en)

    def _phase(self, c: p.CounterView) -> tuple[Phase, str | None, str | None]:
        """(what the counter is doing, the ticket shown, the pause reason)."""
        if c.status == "closed":
            return Phase.CLOSED, c.active_number, None
        if c.status == "paused":
            return Phase.PAUSED, c.active_number, c.pause_reason
        if c.active_number is None:
            return Phase.IDLE, None, None
        ticket = self.tickets.get(c.active_ticket or "")
        phase = Phase.CALLING if ticket is not None and ticket.state == "called" else Phase.SERVING
        return phase, c.active_number, None

    def recent_calls(self) -> list[p.CallView]:
        """The latest calls for shown counters, newest first, one line per ticket."""
        out: list[p.CallView] = []
        tickets: set[str] = set()
        for call in reversed(self.calls):
            if call.ticket_id in tickets or not self.shows_counter(call.counter):
                continue
            tickets.add(call.ticket_id)
            out.append(call)
            if len(out) >= self.recent_limit:
                break
        return out

    def service_tiles(self) -> list[ServiceTile]:
        chosen = self.service_filter
        return [
            ServiceTile(s.code, s.name_vi, s.name_en, s.waiting, s.closed_reason == "daily_cap_reached")
            for s in self.services.values() if chosen is None or s.code in chosen
        ]

    @property
    def total_waiting(self) -> int:
        return sum(tile.waiting for tile in self.service_tiles())

    def announcement_settings(self) -> AnnouncementSettings | None:
        """The site's announcement settings, or None (none yet, or unusable: logged)."""
        if self.site is None:
            return None
        try:
            return announcement_settings(self.site.announcement)
        except ValueError as exc:
            log.error("the server's announcement settings are unusable (%s); keeping defaults", exc)
            return None

    # -- internals ----------------------------------------------------------------------

    def _remember(self, call: p.CallView) -> bool:
        """Mark a call as seen; False if it already was."""
        key = call_key(call)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        while len(self._seen) > MAX_SEEN:
            self._seen.popitem(last=False)
        return True

    def seen(self, call: p.CallView) -> bool:
        return call_key(call) in self._seen

    def _still_active(self, call: p.CallView) -> bool:
        counter = self.counters.get(call.counter)
        return counter is not None and counter.active_ticket == call.ticket_id

    def _sync_clock(self, server_time: datetime, local_time: datetime | None) -> None:
        if local_time is not None:
            self.server_offset_seconds = (server_time - local_time).total_seconds()
