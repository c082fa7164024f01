"""Custom widgets of the kiosk: the service tile, the tile grid, the QR code, the hidden press."""

from __future__ import annotations

import math
from dataclasses import dataclass

import qrcode
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QLabel, QSizePolicy, QWidget

from kiosk import view_style as st

LONG_PRESS_MS = 3000


@dataclass(frozen=True)
class TileContent:
    name: str
    agency: str
    status: str
    extra: str = ""  # e.g. "Còn 5 số"
    available: bool = True  # the service issues now (else greyed with the reason)


class ServiceTile(QAbstractButton):
    """A big card for one service: its name, agency and queue, or why it is closed."""

    def __init__(self, code: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = code
        self.content = TileContent("", "", "")
        self.unit = 1.0
        self.name_px: float | None = None  # shared by all tiles (the grid picks the size)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_content(self, content: TileContent, enabled: bool) -> bool:
        """Show new content; True when the text changed (names may need another size)."""
        text_changed = (content.name, content.status) != (self.content.name, self.content.status)
        if content != self.content or enabled != self.isEnabled():
            self.content = content
            self.setEnabled(enabled)
            self.setAccessibleName(f"{content.name}. {content.status}")
            self.update()
        return text_changed

    def sizeHint(self) -> QSize:
        return QSize(round(440 * self.unit), round(170 * self.unit))

    def paintEvent(self, event: QPaintEvent) -> None:
        u = self.unit
        c = self.content
        live = self.isEnabled() and c.available
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1.5 * u, 1.5 * u, -1.5 * u, -1.5 * u)
        radius = 18 * u
        background = st.ACCENT_SOFT if self.isDown() else (st.CARD if live else st.CLOSED_BG)
        painter.setPen(QPen(QColor(st.ACCENT if self.isDown() else st.LINE), max(1.0, 2 * u)))
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(rect, radius, radius)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(st.ACCENT if live else "#94a3b8"))
        stripe = QRectF(rect.left(), rect.top(), 12 * u, rect.height())
        painter.setClipRect(stripe)
        painter.drawRoundedRect(rect, radius, radius)
        painter.setClipping(False)

        inner, name_box, status_h = self._boxes()
        status_font, agency_font = self._status_font(), st.font(21 * u, 500)
        agency_h = QFontMetrics(agency_font).height()
        name_font = st.font(self.name_px or self.best_name_px(), 700)
        painter.setFont(name_font)
        painter.setPen(QColor(st.TEXT if live else st.CLOSED_TEXT))
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        used = painter.boundingRect(name_box, flags, c.name)
        painter.drawText(name_box, flags, c.name)

        painter.setFont(agency_font)
        painter.setPen(QColor(st.MUTED))
        agency_top = min(used.bottom(), name_box.bottom()) + 2 * u
        agency = QFontMetrics(agency_font).elidedText(c.agency, Qt.TextElideMode.ElideRight,
                                                      round(inner.width()))
        painter.drawText(QRectF(inner.left(), agency_top, inner.width(), agency_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, agency)

        status_box = QRectF(inner.left(), inner.bottom() - status_h, inner.width(), status_h)
        painter.setFont(status_font)
        if c.extra and live:
            painter.setPen(QColor(st.PRIORITY_DARK))
            painter.drawText(status_box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, c.extra)
        colour = st.ACCENT if live else (st.CLOSED_STATUS if not c.available else st.MUTED)
        painter.setPen(QColor(colour))
        painter.drawText(status_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                         | Qt.TextFlag.TextWordWrap, c.status)
        painter.end()

    def _status_font(self):
        """23 px, or down to 19 px if that keeps the status on one line."""
        width = self.width() - 52 * self.unit - 3 * self.unit
        for px in (23, 22, 21, 20, 19):
            font = st.font(px * self.unit, 700)
            if QFontMetrics(font).horizontalAdvance(self.content.status) <= width:
                return font
        return st.font(21 * self.unit, 700)

    def _boxes(self) -> tuple[QRectF, QRectF, float]:
        """(inner area, area for the name, height of the status line(s))."""
        u = self.unit
        rect = QRectF(self.rect()).adjusted(1.5 * u, 1.5 * u, -1.5 * u, -1.5 * u)
        inner = rect.adjusted(30 * u, 14 * u, -22 * u, -14 * u)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        status_h = QFontMetrics(self._status_font()).boundingRect(
            0, 0, round(inner.width()), 10_000, flags, self.content.status).height()
        agency_h = QFontMetrics(st.font(21 * u, 500)).height()
        name_h = inner.height() - status_h - agency_h - 6 * u
        name_box = QRectF(inner.left(), inner.top(), inner.width(), name_h)
        return inner, name_box, status_h

    def best_name_px(self, largest: float = 34, smallest: float = 22) -> float:
        """The largest name size (px) that fits this tile, within [smallest, largest] (design px)."""
        _, box, _ = self._boxes()
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        size = largest * self.unit
        while size > smallest * self.unit:
            needed = QFontMetrics(st.font(size, 700)).boundingRect(
                0, 0, round(box.width()), 10_000, flags, self.content.name)
            if needed.height() <= box.height() and needed.width() <= box.width():
                return size
            size -= 1
        return smallest * self.unit


@dataclass(frozen=True)
class GridPlan:
    columns: int
    tile_height: int
    height: int  # total height the grid needs (> the viewport: it scrolls)


def plan_grid(groups: list[int], width: int, height: int, unit: float, header_height: int) -> GridPlan:
    """Columns and tile height for groups of tiles (one entry per group: its size).

    A single entry means no group headers. Tiles stretch to fill the height when they
    fit at their minimum height; otherwise they keep it and the grid scrolls.
    """
    gap = round(16 * unit)
    min_w, min_h, max_h = 400 * unit, 150 * unit, 230 * unit
    columns = max(1, min(5, int((width + gap) // (min_w + gap))))
    rows = sum(math.ceil(n / columns) for n in groups)
    headers = len(groups) if len(groups) > 1 else 0
    fixed = headers * header_height + (rows - 1 + headers) * gap
    tile_h = (height - fixed) / rows if rows else max_h
    tile_h = max(min_h, min(max_h, math.floor(tile_h)))
    total = round(fixed + rows * tile_h)
    return GridPlan(columns, round(tile_h), total)


class TileGrid(QWidget):
    """Positions service tiles (and group headers) itself; lives in a scroll area."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.groups: list[tuple[QLabel | None, list[ServiceTile]]] = []
        self.unit = 1.0
        self.viewport_height = 600
        self.plan = GridPlan(2, 170, 600)

    def set_groups(self, groups: list[tuple[QLabel | None, list[ServiceTile]]]) -> None:
        self.groups = groups
        self.relayout()

    def relayout(self) -> None:
        width = max(200, self.width())
        header_h = round(48 * self.unit)
        sizes = [len(tiles) for _, tiles in self.groups] or [0]
        self.plan = plan_grid(sizes, width, self.viewport_height, self.unit, header_h)
        gap = round(16 * self.unit)
        cols, tile_h = self.plan.columns, self.plan.tile_height
        tile_w = (width - (cols - 1) * gap) / cols
        y = 0
        for header, tiles in self.groups:
            if header is not None:
                header.setGeometry(0, y, width, header_h)
                header.show()
                y += header_h + gap
            for i, tile in enumerate(tiles):
                row, col = divmod(i, cols)
                tile.unit = self.unit
                tile.setGeometry(round(col * (tile_w + gap)), y + row * (tile_h + gap), round(tile_w), tile_h)
                tile.show()
            if tiles:
                y += math.ceil(len(tiles) / cols) * (tile_h + gap)
        self.setMinimumHeight(max(0, y - gap))
        self.fit_names()

    def fit_names(self) -> None:
        """One name size for every tile: the largest at which all names fit."""
        tiles = [tile for _, group in self.groups for tile in group]
        for tile in tiles:
            tile.name_px = None
        size = min((tile.best_name_px() for tile in tiles), default=None)
        for tile in tiles:
            tile.name_px = size
            tile.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.relayout()


class QrWidget(QWidget):
    """A QR code drawn module by module (crisp at any size), with its quiet zone."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix: list[list[bool]] = []
        self.data = ""
        self.side = 300

    def set_data(self, data: str, side: int) -> None:
        if data != self.data:
            self.data = data
            if data:
                qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
                qr.add_data(data)
                qr.make(fit=True)
                self.matrix = qr.get_matrix()
            else:
                self.matrix = []
        self.side = side
        self.setFixedSize(side, side)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        n = len(self.matrix)
        if n:
            module = self.side // (n + 8)  # 4 modules of quiet zone each side
            offset = (self.side - module * n) // 2
            black = QColor("black")
            for r, row in enumerate(self.matrix):
                for c, dark in enumerate(row):
                    if dark:
                        painter.fillRect(offset + c * module, offset + r * module, module, module, black)
        painter.end()


class LongPressLabel(QLabel):
    """A label that emits ``long_pressed`` when held for three seconds (the staff gesture)."""

    long_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(LONG_PRESS_MS)
        self._timer.timeout.connect(self.long_pressed.emit)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._timer.start()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._timer.stop()
        event.accept()
