"""What both display windows (the hall board and the counter display) share: the site's
time zone and the keys (L: language, F11: full screen, Ctrl+Q: quit)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from common.i18n import Translator
from display.board_state import BoardState

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def site_zone(state: BoardState, fallback: str) -> zoneinfo.ZoneInfo:
    """The site's zone from the snapshot, else the configured one; Vietnam's if either is unknown."""
    name = state.site.timezone if state.site else fallback
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_ZONE)


def handle_window_key(window: QWidget, event: QKeyEvent, translator: Translator,
                      redraw: Callable[[], None]) -> bool:
    """Act on the display's own keys; False for any other key (the caller passes it on)."""
    key = event.key()
    if key == Qt.Key.Key_L:
        translator.toggle()
        redraw()
    elif key == Qt.Key.Key_F11:
        window.showNormal() if window.isFullScreen() else window.showFullScreen()
    elif key == Qt.Key.Key_Q and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
        window.close()
    else:
        return False
    return True
