"""``xephang display --screenshot``: grab the window once the first snapshot is drawn (a new
display: its pairing code; or after ``TIMEOUT_MS``: the connecting screen), save it as a PNG
and quit."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from display.app import DisplayApp

log = logging.getLogger(__name__)

TIMEOUT_MS = 8000
SETTLE_MS = 400


def take(display_app: DisplayApp, path: Path) -> int:
    view = display_app.screen
    view.show()
    outcome = {"rc": 0, "taken": False, "armed": False}

    def grab() -> None:
        if outcome["taken"]:
            return
        outcome["taken"] = True
        path.parent.mkdir(parents=True, exist_ok=True)
        if not view.grab().save(str(path), "PNG", 0):  # 0: smallest file (lossless)
            print(f"xephang display: error: cannot write {path}", file=sys.stderr)
            outcome["rc"] = 1
        else:
            log.info("screenshot saved to %s", path)
        QApplication.quit()

    def on_change() -> None:
        if display_app.drawn and not outcome["armed"]:
            outcome["armed"] = True
            QTimer.singleShot(SETTLE_MS, grab)

    display_app.display.changed.connect(on_change)
    if display_app.enrollment is not None:
        display_app.enrollment.state.changed.connect(on_change)
    QTimer.singleShot(TIMEOUT_MS, grab)
    display_app.exec()
    return int(outcome["rc"])
