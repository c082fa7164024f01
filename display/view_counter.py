"""Counter display mode: the small screen above one desk (1280×720, 1024×600, ...).

Shows the counter's number and name in a band coloured by its state and, huge, the
ticket it is calling or serving; "Tạm dừng" with the reason, or "Quầy đóng", when there
is no service. While offline it keeps the last known number, dimmed, under a red
"Đang kết nối lại…" banner. Designed on 1280×720 and scaled from the window size.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetricsF, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from common.i18n import Translator
from display.board_state import CounterTile, Link, Phase
from display.state import DisplayState
from display.view_board_panes import PHASE_COLORS
from display.view_paint import (
    Colors,
    Scale,
    dimmed,
    draw_number,
    draw_text,
    fit_font,
    font,
    ink_on,
    prepare,
    rounded,
)
from display.view_shared import handle_window_key, site_zone

W = QFont.Weight
Align = Qt.AlignmentFlag
DESIGN = (1280.0, 720.0)

CAPTIONS = {
    Phase.CALLING: "counter_now",
    Phase.SERVING: "counter_serving",
    Phase.IDLE: "counter_idle",
    Phase.PAUSED: "counter_paused",
    Phase.CLOSED: "counter_closed",
}


class CounterDisplay(QWidget):
    """One counter, readable from the waiting seats."""

    def __init__(self, display: DisplayState, translator: Translator, counter: int, *,
                 server_label: str = "", timezone: str = "Asia/Ho_Chi_Minh",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.display = display
        self.state = display.board
        self.translator = translator
        self.counter = counter
        self.server_label = server_label
        self._fallback_tz = timezone
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setWindowTitle(translator.both("window_title_counter", number=counter)[0])
        self.setMinimumSize(320, 180)
        display.changed.connect(self.update)
        self._minute = -1
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        self._clock.start()
        self.resize(1280, 720)

    def local_time(self) -> datetime:
        return self.display.local_now().astimezone(site_zone(self.state, self._fallback_tz))

    def _tick(self) -> None:
        minute = self.local_time().minute
        if minute != self._minute:
            self._minute = minute
            self.update()

    def tile(self) -> CounterTile | None:
        return self.state.counter_tile(self.counter, self.display.now())

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        prepare(painter)
        r = QRectF(self.rect())
        s = Scale.for_size(r.width(), r.height(), DESIGN)
        painter.fillRect(r, Colors.BACKGROUND)
        t = self.translator
        if not self.state.ready:
            rejected = self.state.link is Link.REJECTED
            title = t.text("link_rejected" if rejected else "link_connecting")
            draw_text(painter, QRectF(r.left(), r.height() * 0.32, r.width(), s(80)), title,
                      font(s(52), W.Bold), Colors.TEXT)
            detail = self.state.link_detail if rejected else self.server_label
            draw_text(painter, QRectF(r.left(), r.height() * 0.32 + s(90), r.width(), s(44)), detail,
                      font(s(28), W.Medium), Colors.MUTED)
            painter.end()
            return
        tile = self.tile()
        if tile is None:
            draw_text(painter, r.adjusted(s(40), 0, -s(40), 0), t.text("no_counter", number=self.counter),
                      font(s(56), W.Bold), Colors.ALERT.lighter(150))
            painter.end()
            return
        self._draw_counter(painter, r, s, tile)
        if self.state.stale:
            self._draw_stale(painter, r, s)
        painter.end()

    def _draw_counter(self, painter: QPainter, r: QRectF, s: Scale, tile: CounterTile) -> None:
        t = self.translator
        color = PHASE_COLORS[tile.phase] if tile.phase is not Phase.IDLE else Colors.HEADER
        ink = ink_on(color)
        band = QRectF(r.left(), r.top(), r.width(), r.height() * 0.26)
        painter.fillRect(band, color)
        pad = s(40)
        label = t.text("counter", number=tile.number).upper()
        label_font = fit_font(label, font(band.height() * 0.62, W.Black, tabular=True), band.width() * 0.5)
        label_w = QFontMetricsF(label_font).horizontalAdvance(label)
        draw_text(painter, QRectF(band.left() + pad, band.top(), label_w + s(4), band.height()), label,
                  label_font, ink, Align.AlignLeft)
        name_left = band.left() + pad + label_w + s(36)
        draw_text(painter, QRectF(name_left, band.top(), band.right() - pad - name_left, band.height()),
                  tile.name_in(t.language), font(band.height() * 0.3, W.Bold), ink, Align.AlignRight,
                  min_scale=0.6)
        body = QRectF(r.left() + pad, band.bottom() + s(18), r.width() - 2 * pad,
                      r.bottom() - band.bottom() - s(30))
        h = body.height()
        clock_rect = QRectF(body.right() - s(200), body.bottom() - h * 0.1, s(200), h * 0.1)
        clock = self.local_time().strftime("%H:%M")
        draw_text(painter, clock_rect, clock, font(h * 0.08, W.Medium, tabular=True),
                  Colors.DIM, Align.AlignRight)
        caption = t.text(CAPTIONS[tile.phase])
        if tile.phase in (Phase.CALLING, Phase.SERVING) and tile.ticket:
            draw_text(painter, QRectF(body.left(), body.top(), body.width(), h * 0.16), caption,
                      font(h * 0.12, W.DemiBold), Colors.MUTED)
            number_color = Colors.NUMBER if tile.phase is Phase.CALLING else Colors.TEXT
            draw_number(painter, QRectF(body.left(), body.top() + h * 0.16, body.width(), h * 0.74),
                        tile.ticket, font(h, W.Black, tabular=True), number_color, fill=0.84)
            return
        if tile.phase is Phase.PAUSED:
            title, title_color = t.text("phase_paused").upper(), Colors.PAUSED.lighter(125)
            detail, detail_color = tile.pause_reason or "", Colors.TEXT
        elif tile.phase is Phase.CLOSED:
            title, title_color = t.text("phase_closed").upper(), Colors.CLOSED_TEXT
            detail, detail_color = t.text("counter_closed_hint"), Colors.MUTED
        else:
            title, title_color = caption, Colors.MUTED
            detail, detail_color = "", Colors.MUTED
        draw_text(painter, QRectF(body.left(), body.top() + h * 0.12, body.width(), h * 0.42), title,
                  font(h * 0.3, W.Black), title_color)
        draw_text(painter, QRectF(body.left(), body.top() + h * 0.58, body.width(), h * 0.2), detail,
                  font(h * 0.14, W.DemiBold), detail_color, min_scale=0.6)

    def _draw_stale(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        t = self.translator
        painter.fillRect(r, dimmed(Colors.BACKGROUND, 140))
        banner = QRectF(r.left() + s(24), r.bottom() - s(120), r.width() - s(48), s(100))
        rounded(painter, banner, s(14), Colors.ALERT, Colors.TEXT, s(3))
        key = "link_rejected" if self.state.link is Link.REJECTED else "link_offline"
        draw_text(painter, banner.adjusted(s(20), 0, -s(20), 0), t.text(key), font(s(46), W.ExtraBold),
                  Colors.TEXT)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not handle_window_key(self, event, self.translator, self.update):
            super().keyPressEvent(event)
