"""The hall board window: header with clock, counters grid, spotlight, recent calls,
waiting counts and a scrolling notice; only draws ``BoardState`` and forwards keys.

Layout (proportions of the window, designed on a 1920×1080 television and scaled from
the window size, so it holds at 1366×768 and 3840×2160):

    ┌ centre / site ─────────────────────────────────── date · clock ┐
    │ counters grid (fits 14+)                    │  spotlight        │
    │                                             │  recent calls     │
    ├ waiting per service ───────────────────────────────────────────┤
    └ scrolling notice ──────────────────────────────────────────────┘

Keys: L switches Vietnamese/English, F11 toggles full screen, Ctrl+Q quits.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from PySide6.QtCore import QElapsedTimer, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QKeyEvent, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from common.i18n import Translator
from display.board_state import BoardState, Link
from display.state import DisplayState
from display.view_board_panes import (
    CounterGrid,
    Pane,
    RecentCalls,
    SpotlightPane,
    WaitingPane,
    waiting_height,
)
from display.view_paint import Colors, Scale, dimmed, draw_text, font, rounded
from display.view_shared import handle_window_key, site_zone

W = QFont.Weight
Align = Qt.AlignmentFlag
TICKER_FRAME_MS = 16
TICKER_SPEED = 120.0  # design pixels per second


def date_line(translator: Translator, moment: datetime) -> str:
    """"Thứ Tư, 25/11/2026" (Vietnamese weekday, day/month/year)."""
    weekday = translator.text(f"weekday_{moment.weekday()}")
    return translator.text("date_line", weekday=weekday, day=moment.day, month=moment.month, year=moment.year)


def header_lines(state: BoardState, fallback_title: str, fallback_subtitle: str) -> tuple[str, str]:
    """The centre's name, and the site (or its address when the site *is* the centre)."""
    site = state.site
    if site is None:
        return fallback_title, fallback_subtitle
    subtitle = site.name
    if site.centre_name.casefold().startswith(site.name.casefold()):
        subtitle = site.address or site.province
    return site.centre_name, subtitle


class HeaderPane(Pane):
    def draw(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        board = self.board
        gradient = QLinearGradient(r.topLeft(), r.bottomLeft())
        gradient.setColorAt(0, Colors.HEADER)
        gradient.setColorAt(1, Colors.HEADER_DARK)
        painter.fillRect(r, gradient)
        painter.fillRect(QRectF(r.left(), r.bottom() - s(5), r.width(), s(5)), Colors.NUMBER)
        now = board.local_time()
        clock_w = s(420)
        pad = s(28)
        title, subtitle = header_lines(board.state, board.fallback_title, board.fallback_subtitle)
        text_w = r.width() - clock_w - 2 * pad - s(20)
        draw_text(painter, QRectF(r.left() + pad, r.top() + s(12), text_w, s(50)), title.upper(),
                  font(s(38), W.ExtraBold), Colors.TEXT, Align.AlignLeft)
        draw_text(painter, QRectF(r.left() + pad, r.top() + s(62), text_w, s(38)), subtitle,
                  font(s(27), W.Medium), QColor("#D6E4FF"), Align.AlignLeft, fit=False)
        right = r.right() - pad
        seconds_w = s(62)
        hm = QRectF(right - clock_w, r.top() + s(4), clock_w - seconds_w, s(68))
        draw_text(painter, hm, now.strftime("%H:%M"), font(s(62), W.Bold, tabular=True), Colors.TEXT,
                  Align.AlignRight)
        draw_text(painter, QRectF(right - seconds_w, r.top() + s(14), seconds_w, s(52)), now.strftime(":%S"),
                  font(s(34), W.Medium, tabular=True), Colors.MUTED, Align.AlignLeft)
        draw_text(painter, QRectF(right - clock_w, r.top() + s(68), clock_w, s(36)),
                  date_line(board.translator, now), font(s(28), W.DemiBold), Colors.NUMBER, Align.AlignRight)


class TickerPane(Pane):
    """The site's notice, scrolling smoothly from right to left (static when it fits)."""

    def __init__(self, board: BoardView) -> None:
        super().__init__(board)
        self._elapsed = QElapsedTimer()
        self._elapsed.start()
        self._timer = QTimer(self)
        self._timer.setInterval(TICKER_FRAME_MS)
        self._timer.timeout.connect(self.update)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.frames = 0  # painted so far (tests wait on it)

    def set_running(self, running: bool) -> None:
        if running and not self._timer.isActive():
            self._timer.start()
        elif not running:
            self._timer.stop()

    def draw(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        t = self.board.translator
        self.frames += 1
        painter.fillRect(r, Colors.TICKER)
        label = t.text("notice_label").upper()
        label_font = font(r.height() * 0.42, W.ExtraBold)
        label_w = QFontMetricsF(label_font).horizontalAdvance(label) + s(48)
        label_rect = QRectF(r.left(), r.top(), label_w, r.height())
        painter.fillRect(label_rect, Colors.NUMBER)
        draw_text(painter, label_rect, label, label_font, Colors.SPOT_TEXT)
        text = " ".join(self.board.state.notice.split())
        lane = QRectF(label_rect.right() + s(24), r.top(), r.width() - label_rect.width() - s(24), r.height())
        notice_font = font(r.height() * 0.5, W.Medium)
        width = QFontMetricsF(notice_font).horizontalAdvance(text)
        painter.setFont(notice_font)
        painter.setPen(Colors.TEXT)
        if width <= lane.width():
            self.set_running(False)
            painter.drawText(lane, int(Align.AlignLeft | Align.AlignVCenter), text)
            return
        self.set_running(self.isVisible())
        gap = s(200)
        period = width + gap
        offset = (self._elapsed.elapsed() / 1000.0 * s(TICKER_SPEED)) % period
        painter.save()
        painter.setClipRect(lane)
        x = lane.left() + lane.width() * 0.25 - offset
        while x < lane.right():
            painter.drawText(QRectF(x, lane.top(), width + s(4), lane.height()),
                             int(Align.AlignLeft | Align.AlignVCenter), text)
            x += period
        painter.restore()


class StatusOverlay(Pane):
    """Connecting / refused screen before the first snapshot; then, while offline, a red
    banner over the last known board, which is dimmed to show it may be out of date. The
    banner sits low, over the waiting counts, so the counters stay readable."""

    def banner_rect(self) -> QRectF:
        s = self.board.scale
        bottom = self.height() - (self.board.ticker.height() if self.board.ticker.isVisible() else 0)
        height = s(124)
        return QRectF(s(24), bottom - height - s(18), self.width() - s(48), height)

    def draw(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        board = self.board
        state = board.state
        t = board.translator
        if not state.ready:
            painter.fillRect(r, Colors.BACKGROUND)
            rejected = state.link is Link.REJECTED
            title = t.text("link_rejected" if rejected else "link_connecting")
            draw_text(painter, QRectF(r.left(), r.top() + r.height() * 0.28, r.width(), s(90)), title,
                      font(s(64), W.Bold), Colors.ALERT.lighter(150) if rejected else Colors.TEXT)
            detail = state.link_detail if rejected else board.server_label
            draw_text(painter, QRectF(r.left(), r.top() + r.height() * 0.28 + s(110), r.width(), s(50)),
                      detail, font(s(34), W.Medium), Colors.MUTED)
            if rejected:
                draw_text(painter, QRectF(r.left(), r.top() + r.height() * 0.28 + s(170), r.width(), s(44)),
                          t.text("link_rejected_hint"), font(s(30), W.Normal), Colors.DIM)
            return
        if not state.stale:
            return
        painter.fillRect(r, dimmed(Colors.BACKGROUND, 150))
        banner = self.banner_rect()
        rounded(painter, banner, s(18), Colors.ALERT, Colors.TEXT, s(3))
        rejected = state.link is Link.REJECTED
        title = t.text("link_rejected") if rejected else t.text("link_offline")
        draw_text(painter, QRectF(banner.left() + s(30), banner.top() + s(8), banner.width() - s(60), s(62)),
                  title, font(s(48), W.ExtraBold), Colors.TEXT)
        when = board.synced_local_time()
        stale = t.text("link_stale", time=when.strftime("%H:%M:%S") if when else "–")
        line = QRectF(banner.left() + s(30), banner.top() + s(70), banner.width() - s(60), s(44))
        draw_text(painter, line, stale, font(s(28), W.Medium), QColor("#FFE3E3"))


class BoardView(QWidget):
    """The whole hall board; repaints when the display's state changed."""

    def __init__(self, display: DisplayState, translator: Translator, *,
                 fallback_title: str = "", fallback_subtitle: str = "", server_label: str = "",
                 timezone: str = "Asia/Ho_Chi_Minh", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.display = display
        self.state = display.board
        self.translator = translator
        self.fallback_title, self.fallback_subtitle = fallback_title, fallback_subtitle
        self.server_label = server_label
        self._fallback_tz = timezone
        self.scale = Scale(1.0)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setWindowTitle(translator.both("window_title_board")[0])
        self.setMinimumSize(640, 360)
        self.header = HeaderPane(self)
        self.grid = CounterGrid(self)
        self.spotlight = SpotlightPane(self)
        self.recent = RecentCalls(self)
        self.waiting = WaitingPane(self)
        self.ticker = TickerPane(self)
        self.overlay = StatusOverlay(self)
        self._layout_key: tuple = ()
        self._last_second = -1
        self._clock = QTimer(self)
        self._clock.setInterval(250)
        self._clock.timeout.connect(self._tick)
        self._clock.start()
        display.changed.connect(self.refresh)
        self.resize(1920, 1080)

    # -- time -----------------------------------------------------------------------------

    def _zone(self) -> zoneinfo.ZoneInfo:
        return site_zone(self.state, self._fallback_tz)

    def local_time(self) -> datetime:
        return self.display.local_now().astimezone(self._zone())

    def synced_local_time(self) -> datetime | None:
        synced = self.state.synced_at
        return synced.astimezone(self._zone()) if synced else None

    def _tick(self) -> None:
        second = self.local_time().second
        if second != self._last_second:
            self._last_second = second
            self.header.update()

    # -- layout ---------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:
        self._layout_key = ()
        self.relayout()
        super().resizeEvent(event)

    def relayout(self) -> None:
        w, h = self.width(), self.height()
        services = len(self.state.service_tiles())
        has_services = services > 0
        has_notice = bool(self.state.notice.strip())
        key = (w, h, services, has_notice)
        if key == self._layout_key:
            return
        self._layout_key = key
        s = self.scale = Scale.for_size(w, h)
        margin = s(24)
        header_h = s(112)
        ticker_h = s(66) if has_notice else 0.0
        waiting_h = s(waiting_height(services))
        self.header.setGeometry(_rect(0, 0, w, header_h))
        self.ticker.setGeometry(_rect(0, h - ticker_h, w, ticker_h))
        self.ticker.setVisible(has_notice)
        if not has_notice:
            self.ticker.set_running(False)
        bottom = h - ticker_h - margin
        if has_services:
            self.waiting.setGeometry(_rect(margin, bottom - waiting_h, w - 2 * margin, waiting_h))
            bottom -= waiting_h + s(14)
        self.waiting.setVisible(has_services)
        top = header_h + margin
        body_h = bottom - top
        side_w = max(s(560), w * 0.315)
        grid_w = w - 2 * margin - side_w - s(24)
        self.grid.setGeometry(_rect(margin, top, grid_w, body_h))
        side_x = margin + grid_w + s(24)
        spot_h = body_h * 0.47
        self.spotlight.setGeometry(_rect(side_x, top, side_w, spot_h))
        self.recent.setGeometry(_rect(side_x, top + spot_h + s(14), side_w, body_h - spot_h - s(14)))
        self.overlay.setGeometry(_rect(0, header_h, w, h - header_h))
        self.overlay.raise_()

    def refresh(self) -> None:
        self.relayout()
        for pane in self.findChildren(Pane):
            pane.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Colors.BACKGROUND)
        painter.end()

    # -- keys -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not handle_window_key(self, event, self.translator, self.refresh):
            super().keyPressEvent(event)


def _rect(x: float, y: float, w: float, h: float) -> QRect:
    return QRectF(x, y, max(w, 0.0), max(h, 0.0)).toAlignedRect()
