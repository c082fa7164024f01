"""The home screen (service tiles, the priority entry) and the priority-class screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from common import protocol as p
from kiosk.state import KioskState
from kiosk.view_text import Texts
from kiosk.view_widgets import ServiceTile, TileContent, TileGrid


def group_services(services: list[p.ServiceView]) -> list[tuple[str, list[p.ServiceView]]]:
    """Services grouped by agency (lĩnh vực), groups in order of first appearance."""
    groups: dict[str, list[p.ServiceView]] = {}
    for service in services:
        groups.setdefault(service.agency, []).append(service)
    return list(groups.items())


def label(name: str, text: str = "", *, wrap: bool = True, parent: QWidget | None = None) -> QLabel:
    widget = QLabel(text, parent)
    widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def button(name: str, text: str = "", on_click: Callable[[], None] | None = None) -> QPushButton:
    widget = QPushButton(text)
    widget.setObjectName(name)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if on_click is not None:
        widget.clicked.connect(lambda _checked=False: on_click())  # never pass "checked" on
    return widget


def centred(item: QWidget | QLayout) -> QHBoxLayout:
    """A row holding ``item`` in its middle."""
    row = QHBoxLayout()
    row.addStretch(1)
    if isinstance(item, QLayout):
        row.addLayout(item)
    else:
        row.addWidget(item)
    row.addStretch(1)
    return row


def scale_box(box: QBoxLayout, unit: float, *, side: float, top: float, bottom: float,
              spacing: float) -> None:
    """A page's margins and spacing, given in design pixels, scaled to the screen."""
    margin = round(side * unit)
    box.setContentsMargins(margin, round(top * unit), margin, round(bottom * unit))
    box.setSpacing(round(spacing * unit))


class _Scroll(QScrollArea):
    """Tells the grid how tall the visible area is, so tiles can fill it."""

    def __init__(self, grid: TileGrid) -> None:
        super().__init__()
        self.grid = grid
        self.setWidget(grid)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.viewport().setAutoFillBackground(False)
        grid.setAutoFillBackground(False)

    def resizeEvent(self, event) -> None:
        self.grid.viewport_height = self.viewport().height()
        super().resizeEvent(event)
        self.grid.relayout()
        fits = self.grid.minimumHeight() <= self.viewport().height()
        policy = Qt.ScrollBarPolicy.ScrollBarAlwaysOff if fits else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        if policy != self.verticalScrollBarPolicy():
            self.setVerticalScrollBarPolicy(policy)


class HomePage(QWidget):
    def __init__(self, state: KioskState, texts: Texts) -> None:
        super().__init__()
        self.state, self.t = state, texts
        self.unit = 1.0
        self.portrait = True
        self.tiles: dict[str, ServiceTile] = {}
        self.headers: dict[str, QLabel] = {}
        self._structure: list[tuple[str, list[str]]] = []

        self.instruction = label("instruction")
        self.entry = button("priorityEntry", on_click=state.open_priority)
        self.entry_title = label("priorityEntryTitle", wrap=False)
        self.entry_hint = label("priorityEntryHint")
        arrow = label("priorityEntryArrow", "›", wrap=False)
        texts_box = QVBoxLayout()
        texts_box.setSpacing(0)
        texts_box.addWidget(self.entry_title)
        texts_box.addWidget(self.entry_hint)
        entry_box = QHBoxLayout(self.entry)
        entry_box.setContentsMargins(32, 10, 28, 10)
        entry_box.addLayout(texts_box, 1)
        entry_box.addWidget(arrow)
        for child in (self.entry_title, self.entry_hint, arrow):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.entry.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        self.checkin = button("checkinEntry", on_click=state.open_checkin)
        self.checkin_title = label("checkinEntryTitle", wrap=False)
        self.checkin_hint = label("checkinEntryHint")
        checkin_arrow = label("checkinEntryArrow", "›", wrap=False)
        checkin_texts = QVBoxLayout()
        checkin_texts.setSpacing(0)
        checkin_texts.addWidget(self.checkin_title)
        checkin_texts.addWidget(self.checkin_hint)
        checkin_box = QHBoxLayout(self.checkin)
        checkin_box.setContentsMargins(32, 10, 28, 10)
        checkin_box.addLayout(checkin_texts, 1)
        checkin_box.addWidget(checkin_arrow)
        for child in (self.checkin_title, self.checkin_hint, checkin_arrow):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.checkin.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.entries = QBoxLayout(QBoxLayout.Direction.LeftToRight)  # the two entries side by side
        self.entries.addWidget(self.checkin, 1)
        self.entries.addWidget(self.entry, 1)

        self.banner = QFrame()
        self.banner.setObjectName("priorityBanner")
        self.banner_text = label("priorityBannerText")
        self.back = button("secondary", on_click=state.back)
        banner_box = QHBoxLayout(self.banner)
        banner_box.setContentsMargins(28, 14, 14, 14)
        banner_box.addWidget(self.banner_text, 1)
        banner_box.addWidget(self.back)

        self.grid = TileGrid()
        self.scroll = _Scroll(self.grid)
        self.footer = label("footer")

        self.top = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.top.addWidget(self.instruction)
        self.top.addLayout(self.entries)
        self.top.addWidget(self.banner)
        layout = QVBoxLayout(self)
        self.layout_box = layout
        layout.addLayout(self.top)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.footer)

    def set_geometry_mode(self, unit: float, portrait: bool) -> None:
        self.unit, self.portrait = unit, portrait
        scale_box(self.layout_box, unit, side=28, top=20, bottom=16, spacing=18)
        direction = QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight
        self.top.setDirection(direction)
        self.top.setSpacing(round(18 * unit))
        self._size_entries()
        # Portrait: the two entries one above the other, each as wide as the screen (the
        # priority classes need the width); landscape: side by side, the classes wider.
        self.entries.setDirection(direction)
        self.entries.setStretch(0, 1 if portrait else 2)
        self.entries.setStretch(1, 1 if portrait else 3)
        self.entries.setSpacing(round((14 if portrait else 18) * unit))
        self.top.setStretch(0, 0 if not portrait else 1)
        self.top.setStretch(1, 1 if portrait else 2)
        self.grid.unit = unit
        self.grid.relayout()

    def _size_entries(self) -> None:
        """The entries' heights: in landscape beside the check-in entry, the priority classes
        get a third line."""
        unit, beside = self.unit, not self.portrait and self.state.offers_checkin
        self.entry.setFixedHeight(round((136 if self.portrait else 166 if beside else 136) * unit))
        self.checkin.setFixedHeight(round((112 if self.portrait else 166 if beside else 136) * unit))

    def render(self) -> None:
        state, t = self.state, self.t
        self._size_entries()
        priority_mode = state.priority_mode
        has_classes = bool(state.site and state.site.priority_classes)
        self.instruction.setText(t.home_instruction(priority_mode))
        self.entry.setVisible(not priority_mode and has_classes)
        self.entry.setEnabled(state.online and any(s.issuing for s in state.services))
        self.entry_title.setText(t("priority_entry"))
        self.entry_hint.setText(t.priority_hint())
        self.checkin.setVisible(not priority_mode and state.offers_checkin)
        self.checkin.setEnabled(state.online)
        self.checkin_title.setText(t("checkin_entry"))
        self.checkin_hint.setText(t.checkin_hint())
        self.banner.setVisible(priority_mode)
        self.banner_text.setText(t("priority_chosen", name=t.option_name(state.priority)))
        self.back.setText(t("back"))
        notice = state.site.notice if state.site else ""
        self.footer.setText(notice)
        self.footer.setVisible(bool(notice) and self.portrait)
        self._sync_tiles()

    def _sync_tiles(self) -> None:
        state, t = self.state, self.t
        groups = group_services(state.services)
        structure = [(agency, [s.code for s in services]) for agency, services in groups]
        if structure != self._structure:
            self._rebuild(structure)
        refit = False
        for service in state.services:
            tile = self.tiles[service.code]
            content = TileContent(
                name=t.service_name(service), agency=service.agency, status=t.tile_status(service),
                extra=t.remaining(service), available=service.issuing and state.offered(service))
            # While an issue is in flight the tiles keep their look (the state ignores taps):
            # most answers arrive within ~50 ms and a grey flash would only startle.
            live = state.online and state.site is not None and service.issuing and state.offered(service)
            refit |= tile.set_content(content, enabled=live)
        if refit:
            self.grid.fit_names()

    def _rebuild(self, structure: list[tuple[str, list[str]]]) -> None:
        self._structure = structure
        for widget in [*self.tiles.values(), *self.headers.values()]:
            widget.deleteLater()
        self.tiles, self.headers = {}, {}
        grouped = any(len(codes) > 1 for _, codes in structure)
        layout: list[tuple[QLabel | None, list[ServiceTile]]] = []
        for agency, codes in structure:
            header = None
            if grouped:
                header = label("groupHeader", agency, wrap=False, parent=self.grid)
                self.headers[agency] = header
            tiles = []
            for code in codes:
                tile = ServiceTile(code, self.grid)
                tile.clicked.connect(lambda _=False, c=code: self.state.choose_service(c))
                self.tiles[code] = tile
                tiles.append(tile)
            layout.append((header, tiles))
        if not grouped:  # one flat grid; each tile names its agency
            layout = [(None, [tile for _, tiles in layout for tile in tiles])]
        self.grid.set_groups(layout)


class PriorityPage(QWidget):
    def __init__(self, state: KioskState, texts: Texts) -> None:
        super().__init__()
        self.state, self.t = state, texts
        self.title = label("bigMessage")
        self.hint = label("hint")
        self.options = QVBoxLayout()
        self.back = button("secondary", on_click=state.back)
        self.buttons: dict[str, QPushButton] = {}
        self.unit = 1.0
        self.layout_box = QVBoxLayout(self)
        self.layout_box.addWidget(self.title)
        self.layout_box.addWidget(self.hint)
        self.layout_box.addLayout(self.options)
        self.layout_box.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.back)
        row.addStretch(1)
        self.layout_box.addLayout(row)

    def set_geometry_mode(self, unit: float, portrait: bool) -> None:
        if unit != self.unit:
            self.unit = unit
            for widget in self.buttons.values():
                widget.deleteLater()
            self.buttons = {}
        scale_box(self.layout_box, unit, side=48 if portrait else 200, top=40, bottom=40, spacing=24)
        self.options.setSpacing(round((26 if portrait else 18) * unit))

    def render(self) -> None:
        state, t = self.state, self.t
        classes = state.site.priority_classes if state.site else []
        if [c.code for c in classes] != list(self.buttons):
            for widget in self.buttons.values():
                widget.deleteLater()
            self.buttons = {}
            for option in classes:
                widget = button("priorityClass", on_click=lambda c=option.code: state.choose_priority(c))
                text = label("priorityClassText")
                arrow = label("priorityClassArrow", "›", wrap=False)
                box = QHBoxLayout(widget)
                margin = round(36 * self.unit)
                box.setContentsMargins(margin, 0, margin, 0)
                box.addWidget(text, 1)
                box.addWidget(arrow)
                for child in (text, arrow):
                    child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
                widget.setMinimumHeight(round(140 * self.unit))
                self.options.addWidget(widget)
                self.buttons[option.code] = widget
        for option in classes:
            self.buttons[option.code].findChild(QLabel, "priorityClassText").setText(t.option_name(option))
        self.title.setText(t("priority_title"))
        self.hint.setText(t("priority_hint"))
        self.back.setText(t("back"))
