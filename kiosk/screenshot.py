"""``xephang kiosk --screenshot``: wait for the first snapshot, or a new kiosk's pairing code
(at most ``WAIT_MS``), save the window as a PNG; ``--screen checkin`` opens the check-in
keypad first (a site with a bookable service)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from kiosk.app import SIZES, KioskApp
from kiosk.state import Screen

WAIT_MS = 8000


def take(kiosk_app: KioskApp, path: Path, orientation: str, screen: str = "home") -> int:
    window = kiosk_app.screen
    window.setFixedSize(*SIZES[orientation])
    window.show()
    loop = QEventLoop()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    kiosk_app.state.changed.connect(lambda: loop.quit() if kiosk_app.drawn else None)
    if kiosk_app.enrollment is not None:
        kiosk_app.enrollment.state.changed.connect(lambda: loop.quit() if kiosk_app.drawn else None)
    if not kiosk_app.drawn:
        deadline.start(WAIT_MS)
        loop.exec()
    if screen == "checkin" and kiosk_app.drawn:
        kiosk_app.state.open_checkin()
        if kiosk_app.state.screen != Screen.CHECKIN:
            print("xephang kiosk: error: no service of this site takes appointments", file=sys.stderr)
            return 1
    QApplication.processEvents()
    if not window.grab().save(str(path)):
        print(f"xephang kiosk: error: cannot write {path}", file=sys.stderr)
        return 1
    print(path)
    return 0
