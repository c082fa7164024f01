"""Glue between the connection, the board state, the announcer and the views.

``DisplayController`` is the only object that touches all of them: it applies every
server message to the ``BoardState`` (on the Qt thread), hands each new call to the
announcer with the call's key as the dedupe key, lets the announcer drive the spotlight
(so the board shows the call being spoken), expires the spotlight, and emits
``changed`` for the views to repaint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from common import protocol as p
from common.client import Connection
from display.announcement import Announcement
from display.announcer import Announcer, create_qt_announcer
from display.board_state import BoardState, CallKey, call_key

log = logging.getLogger(__name__)

EXPIRY_CHECK_MS = 200


def device_login(token: str) -> Callable[[Connection], object]:
    """The display's ``authenticate``: log in with its device token after every connect."""

    async def authenticate(connection: Connection) -> None:
        await connection.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=token))

    return authenticate


def utc_now() -> datetime:
    return datetime.now(UTC)


class DisplayController(QObject):
    """Feeds the board state and the announcer; tells the views when to repaint."""

    changed = Signal()

    def __init__(
        self,
        state: BoardState,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utc_now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.announcer: Announcer | None = None
        self._monotonic = monotonic
        self._wall = wall
        self._speaking: dict[int, tuple[Announcement, CallKey]] = {}  # id(announcement) →
        self.announced: list[CallKey] = []  # every call handed to the announcer, in order
        self._timer = QTimer(self)
        self._timer.setInterval(EXPIRY_CHECK_MS)
        self._timer.timeout.connect(self._expire)
        self._timer.start()

    # -- set-up -------------------------------------------------------------------------

    def set_announcer(self, announcer: Announcer | None) -> None:
        """Use ``announcer`` (built with this controller's ``announcement_started`` and
        ``announcement_finished`` as its callbacks); None: silent board."""
        self.announcer = announcer
        self.state.spotlight_follows_announcer = announcer is not None
        settings = self.state.announcement_settings()
        if announcer is not None and settings is not None and settings != announcer.settings:
            announcer.update_settings(settings)

    def attach(self, connection: QObject) -> None:
        """Follow a ``QtConnection`` (or anything with the same two signals)."""
        connection.message.connect(self.on_message)  # type: ignore[attr-defined]
        connection.status_changed.connect(self.on_status)  # type: ignore[attr-defined]

    def now(self) -> float:
        return self._monotonic()

    # -- inputs -------------------------------------------------------------------------

    @Slot(object)
    def on_message(self, message: p.ServerMessage) -> None:
        if isinstance(message, p.Error):
            log.warning("server error: %s %s", message.code, message.message_en)
            return
        calls = self.state.apply(message, self._monotonic(), self._wall())
        if isinstance(message, p.Snapshot):
            self._apply_settings()
        for call in calls:
            self._announce(call)
        if isinstance(message, p.Welcome | p.Snapshot | p.Update):
            self.changed.emit()

    @Slot(str, str)
    def on_status(self, status: str, detail: str) -> None:
        before = (self.state.link, self.state.link_detail)
        self.state.set_link(status, detail)
        if status == "rejected":
            log.error("the server refused this display: %s", detail)
        if (self.state.link, self.state.link_detail) != before:
            self.changed.emit()

    def _apply_settings(self) -> None:
        if self.announcer is None:
            return
        settings = self.state.announcement_settings()
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
            self.state.spotlight_call(key, self._monotonic())
            self.state.release_spotlight(key, self._monotonic())
            return
        # Registered before enqueue: an idle announcer starts (and may finish) inside it.
        self._speaking[id(announcement)] = (announcement, key)
        if self.announcer.enqueue(key, announcement):
            self.announced.append(key)
        else:
            self._speaking.pop(id(announcement), None)

    def announcement_started(self, announcement: Announcement) -> None:
        entry = self._speaking.get(id(announcement))
        if entry is not None and self.state.spotlight_call(entry[1], self._monotonic()):
            self.changed.emit()

    def announcement_finished(self, announcement: Announcement) -> None:
        entry = self._speaking.pop(id(announcement), None)
        if entry is not None:
            self.state.release_spotlight(entry[1], self._monotonic())
            self.changed.emit()

    # -- time ---------------------------------------------------------------------------

    def _expire(self) -> None:
        if self.state.expire(self._monotonic()):
            self.changed.emit()

    def local_now(self) -> datetime:
        """The wall clock shown on the board: this machine's, corrected to the server's."""
        from datetime import timedelta

        return self._wall() + timedelta(seconds=self.state.server_offset_seconds)

    def shutdown(self) -> None:
        self._timer.stop()
        if self.announcer is not None:
            self.announcer.close()


def build_announcer(controller: DisplayController, *, cache_dir: Path | None = None,
                    parent: QObject | None = None) -> Announcer:
    """The production announcer (espeak-ng + QtMultimedia) wired to ``controller``."""
    announcer = create_qt_announcer(
        controller.state.announcement_settings(), cache_dir=cache_dir, parent=parent,
        on_started=controller.announcement_started, on_finished=controller.announcement_finished,
    )
    controller.set_announcer(announcer)
    return announcer
