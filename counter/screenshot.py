"""``--screenshot``: bring the app to one screen against a running server, save a PNG.

login: the form (nothing is sent). idle/serving/offline/rating: log in with the given
credentials, open the counter and wait for the first snapshot (at most ``WAIT_SECONDS``,
after which whatever is shown — the offline state — is saved). serving calls the next
number if the counter is free and someone waits, then starts serving it. offline drops the
connection after the snapshot, exactly as a network failure would. rating shows the
rating window asking about the ticket this counter finished last.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from counter.actions import Phase
from counter.app import CounterApp

log = logging.getLogger(__name__)

WAIT_SECONDS = 8.0
SCREENS = ("login", "serving", "idle", "offline", "rating")


def wait_until(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    loop = QEventLoop()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    return True


def settle(seconds: float = 0.3) -> None:
    wait_until(lambda: False, seconds)


def take(app: CounterApp, screen: str, file: Path, username: str | None, password: str | None) -> int:
    state = app.state
    window = app.window
    window.show()
    if username:
        window.login_page.username.setText(username)
    if screen == "login" or not (username and password):
        window.refresh()
        window.login_page.focus_first_empty()
        return _save(window, file)
    state.login(username, password)
    ready = wait_until(lambda: state.phase is Phase.READY or state.phase is Phase.LOGIN, WAIT_SECONDS)
    if state.phase is Phase.READY:
        if screen == "serving":
            _serve_one(app)
        elif screen == "offline":
            app.link.stop()
            state.on_status("offline")
    elif not ready:
        state.on_status("offline")
    settle(1.2)  # let the timers tick once
    if screen == "rating":
        rating = app.open_rating()
        ticket = state.mirror.last_finished()
        if ticket is not None:
            app.prompt.rated.discard(ticket.id)
            app.prompt.offer(ticket.id, ticket.number, app.now())
        settle()
        return _save(rating, file)
    return _save(window, file)


def _serve_one(app: CounterApp) -> None:
    state = app.state
    if state.mirror.active_ticket is None and state.commands.call_next():
        wait_until(lambda: state.pending is None and state.mirror.active_ticket is not None, WAIT_SECONDS)
    ticket = state.mirror.active_ticket
    if ticket is not None and ticket.state == "called" and state.commands.start():
        wait_until(lambda: state.pending is None and state.active_state == "serving", WAIT_SECONDS)


def _save(widget: QWidget, file: Path) -> int:
    QApplication.processEvents()
    settle(0.2)
    if not widget.grab().save(str(file)):
        log.error("could not write %s", file)
        return 1
    return 0
