"""``DisplayApp``: one display put together — the connection logged in as the device,
``DisplayState``, the window (the hall board or one counter's display) and the announcer
(espeak-ng speech played through QtMultimedia), with the timer that lets the spotlight
expire.

A display with its own credential file (``enrollment``) shows its pairing screen instead of
the window until a manager has paired it (``common/device_enrollment.py``).

``display/cli.py`` builds one from the command line; the GUI tests build the same against
a live server, with a recording announcer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from common.device_enrollment import DeviceEnrollment
from common.pairing_view import DeviceFrame
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

    def __init__(self, *, url: str, board: BoardState, view: ViewFactory, token: str | None = None,
                 enrollment: DeviceEnrollment | None = None,
                 announcer: AnnouncerFactory | None = None) -> None:
        """Log in with ``token`` (from the configuration file), or through ``enrollment``
        (the display's own credential file, paired when it has none): exactly one of them."""
        super().__init__()
        if (token is None) == (enrollment is None):
            raise ValueError("a display logs in with either a token or its enrollment")
        self.url = url
        self.display = DisplayState(board)
        self.announcer = announcer(self.display) if announcer is not None else None
        if self.announcer is not None:
            self.display.set_announcer(self.announcer)
        self.enrollment = enrollment
        if enrollment is not None:
            self.connection = QtConnection(url, enrollment.authenticate)
            enrollment.attach(self.connection)
        else:
            assert token is not None
            self.connection = QtConnection(url, device_login(token))
        self.connection.message.connect(self.display.on_message)
        self.connection.status_changed.connect(self.display.on_status)
        self.window = view(self.display)
        self.frame = DeviceFrame(enrollment.state, self.window, url) if enrollment is not None else None
        self._expiry = QTimer(self)
        self._expiry.setInterval(EXPIRY_CHECK_MS)
        self._expiry.timeout.connect(self.display.tick)
        self._expiry.start()

    @property
    def screen(self) -> QWidget:
        """What goes on the screen: the window, or the frame showing pairing before it."""
        return self.frame if self.frame is not None else self.window

    @property
    def drawn(self) -> bool:
        """Something worth a screenshot: the board, or the pairing code."""
        if self.enrollment is not None and self.enrollment.state.pairing:
            return bool(self.enrollment.state.code)
        return self.display.board.ready

    def start(self) -> None:
        self.connection.start()

    def run(self, *, full_screen: bool) -> int:
        """Show the window (full screen: a TV with no pointer) until the application quits."""
        screen = self.screen
        if full_screen:
            screen.setCursor(Qt.CursorShape.BlankCursor)
            screen.showFullScreen()
        else:
            screen.show()
        return self.exec()

    def exec(self) -> int:
        """Follow the server until the application quits; then stop and close the window."""
        self.start()
        try:
            with collected_on_gui_thread():  # never on the speech thread (see common/qt_gc.py)
                return QApplication.exec()
        finally:
            self.stop()
            self.screen.close()
            self.screen.deleteLater()

    def stop(self) -> None:
        """Close the connection, stop the clock and the announcer (the window stays)."""
        self.connection.stop()
        self._expiry.stop()
        if self.frame is not None:
            self.frame.stop()
        self.display.close()
