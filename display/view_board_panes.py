"""The hall board's panes: counters grid, spotlight, recent calls, waiting per service.

Each pane only draws what ``BoardView`` (its parent) exposes: the state, the translator,
the scale and the current time. No pane changes the state.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from display.board_state import CounterTile, Phase
from display.view_paint import (
    Colors,
    Scale,
    draw_number,
    draw_text,
    draw_wrapped,
    font,
    ink_on,
    prepare,
    rounded,
    wrapped_size,
)

if TYPE_CHECKING:
    from display.view_board import BoardView

W = QFont.Weight
Align = Qt.AlignmentFlag

PHASE_COLORS = {
    Phase.CALLING: Colors.CALLING,
    Phase.SERVING: Colors.SERVING,
    Phase.IDLE: Colors.IDLE,
    Phase.PAUSED: Colors.PAUSED,
    Phase.CLOSED: Colors.CLOSED,
}


CARD_MAX_ASPECT = 0.75  # a card is never taller than 3/4 of its width


def grid_shape(count: int, width: float, height: float, gap: float) -> tuple[int, int]:
    """(columns, rows) for ``count`` cards that gives the largest ticket numbers."""
    best, best_size = (1, max(count, 1)), -1.0
    for columns in range(1, max(count, 1) + 1):
        rows = math.ceil(count / columns)
        cell_w = (width - gap * (columns - 1)) / columns
        cell_h = (height - gap * (rows - 1)) / rows
        card_h = min(cell_h, cell_w * CARD_MAX_ASPECT)
        # The number's font is bounded by the card's free height and by four wide glyphs.
        size = min(card_h * 0.66, cell_w * 0.31)
        if size > best_size + 0.5:
            best, best_size = (columns, rows), size
    return best


class Pane(QWidget):
    """A region of the board that paints itself from the board's state."""

    def __init__(self, board: BoardView) -> None:
        super().__init__(board)
        self.board = board
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        prepare(painter)
        self.draw(painter, QRectF(self.rect()), self.board.scale)
        painter.end()

    def draw(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        raise NotImplementedError


class CounterGrid(Pane):
    """Every shown counter: its number, name, state and the ticket at its desk."""

    def draw(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        tiles = self.board.state.counter_tiles(self.board.display.now())
        if not tiles:
            return
        gap = s(14)
        columns, rows = grid_shape(len(tiles), r.width(), r.height(), gap)
        cell_w = (r.width() - gap * (columns - 1)) / columns
        cell_h = (r.height() - gap * (rows - 1)) / rows
        # Cards never grow taller than wide-ish: a few counters must still look like cards.
        cell_h = min(cell_h, cell_w * CARD_MAX_ASPECT)
        for index, tile in enumerate(tiles):
            row, column = divmod(index, columns)
            card = QRectF(r.left() + column * (cell_w + gap), r.top() + row * (cell_h + gap), cell_w, cell_h)
            self._card(painter, card, tile, s)

    def _card(self, painter: QPainter, c: QRectF, tile: CounterTile, s: Scale) -> None:
        t = self.board.translator
        color = PHASE_COLORS[tile.phase]
        closed = tile.phase is Phase.CLOSED
        calling = tile.phase is Phase.CALLING
        radius = min(c.height(), c.width()) * 0.07
        if tile.spotlit:
            edge, edge_width = Colors.SPOT, s(6)
        elif calling:
            edge, edge_width = Colors.CALLING, s(4)
        else:
            edge, edge_width = Colors.PANEL_EDGE, s(1.5)
        rounded(painter, c, radius, Colors.CLOSED_PANEL if closed else Colors.PANEL, edge, edge_width)
        pad = min(c.height() * 0.07, c.width() * 0.05)
        head_h = c.height() * 0.29
        badge = QRectF(c.left() + pad, c.top() + pad, head_h * 1.3, head_h)
        rounded(painter, badge, radius * 0.7, color)
        draw_number(painter, badge.adjusted(s(4), 0, -s(4), 0), str(tile.number),
                    font(head_h, W.ExtraBold, tabular=True), ink_on(color), fill=0.6)
        text_left = badge.right() + pad
        text_w = c.right() - pad - text_left
        quiet = tile.phase in (Phase.CLOSED, Phase.PAUSED)
        name_rect = QRectF(text_left, badge.top() + (head_h * 0.2 if quiet else -head_h * 0.06), text_w,
                           head_h * 0.58)
        state_rect = QRectF(text_left, badge.top() + head_h * 0.52, text_w, head_h * 0.48)
        draw_text(painter, name_rect, tile.name_in(t.language), font(head_h * 0.44, W.DemiBold),
                  Colors.CLOSED_TEXT if closed else Colors.TEXT, Align.AlignLeft, min_scale=0.8)
        if tile.phase not in (Phase.CLOSED, Phase.PAUSED):  # those say it in large below
            draw_text(painter, state_rect, t.text(f"phase_{tile.phase.value}"), font(head_h * 0.38, W.Medium),
                      color.lighter(150), Align.AlignLeft, fit=False)
        body = QRectF(c.left() + pad, badge.bottom() + pad * 0.3, c.width() - 2 * pad,
                      c.bottom() - badge.bottom() - pad * 0.9)
        if tile.phase in (Phase.CALLING, Phase.SERVING) and tile.ticket:
            number_color = Colors.NUMBER if calling or tile.spotlit else Colors.TEXT
            margin = c.width() * 0.05
            draw_number(painter, body.adjusted(margin, 0, -margin, 0), tile.ticket,
                        font(body.height() * 2, W.ExtraBold, tabular=True), number_color, fill=0.76)
        elif tile.phase is Phase.PAUSED:
            reason = tile.pause_reason or ""
            top = QRectF(body.left(), body.top(), body.width(), body.height() * (0.56 if reason else 1))
            draw_text(painter, top, t.text("phase_paused").upper(), font(body.height() * 0.42, W.ExtraBold),
                      Colors.PAUSED.lighter(125))
            if reason:
                bottom = QRectF(body.left(), top.bottom(), body.width(), body.height() * 0.42)
                draw_text(painter, bottom, reason, font(body.height() * 0.3, W.Medium), Colors.MUTED,
                          min_scale=0.75)
        elif closed:
            draw_text(painter, body, t.text("phase_closed"), font(body.height() * 0.38, W.Bold),
                      Colors.CLOSED_TEXT)
        else:
            draw_text(painter, body, "– – –", font(body.height() * 0.5, W.Bold), Colors.DIM)


class SpotlightPane(Pane):
    """The newest call, huge; when nobody is being called, how many are waiting."""

    def draw(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        call = self.board.state.spotlight_at(self.board.display.now())
        t = self.board.translator
        radius = s(22)
        if call is None:
            self._quiet(painter, r, s)
            return
        gradient = QLinearGradient(r.topLeft(), r.bottomLeft())
        gradient.setColorAt(0, Colors.SPOT.lighter(108))
        gradient.setColorAt(1, Colors.SPOT)
        rounded(painter, r, radius, QColor(Colors.SPOT), Colors.TEXT, s(4))
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawRoundedRect(r.adjusted(s(2), s(2), -s(2), -s(2)), radius, radius)
        painter.restore()
        pad = s(22)
        inner = r.adjusted(pad, pad * 0.6, -pad, -pad * 0.6)
        h = inner.height()
        title = t.text("spotlight_recall" if call.reason == "recall" else "spotlight_title")
        title_rect = QRectF(inner.left(), inner.top(), inner.width(), h * 0.13)
        draw_text(painter, title_rect, title.upper(), font(h * 0.1, W.Bold), Colors.SPOT_TEXT)
        number_rect = QRectF(inner.left(), title_rect.bottom(), inner.width(), h * 0.5)
        draw_number(painter, number_rect.adjusted(s(10), 0, -s(10), 0), call.number,
                    font(h, W.Black, tabular=True), Colors.SPOT_TEXT, fill=0.74)
        counter_rect = QRectF(inner.left(), number_rect.bottom(), inner.width(), h * 0.25)
        counter_text = f"➜ {t.text('counter', number=call.counter).upper()}"
        draw_text(painter, counter_rect, counter_text, font(h * 0.22, W.ExtraBold), QColor("#B3001B"))
        name_rect = QRectF(inner.left(), counter_rect.bottom(), inner.width(), h * 0.12)
        draw_text(painter, name_rect, call.counter_name_in(t.language), font(h * 0.09, W.DemiBold),
                  Colors.SPOT_TEXT)

    def _quiet(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        t = self.board.translator
        rounded(painter, r, s(22), Colors.PANEL, Colors.PANEL_EDGE, s(1.5))
        pad = s(22)
        inner = r.adjusted(pad, pad, -pad, -pad)
        h = inner.height()
        draw_text(painter, QRectF(inner.left(), inner.top(), inner.width(), h * 0.18),
                  t.text("quiet_title"), font(h * 0.12, W.DemiBold), Colors.MUTED)
        waiting = self.board.state.total_waiting
        draw_number(painter, QRectF(inner.left(), inner.top() + h * 0.2, inner.width(), h * 0.44),
                    str(waiting), font(h, W.ExtraBold, tabular=True), Colors.NUMBER, fill=0.72)
        draw_text(painter, QRectF(inner.left(), inner.top() + h * 0.64, inner.width(), h * 0.16),
                  t.text("quiet_people"), font(h * 0.11, W.Medium), Colors.TEXT)
        draw_text(painter, QRectF(inner.left(), inner.top() + h * 0.84, inner.width(), h * 0.16),
                  t.text("quiet_hint"), font(h * 0.085, W.Normal), Colors.DIM)


class RecentCalls(Pane):
    """The latest calls, newest first, as small cards: number → counter."""

    def draw(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        t = self.board.translator
        calls = self.board.state.recent_calls()
        title_h = s(44)
        draw_text(painter, QRectF(r.left() + s(4), r.top(), r.width(), title_h),
                  t.text("recent_title").upper(), font(s(28), W.Bold), Colors.MUTED, Align.AlignLeft)
        area = QRectF(r.left(), r.top() + title_h + s(6), r.width(), r.height() - title_h - s(6))
        if not calls:
            rounded(painter, area, s(16), Colors.PANEL, Colors.PANEL_EDGE, s(1.5))
            draw_text(painter, area.adjusted(s(16), 0, -s(16), 0), t.text("recent_empty"),
                      font(s(28), W.Medium), Colors.DIM)
            return
        limit = max(self.board.state.recent_limit, 1)
        columns = 2 if limit > 3 else 1
        rows = math.ceil(limit / columns)
        gap = s(12)
        cell_w = (area.width() - gap * (columns - 1)) / columns
        cell_h = (area.height() - gap * (rows - 1)) / rows
        spot = self.board.state.spotlight_at(self.board.display.now())
        for index, call in enumerate(calls):
            row, column = divmod(index, columns)
            cell = QRectF(area.left() + column * (cell_w + gap), area.top() + row * (cell_h + gap),
                          cell_w, cell_h)
            newest = spot is not None and spot.ticket_id == call.ticket_id and spot.seq == call.seq
            rounded(painter, cell, s(14), Colors.PANEL, Colors.SPOT if newest else Colors.PANEL_EDGE,
                    s(4) if newest else s(1.5))
            pad = s(14)
            inner = cell.adjusted(pad, pad * 0.4, -pad, -pad * 0.4)
            h = inner.height()
            counter_w = max(h * 0.95, inner.width() * 0.24)
            arrow_w = h * 0.5
            number_rect = QRectF(inner.left(), inner.top(), inner.width() - counter_w - arrow_w, h)
            draw_number(painter, number_rect, call.number, font(h, W.ExtraBold, tabular=True),
                        Colors.NUMBER, Align.AlignLeft, fill=0.62)
            arrow_rect = QRectF(number_rect.right(), inner.top() + h * 0.2, arrow_w, h * 0.8)
            draw_text(painter, arrow_rect, "➜", font(h * 0.42, W.Bold), Colors.DIM)
            right = QRectF(inner.right() - counter_w, inner.top(), counter_w, h)
            draw_text(painter, QRectF(right.left(), right.top(), right.width(), h * 0.3),
                      t.text("counter_word").upper(), font(h * 0.24, W.DemiBold), Colors.MUTED)
            draw_number(painter, QRectF(right.left(), right.top() + h * 0.3, right.width(), h * 0.7),
                        str(call.counter), font(h, W.ExtraBold, tabular=True), Colors.TEXT, fill=0.68)


WAITING_TITLE = 44.0  # design pixels
WAITING_ROW = 64.0


def waiting_rows(services: int) -> int:
    return 1 if services <= 6 else (2 if services <= 16 else 3)


def waiting_height(services: int) -> float:
    """Design pixels the waiting pane needs for ``services`` services (0: hidden)."""
    if services == 0:
        return 0.0
    rows = waiting_rows(services)
    return WAITING_TITLE + rows * WAITING_ROW + (rows - 1) * 10


class WaitingPane(Pane):
    """How many are waiting, per service shown on this display."""

    def draw(self, painter: QPainter, r: QRectF, s: Scale) -> None:
        t = self.board.translator
        tiles = self.board.state.service_tiles()
        if not tiles:
            return
        english = t.language == "en"
        title_h = s(WAITING_TITLE)
        total = sum(tile.waiting for tile in tiles)
        title = f"{t.text('waiting_title').upper()}: {t.text('waiting_total', count=total)}"
        draw_text(painter, QRectF(r.left() + s(4), r.top(), r.width(), title_h), title,
                  font(s(28), W.Bold), Colors.MUTED, Align.AlignLeft)
        area = QRectF(r.left(), r.top() + title_h, r.width(), r.height() - title_h)
        rows = waiting_rows(len(tiles))
        columns = math.ceil(len(tiles) / rows)
        gap = s(10)
        cell_w = (area.width() - gap * (columns - 1)) / columns
        cell_h = (area.height() - gap * (rows - 1)) / rows
        pad = s(10)
        count_font = font((cell_h - s(8)) * 0.8, W.ExtraBold, tabular=True)
        count_w = QFontMetricsF(count_font).horizontalAdvance("88") + s(4)
        name_w = cell_w - 2 * pad - count_w - s(8)
        names = [tile.name_en if english else tile.name_vi for tile in tiles]
        base = font(min(s(22), (cell_h - s(8)) * 0.36), W.Medium)
        size = min(wrapped_size(QRectF(0, 0, name_w, cell_h - s(8)), name, base) for name in names)
        name_font = font(max(size, s(16)), W.Medium)
        for index, (tile, name) in enumerate(zip(tiles, names, strict=True)):
            row, column = divmod(index, columns)
            cell = QRectF(area.left() + column * (cell_w + gap), area.top() + row * (cell_h + gap),
                          cell_w, cell_h)
            rounded(painter, cell, s(12), Colors.PANEL, Colors.PANEL_EDGE, s(1.2))
            inner = cell.adjusted(pad, s(4), -pad, -s(4))
            count_rect = QRectF(inner.right() - count_w, inner.top(), count_w, inner.height())
            if tile.sold_out:
                draw_text(painter, count_rect, t.text("sold_out"), font(inner.height() * 0.36, W.Bold),
                          Colors.PAUSED.lighter(125), Align.AlignRight)
            else:
                draw_text(painter, count_rect, str(tile.waiting), count_font,
                          Colors.NUMBER if tile.waiting else Colors.DIM, Align.AlignRight)
            draw_wrapped(painter, QRectF(inner.left(), inner.top(), name_w, inner.height()), name,
                         name_font, Colors.TEXT, exact=True)
