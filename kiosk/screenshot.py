"""``xephang kiosk --screenshot``: wait for the first snapshot, or a new kiosk's pairing code
(at most ``WAIT_MS``), save the window as a PNG."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from kiosk.app import SIZES, KioskApp

WAIT_MS = 8000


def take(kiosk_app: KioskApp, path: Path, orientation: str) -> int:
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
    QApplication.processEvents()
    if not window.grab().save(str(path)):
        print(f"xephang kiosk: error: cannot write {path}", file=sys.stderr)
        return 1
    print(path)
    return 0
