"""``DisplayApp``: one display put together — the connection logged in as the device,
``DisplayState``, the window (the hall board or one counter's display) and the announcer
(espeak-ng speech played through QtMultimedia), with the timer that lets the spotlight
expire.

``display/cli.py`` builds one from the command line; the GUI tests build the same against
a live server, with a recording announcer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from common.qt_client import QtConnection, device_login
from common.qt_gc import collected_on_gui_thread
from display.announcer import Announcer, create_qt_announcer
from display.board_state import BoardState
from display.state import DisplayState

EXPIRY_CHECK_MS = 200

ViewFactory = Callable[[DisplayState], QWidget]
AnnouncerFactory = Callable[[DisplayState], Announcer]


def qt_announcer(*, cache_dir: Path | None = None, parent: QObject | None = None) -> AnnouncerFactory:
    """The production announcer (espeak-ng + QtMultimedia), reporting to the display's state."""

    def build(display: DisplayState) -> Announcer:
        return create_qt_announcer(
            display.board.announcement_settings(), cache_dir=cache_dir, parent=parent,
            on_started=display.announcement_started, on_finished=display.announcement_finished)

    return build


class DisplayApp(QObject):
    """Connection + state + window + announcer for one display device."""

    def __init__(self, *, url: str, token: str, board: BoardState, view: ViewFactory,
                 announcer: AnnouncerFactory | None = None) -> None:
        super().__init__()
        self.url = url
        self.display = DisplayState(board)
        self.announcer = announcer(self.display) if announcer is not None else None
        if self.announcer is not None:
            self.display.set_announcer(self.announcer)
        self.connection = QtConnection(url, device_login(token))
        self.connection.message.connect(self.display.on_message)
        self.connection.status_changed.connect(self.display.on_status)
        self.window = view(self.display)
        self._expiry = QTimer(self)
        self._expiry.setInterval(EXPIRY_CHECK_MS)
        self._expiry.timeout.connect(self.display.tick)
        self._expiry.start()

    def start(self) -> None:
        self.connection.start()

    def run(self, *, full_screen: bool) -> int:
        """Show the window (full screen: a TV with no pointer) until the application quits."""
        if full_screen:
            self.window.setCursor(Qt.CursorShape.BlankCursor)
            self.window.showFullScreen()
        else:
            self.window.show()
        return self.exec()

    def exec(self) -> int:
        """Follow the server until the application quits; then stop and close the window."""
        self.start()
        try:
            with collected_on_gui_thread():  # never on the speech thread (see common/qt_gc.py)
                return QApplication.exec()
        finally:
            self.stop()
            self.window.close()
            self.window.deleteLater()

    def stop(self) -> None:
        """Close the connection, stop the clock and the announcer (the window stays)."""
        self.connection.stop()
        self._expiry.stop()
        self.display.close()
