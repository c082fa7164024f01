"""Qt set-up shared by the desktop apps: the bundled Vietnamese font as the default."""

from __future__ import annotations

import logging

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
