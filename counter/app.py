"""``CounterApp``: the clerk's app put together — the link to the server, the state, the
window and the optional rating window, and the settings kept between runs (QSettings).

``counter/cli.py`` builds one from the command line; the GUI tests build the same against
a live server.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QApplication

from common import protocol as p
from common.clock import WallClock, utc_now
from common.i18n import Language
from common.qt_gc import collected_on_gui_thread
from counter.link import ServerLink
from counter.rating_state import RatingPrompt
from counter.settings import SettingsStore
from counter.state import CounterState
from counter.view import CounterWindow
from counter.view_rating import RatingWindow

log = logging.getLogger(__name__)


class QtSettingsStore:
    """QSettings (organisation "xephang", application "counter") as a SettingsStore."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.settings = settings or QSettings("xephang", "counter")

    def value(self, key: str) -> str | None:
        value = self.settings.value(key)
        return None if value is None else str(value)

    def set_value(self, key: str, value: str) -> None:
        self.settings.setValue(key, value)
        self.settings.sync()


class CounterApp(QObject):
    def __init__(self, url: str, *, settings: SettingsStore | None = None, language: Language | None = None,
                 counter: int | None = None, site: str | None = None,
                 now: WallClock = utc_now) -> None:
        super().__init__()
        self.url = url
        self.now = now
        settings = settings if settings is not None else QtSettingsStore()
        if language is None:
            language = "en" if settings.value("language") == "en" else "vi"
        self.link = ServerLink(url, parent=self)
        self.state = CounterState(self.link, settings=settings, now=now, language=language,
                                  preset_counter=counter, preset_site=site)
        self.link.message.connect(self.state.on_message)
        self.link.status_changed.connect(self.state.on_status)
        self.link.auth_failed.connect(self.state.on_auth_failed)
        self.link.select_failed.connect(self.state.on_select_failed)
        self.link.account_closed.connect(self.state.on_account_closed)
        self.prompt = RatingPrompt(self.state.commands.rate)
        self.rating_window: RatingWindow | None = None
        self.window = CounterWindow(self.state, url, toggle_rating=self.toggle_rating)
        self.window.closing.connect(self.shutdown)
        self.state.commands.finished.connect(self._finished)

    def run(self, *, username: str | None = None, password: str | None = None,
            rating_window: bool = False) -> int:
        """Show the window (logging in at once with both ``username`` and ``password``)
        until it is closed; the exit code."""
        if username:
            self.window.login_page.username.setText(username)
        self.show(rating_window=rating_window)
        if username and password:
            self.state.login(username, password)
        else:
            self.window.login_page.focus_first_empty()
        with collected_on_gui_thread():  # never on a worker thread (see common/qt_gc.py)
            code = QApplication.exec()
        self.shutdown()
        return code

    def show(self, rating_window: bool = False) -> None:
        self.window.show()
        if rating_window:
            self.open_rating()

    def open_rating(self) -> RatingWindow:
        if self.rating_window is None:
            self.rating_window = RatingWindow(self.state, self.prompt, self.now)
        self.rating_window.place()
        return self.rating_window

    def toggle_rating(self) -> None:
        if self.rating_window is not None and self.rating_window.isVisible():
            self.rating_window.hide()
            self.prompt.reset()
        else:
            self.open_rating()

    def _finished(self, ticket: p.TicketView) -> None:
        if self.rating_window is not None and self.rating_window.isVisible():
            self.prompt.offer(ticket.id, ticket.number, self.now(), ticket.rating is not None)

    def shutdown(self, timeout: float = 1.0) -> None:
        """Close the connection (briefly waiting for a clean close) and the rating window."""
        self.link.stop(timeout)
        if self.rating_window is not None:
            self.rating_window.close()
