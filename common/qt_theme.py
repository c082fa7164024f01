"""Qt set-up shared by the desktop apps: the bundled Vietnamese font as the default."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from common.assets import ASSETS_DIR

log = logging.getLogger(__name__)
FAMILY = "Be Vietnam Pro"


def install_fonts(app: QApplication, point_size: int = 12) -> str:
    """Register every bundled font and make Be Vietnam Pro the application font."""
    families: set[str] = set()
    for path in sorted((ASSETS_DIR / "fonts").glob("*.ttf")):
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            log.warning("could not load font %s", path)
            continue
        families.update(QFontDatabase.applicationFontFamilies(font_id))
    family = FAMILY if FAMILY in families else app.font().family()
    app.setFont(QFont(family, point_size))
    return family


NO_SCREEN = ("no screen to draw on (DISPLAY and WAYLAND_DISPLAY are unset); run it in the desktop "
             "session, or set QT_QPA_PLATFORM (e.g. eglfs or linuxfb on a kiosk or TV box)")


def choose_platform(screenshot: bool) -> bool:
    """Pick Qt's platform before the QApplication exists; False if there is no screen.

    A screenshot needs no screen, so without one it renders offscreen instead of letting
    Qt abort.
    """
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return True
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return True
    return False


def platform_or_complain(prog: str, *, screenshot: bool) -> bool:
    """``choose_platform``; when there is no screen, say so on stderr (the app exits 2)."""
    if choose_platform(screenshot):
        return True
    print(f"{prog}: error: {NO_SCREEN}", file=sys.stderr)
    return False
