"""Drawing helpers shared by the hall board and the counter display.

Everything on a display is sized from the window, never in fixed pixels: ``Scale``
turns "design pixels" of a 1920×1080 board into real pixels, and ``fit_font`` shrinks a
text until it fits its box, so nothing is clipped at 1366×768 or 1024×600 and
everything grows on a 4K television.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from common.qt_theme import FAMILY

DESIGN_WIDTH, DESIGN_HEIGHT = 1920.0, 1080.0


class Colors:
    """High-contrast palette for a bright hall: light text on deep navy, yellow numbers."""

    BACKGROUND = QColor("#061630")
    PANEL = QColor("#0D2A52")
    PANEL_EDGE = QColor("#244F8C")
    HEADER = QColor("#0A3C8C")
    HEADER_DARK = QColor("#072C69")
    TEXT = QColor("#FFFFFF")
    MUTED = QColor("#B4C8E6")
    DIM = QColor("#7F93B3")
    NUMBER = QColor("#FFD43B")
    CALLING = QColor("#FFB300")
    SERVING = QColor("#1E8C4E")
    IDLE = QColor("#3566AA")
    PAUSED = QColor("#E8590C")
    CLOSED = QColor("#4B5568")
    CLOSED_TEXT = QColor("#9AA5B8")
    CLOSED_PANEL = QColor("#0A1C38")
    SPOT = QColor("#FFCC29")
    SPOT_TEXT = QColor("#0A1F44")
    ALERT = QColor("#C62828")
    TICKER = QColor("#8E1B1B")


@dataclass(frozen=True)
class Scale:
    """Design pixels (of a 1920×1080 board) → real pixels of this window."""

    factor: float

    @classmethod
    def for_size(cls, width: float, height: float,
                 design: tuple[float, float] = (DESIGN_WIDTH, DESIGN_HEIGHT)) -> Scale:
        return cls(max(0.1, min(width / design[0], height / design[1])))

    def __call__(self, design_pixels: float) -> float:
        return design_pixels * self.factor


def font(pixels: float, weight: QFont.Weight = QFont.Weight.Normal, *, tabular: bool = False) -> QFont:
    """The bundled Be Vietnam Pro at ``pixels`` (tabular figures for ticket numbers)."""
    f = QFont(FAMILY)
    f.setPixelSize(max(1, round(pixels)))
    f.setWeight(weight)
    f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    if tabular:
        f.setFeature(QFont.Tag("tnum"), 1)
    return f


def ink_on(background: QColor) -> QColor:
    """Navy or white, whichever reads better on ``background``."""
    r, g, b = background.redF(), background.greenF(), background.blueF()
    luminance = 0.2126 * r**2.2 + 0.7152 * g**2.2 + 0.0722 * b**2.2
    return Colors.SPOT_TEXT if luminance > 0.35 else Colors.TEXT


def fit_font(text: str, base: QFont, width: float, height: float | None = None) -> QFont:
    """``base`` shrunk (never grown) until ``text`` fits ``width`` (and ``height``) pixels."""
    f = QFont(base)
    size = f.pixelSize()
    for _ in range(6):
        metrics = QFontMetricsF(f)
        advance = metrics.horizontalAdvance(text)
        tall = metrics.height()
        ratio = 1.0
        if advance > width > 0:
            ratio = min(ratio, width / advance)
        if height is not None and tall > height > 0:
            ratio = min(ratio, height / tall)
        if ratio >= 0.999:
            break
        size = max(1, int(size * ratio))
        f.setPixelSize(size)
    return f


def draw_text(painter: QPainter, rect: QRectF, text: str, base: QFont, color: QColor,
              align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter, *, fit: bool = True,
              min_scale: float = 0.0) -> None:
    """One line of text in ``rect``, shrunk to fit; with ``fit`` False (or once shrunk to
    ``min_scale`` of its size) the rest is elided with "…"."""
    if not text:
        return
    f = base
    if fit:
        f = fit_font(text, base, rect.width(), rect.height())
        if min_scale and f.pixelSize() < base.pixelSize() * min_scale:
            f = QFont(base)
            f.setPixelSize(max(1, round(base.pixelSize() * min_scale)))
    painter.setFont(f)
    painter.setPen(color)
    if QFontMetricsF(f).horizontalAdvance(text) > rect.width():
        text = QFontMetricsF(f).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
    if not align & Qt.AlignmentFlag.AlignVertical_Mask:
        align = align | Qt.AlignmentFlag.AlignVCenter
    painter.drawText(rect, int(align), text)


def draw_number(painter: QPainter, rect: QRectF, text: str, base: QFont, color: QColor,
                align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignHCenter, *, fill: float = 0.86) -> float:
    """Ticket and counter numbers (capitals and digits): as large as fits, the capitals
    filling ``fill`` of the height and centred on their own height (not the line box,
    which reserves room for Vietnamese diacritics). Returns the pixel size used."""
    if not text:
        return 0.0
    f = QFont(base)
    metrics = QFontMetricsF(f)
    cap = metrics.capHeight() or metrics.ascent() * 0.7
    size = f.pixelSize() * min(1.0, rect.height() * fill / cap)
    f.setPixelSize(max(1, int(size)))
    advance = QFontMetricsF(f).horizontalAdvance(text)
    if advance > rect.width() > 0:
        f.setPixelSize(max(1, int(f.pixelSize() * rect.width() / advance)))
    metrics = QFontMetricsF(f)
    advance = metrics.horizontalAdvance(text)
    cap = metrics.capHeight() or metrics.ascent() * 0.7
    if align & Qt.AlignmentFlag.AlignRight:
        x = rect.right() - advance
    elif align & Qt.AlignmentFlag.AlignLeft:
        x = rect.left()
    else:
        x = rect.center().x() - advance / 2
    painter.setFont(f)
    painter.setPen(color)
    painter.drawText(QPointF(x, rect.center().y() + cap / 2), text)
    return float(f.pixelSize())


def wrapped_size(rect: QRectF, text: str, base: QFont, max_lines: int = 2) -> int:
    """The largest pixel size (at most ``base``'s) at which ``text`` wraps into ``rect``."""
    f = QFont(base)
    flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
    for _ in range(16):
        metrics = QFontMetricsF(f)
        bound = metrics.boundingRect(QRectF(0, 0, rect.width(), 10_000), flags, text)
        if bound.height() <= min(rect.height(), metrics.lineSpacing() * max_lines + 1) \
                and bound.width() <= rect.width() + 1:
            break
        f.setPixelSize(max(1, int(f.pixelSize() * 0.93)))
    return f.pixelSize()


def wrap_lines(text: str, f: QFont, width: float, max_lines: int = 2) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines; the last one elided if needed."""
    metrics = QFontMetricsF(f)
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        if len(lines) == max_lines - 1:
            rest = " ".join(words)
            lines.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            break
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    return lines


def draw_wrapped(painter: QPainter, rect: QRectF, text: str, base: QFont, color: QColor,
                 align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft, max_lines: int = 2, *,
                 exact: bool = False) -> None:
    """Word-wrapped text in at most ``max_lines`` lines, shrunk until it fits ``rect``
    (``exact``: keep ``base``'s size, e.g. one size chosen for a whole row, and elide)."""
    f = QFont(base)
    if not exact:
        f.setPixelSize(wrapped_size(rect, text, base, max_lines))
    lines = wrap_lines(text, f, rect.width(), max_lines)
    metrics = QFontMetricsF(f)
    step = metrics.lineSpacing()
    top = rect.center().y() - step * len(lines) / 2
    painter.setFont(f)
    painter.setPen(color)
    for index, line in enumerate(lines):
        row = QRectF(rect.left(), top + index * step, rect.width(), step)
        painter.drawText(row, int(align | Qt.AlignmentFlag.AlignVCenter), line)


def rounded(painter: QPainter, rect: QRectF, radius: float, fill: QColor,
            edge: QColor | None = None, edge_width: float = 0.0) -> None:
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    painter.fillPath(path, fill)
    if edge is not None and edge_width > 0:
        painter.setPen(QPen(edge, edge_width))
        painter.drawPath(path)


def prepare(painter: QPainter) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)


def dimmed(color: QColor, alpha: int) -> QColor:
    out = QColor(color)
    out.setAlpha(alpha)
    return out
