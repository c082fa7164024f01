"""Everything a display does, as plain Python: no widgets, no socket, no clock reads of its own.

``DisplayState`` receives the server's messages (``on_message``), the connection's status
(``on_status``) and the passing of time (``tick``), and tells its listeners that it
``changed``. It owns the board's model (``board``: a ``BoardState``,
``display/board_state.py``), applies every message to it with the clocks it was given,
hands each new call to the announcer (any ``AnnouncerPort``; ``display/announcer.py`` in
the app) with the call's key as the dedupe key, and lets the announcer drive the spotlight,
so the board shows the call being spoken. The views only draw it.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Protocol

from common import protocol as p
from common.clock import Monotonic, WallClock, monotonic, utc_now
from common.listeners import Listeners
from display.announcement import Announcement, AnnouncementSettings
from display.board_state import BoardState, CallKey, call_key

log = logging.getLogger(__name__)


class AnnouncerPort(Protocol):
    """What the state needs of an announcer; it calls back ``announcement_started`` and
    ``announcement_finished`` for each announcement."""

    @property
    def settings(self) -> AnnouncementSettings: ...
    def update_settings(self, settings: AnnouncementSettings) -> None: ...
    def enqueue(self, event_key: Hashable | None, announcement: Announcement) -> bool: ...
    def close(self) -> None: ...


class DisplayState:
    """Feeds the board and the announcer; tells the views when to repaint."""

    def __init__(self, board: BoardState, *, clock: Monotonic = monotonic,
                 wall_clock: WallClock = utc_now) -> None:
        self.board = board
        self.announcer: AnnouncerPort | None = None
        self.clock = clock
        self.wall_clock = wall_clock
        self.changed = Listeners()
        self._speaking: dict[int, tuple[Announcement, CallKey]] = {}  # id(announcement) →
        self.announced: list[CallKey] = []  # every call handed to the announcer, in order

    # -- set-up -------------------------------------------------------------------------

    def set_announcer(self, announcer: AnnouncerPort | None) -> None:
        """Use ``announcer`` (built with this state's ``announcement_started`` and
        ``announcement_finished`` as its callbacks); None: silent board."""
        self.announcer = announcer
        self.board.spotlight_follows_announcer = announcer is not None
        settings = self.board.announcement_settings()
        if announcer is not None and settings is not None and settings != announcer.settings:
            announcer.update_settings(settings)

    # -- what the views ask ---------------------------------------------------------------

    def now(self) -> float:
        """Monotonic seconds, the time the board's spotlight is measured in."""
        return self.clock()

    def local_now(self) -> datetime:
        """The wall clock shown on the board: this machine's, corrected to the server's."""
        return self.wall_clock() + timedelta(seconds=self.board.server_offset_seconds)

    # -- inputs -------------------------------------------------------------------------

    def on_message(self, message: p.ServerMessage) -> None:
        if isinstance(message, p.Error):
            log.warning("server error: %s %s", message.code, message.message_en)
            return
        calls = self.board.apply(message, self.clock(), self.wall_clock())
        if isinstance(message, p.Snapshot):
            self._apply_settings()
        for call in calls:
            self._announce(call)
        if isinstance(message, p.Welcome | p.Snapshot | p.Update):
            self.changed.emit()

    def on_status(self, status: str, detail: str) -> None:
        board = self.board
        before = (board.link, board.link_detail)
        board.set_link(status, detail)
        if status == "rejected":
            log.error("the server refused this display: %s", detail)
        if (board.link, board.link_detail) != before:
            self.changed.emit()

    def _apply_settings(self) -> None:
        if self.announcer is None:
            return
        settings = self.board.announcement_settings()
        if settings is not None and settings != self.announcer.settings:
            log.info("announcement settings from the server: %s", settings)
            self.announcer.update_settings(settings)

    # -- announcements ------------------------------------------------------------------

    def _announce(self, call: p.CallView) -> None:
        key = call_key(call)
        if self.announcer is None:
            return
        try:
            announcement = Announcement.build(
                call.ticket_id, call.number, call.counter, call.reason == "recall", self.announcer.settings)
        except ValueError as exc:
            log.error("cannot announce %s at counter %s (%s); showing it only",
                      call.number, call.counter, exc)
            self.board.spotlight_call(key, self.clock())
            self.board.release_spotlight(key, self.clock())
            return
        # Registered before enqueue: an idle announcer starts (and may finish) inside it.
        self._speaking[id(announcement)] = (announcement, key)
        if self.announcer.enqueue(key, announcement):
            self.announced.append(key)
        else:
            self._speaking.pop(id(announcement), None)

    def announcement_started(self, announcement: Announcement) -> None:
        entry = self._speaking.get(id(announcement))
        if entry is not None and self.board.spotlight_call(entry[1], self.clock()):
            self.changed.emit()

    def announcement_finished(self, announcement: Announcement) -> None:
        entry = self._speaking.pop(id(announcement), None)
        if entry is not None:
            self.board.release_spotlight(entry[1], self.clock())
            self.changed.emit()

    # -- time ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Called a few times a second: the spotlight expires."""
        if self.board.expire(self.clock()):
            self.changed.emit()

    def close(self) -> None:
        if self.announcer is not None:
            self.announcer.close()
