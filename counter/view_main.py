"""The counter's main screen: the active ticket, the actions, the queue and today's figures.

Draws ``counter.present`` values and forwards clicks; it decides nothing itself.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from counter import present
from counter.actions import SHORTCUTS, Action
from counter.state import CounterState
from counter.view_style import ROW_BORDER, ROW_PADDING_Y
from counter.view_widgets import ActionButton, ElidedLabel, RowWidget, repolish, set_property

# Fixed places, so the hand learns them: the daily flow on the big first row.
LAYOUT: list[list[Action]] = [
    [Action.CALL_NEXT, Action.START, Action.FINISH],
    [Action.RECALL, Action.ABSENT, Action.HOLD],
    [Action.TRANSFER, Action.CALL_NUMBER, Action.RESUME_HELD],
]


class MainPage(QWidget):
    action_clicked = Signal(object)  # Action
    menu_requested = Signal(str)  # "rating" | "close" | "logout" | "shortcuts"
    held_chosen = Signal(str)  # a held number double-clicked
    absent_chosen = Signal(str)  # an absent number double-clicked
    pin_toggled = Signal(bool)

    def __init__(self, state: CounterState) -> None:
        super().__init__()
        self.state = state
        self.setObjectName("page")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._build_header())
        self.banner = QFrame(objectName="offlineBanner")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(12, 8, 12, 8)
        self.banner_text = QLabel(wordWrap=True)
        banner_layout.addWidget(self.banner_text)
        outer.addWidget(self.banner)
        body = QVBoxLayout()
        body.setContentsMargins(10, 10, 10, 8)
        body.setSpacing(8)
        outer.addLayout(body, 1)
        body.addWidget(self._build_card())
        body.addLayout(self._build_actions())
        body.addWidget(self._build_queue(), 1)
        body.addWidget(self._build_figures())
        self.status_line = QLabel(objectName="statusLine", wordWrap=True)
        self.status_line.setMinimumHeight(26)
        body.addWidget(self.status_line)
        self._rows: dict[str, list[present.Row]] = {}

    # -- building ---------------------------------------------------------------------------

    def _build_header(self) -> QWidget:
        header = QFrame(objectName="header")
        layout = QHBoxLayout(header)
        layout.setContentsMargins(12, 8, 8, 8)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.counter_title = ElidedLabel(objectName="counterTitle")
        second = QHBoxLayout()
        second.setSpacing(8)
        self.clerk_name = QLabel(objectName="clerkName")
        self.status_pill = QLabel(objectName="statusPill")
        second.addWidget(self.clerk_name)
        second.addWidget(self.status_pill)
        second.addStretch(1)
        titles.addWidget(self.counter_title)
        titles.addLayout(second)
        layout.addLayout(titles, 1)
        self.pin_button = QToolButton(objectName="headerButton", checkable=True)
        self.pin_button.toggled.connect(self.pin_toggled)
        self.menu_button = QToolButton(objectName="headerButton")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self)
        self.menu_actions = {}
        for key in ("rating", "language", "shortcuts", "close", "logout"):
            act = self.menu.addAction("")
            act.triggered.connect(lambda _=False, k=key: self.menu_requested.emit(k))
            self.menu_actions[key] = act
            if key == "shortcuts":
                self.menu.addSeparator()
        self.menu_button.setMenu(self.menu)
        for button in (self.pin_button, self.menu_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        return header

    def _build_card(self) -> QWidget:
        self.card = QFrame(objectName="card")
        self.card.setMinimumHeight(128)
        layout = QVBoxLayout(self.card)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(4)
        top = QHBoxLayout()
        self.ticket_number = QLabel(objectName="ticketNumber")
        self.ticket_number.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        top.addWidget(self.ticket_number, 1)
        badges = QVBoxLayout()
        badges.setSpacing(6)
        self.state_badge = QLabel(objectName="stateBadge", alignment=Qt.AlignmentFlag.AlignCenter)
        badges.addWidget(self.state_badge, 0, Qt.AlignmentFlag.AlignRight)
        badges.addStretch(1)
        top.addLayout(badges)
        layout.addLayout(top)
        self.service_name = QLabel(objectName="serviceName", wordWrap=True)
        layout.addWidget(self.service_name)
        self.priority_badge = QLabel(objectName="priorityBadge")
        layout.addWidget(self.priority_badge, 0, Qt.AlignmentFlag.AlignLeft)
        self.card_timer = QLabel(objectName="cardTimer", wordWrap=True)
        layout.addWidget(self.card_timer)
        self.card_lines = QLabel(objectName="cardLine", wordWrap=True)
        layout.addWidget(self.card_lines)
        layout.addStretch(1)
        return self.card

    def _build_actions(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(6)
        self.buttons: dict[Action, ActionButton] = {}
        for row, actions in enumerate(LAYOUT):
            for column, action in enumerate(actions):
                button = ActionButton(action, big=row == 0, danger=action is Action.ABSENT)
                button.clicked.connect(lambda _=False, a=action: self.action_clicked.emit(a))
                grid.addWidget(button, row, column)
                self.buttons[action] = button
        pause = ActionButton(Action.PAUSE)
        pause.clicked.connect(lambda: self.action_clicked.emit(Action.PAUSE))
        close = ActionButton(Action.CLOSE, danger=True)
        close.clicked.connect(lambda: self.action_clicked.emit(Action.CLOSE))
        self.buttons[Action.PAUSE], self.buttons[Action.CLOSE] = pause, close
        grid.addWidget(pause, len(LAYOUT), 0, 1, 2)
        grid.addWidget(close, len(LAYOUT), 2)
        return grid

    def _build_queue(self) -> QWidget:
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(False)
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        waiting = QWidget()
        layout = QVBoxLayout(waiting)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(4)
        self.services_box = QGridLayout()
        self.services_box.setHorizontalSpacing(6)
        self.services_box.setVerticalSpacing(3)
        layout.addLayout(self.services_box)
        self.next_list = self._list()
        layout.addWidget(self.next_list, 1)
        self.held_list = self._list()
        self.held_list.itemDoubleClicked.connect(
            lambda item: self.held_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.absent_list = self._list()
        self.absent_list.itemDoubleClicked.connect(
            lambda item: self.absent_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.tabs.addTab(waiting, "")
        self.tabs.addTab(self.held_list, "")
        self.tabs.addTab(self.absent_list, "")
        self.tabs.setMinimumHeight(96)
        return self.tabs

    def _list(self) -> QListWidget:
        widget = QListWidget()
        widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        widget.setUniformItemSizes(True)
        widget.setResizeMode(QListWidget.ResizeMode.Adjust)  # rows follow the window's width
        return widget

    def _build_figures(self) -> QWidget:
        box = QFrame(objectName="figures")
        layout = QHBoxLayout(box)
        layout.setContentsMargins(8, 4, 8, 4)
        self.figure_values: list[QLabel] = []
        self.figure_labels: list[QLabel] = []
        self.figures_title = QLabel(objectName="sectionTitle")
        layout.addWidget(self.figures_title)
        for _ in range(3):
            column = QVBoxLayout()
            column.setSpacing(0)
            value = QLabel(objectName="figureValue", alignment=Qt.AlignmentFlag.AlignCenter)
            label = QLabel(objectName="figureLabel", alignment=Qt.AlignmentFlag.AlignCenter)
            column.addWidget(value)
            column.addWidget(label)
            layout.addLayout(column, 1)
            self.figure_values.append(value)
            self.figure_labels.append(label)
        return box

    # -- drawing ----------------------------------------------------------------------------

    def render(self, now: datetime) -> None:
        state = self.state
        title, clerk, status = present.header(state)
        self.counter_title.setText(title)
        self.clerk_name.setText(clerk)
        self.status_pill.setText(state.text(f"status_{status}") if status else "")
        set_property(self.status_pill, "status", status)
        self.pin_button.setText(state.text("pin"))
        self.pin_button.setToolTip(state.text("pin_tip"))
        self.menu_button.setText(state.text("menu"))
        for key, act in self.menu_actions.items():
            act.setText(state.text("language_switch") + "  (Ctrl+E)" if key == "language"
                        else state.text(f"menu_{key}"))
        self.banner.setVisible(not state.online)
        self.banner_text.setText(state.text("offline_banner"))
        self._render_card(now)
        self._render_actions()
        self._render_queue(now)
        for (value, label), value_label, label_label in zip(
                present.figures(state), self.figure_values, self.figure_labels, strict=True):
            value_label.setText(value)
            label_label.setText(label)
        self.figures_title.setText(state.text("figures_title"))
        notice = state.notice
        self.status_line.setVisible(notice is not None)
        if notice is not None:
            self.status_line.setText(notice.text(state.language))
            set_property(self.status_line, "kind", notice.kind)

    def tick(self, now: datetime) -> None:
        """Once a second: the timers on the card and the minutes in the lists."""
        self._render_card(now)
        self._render_queue(now)

    def _render_card(self, now: datetime) -> None:
        card = present.ticket_card(self.state, now)
        set_property(self.card, "kind", card.kind)
        set_property(self.ticket_number, "kind", card.kind)
        set_property(self.state_badge, "kind", card.kind)
        active = card.kind in ("called", "serving")
        self.ticket_number.setText(card.number if active else card.title)
        self.state_badge.setText(card.badge)
        self.state_badge.setVisible(bool(card.badge))
        self.service_name.setText(card.title if active else "")
        self.service_name.setVisible(active)
        self.priority_badge.setText(f"★ {card.priority}" if card.priority else "")
        self.priority_badge.setVisible(bool(card.priority))
        first, rest = (card.lines[0], card.lines[1:]) if card.lines else ("", [])
        self.card_timer.setText(first)
        self.card_lines.setText("\n".join(line for line in rest if line))
        self.card_lines.setVisible(any(rest))

    def _render_actions(self) -> None:
        state = self.state
        primary = state.commands.primary_action
        for action, button in self.buttons.items():
            key = "resume_counter" if action is Action.PAUSE and state.is_paused else action.value
            button.set_label(state.text(f"action_{key}"))
            available = state.commands.availability(action)
            if button.isEnabled() != available.enabled:
                button.setEnabled(available.enabled)
                repolish(button)  # the labels inside take their disabled colours
            tip = available.reason or state.text(f"tip_{key}")
            shortcut = SHORTCUTS.get(action)
            button.setToolTip(f"{tip} ({shortcut})" if shortcut and available.enabled else tip)
            set_property(button, "primary", action is primary and available.enabled)

    def _render_queue(self, now: datetime) -> None:
        state = self.state
        services = present.service_rows(state)
        several = len(services) > 1 or any(row.mine for row in services)
        services = services if several else []
        if services != self._rows.get("services"):
            self._rows["services"] = services
            while self.services_box.count():
                item = self.services_box.takeAt(0)
                if item.widget():
                    item.widget().deleteLater()
            for index, row in enumerate(services):
                name = QLabel(row.text, objectName="hintText")
                name.setToolTip(row.text)
                count = QLabel(row.number, objectName="serviceChip", alignment=Qt.AlignmentFlag.AlignCenter)
                self.services_box.addWidget(name, index, 0)
                self.services_box.addWidget(count, index, 1, Qt.AlignmentFlag.AlignRight)
            self.services_box.setColumnStretch(0, 1)
        waiting = present.next_rows(state, now)
        held = present.held_rows(state, now)
        absent = present.absent_rows(state, now)
        total = len(state.mirror.waiting_for_me())
        self._fill(self.next_list, "next", waiting, "queue_empty")
        self._fill(self.held_list, "held", held, "held_empty")
        self._fill(self.absent_list, "absent", absent, "absent_empty")
        self.tabs.setTabText(0, state.text("tab_waiting", count=total))
        self.tabs.setTabText(1, state.text("tab_held", count=len(held)))
        self.tabs.setTabText(2, state.text("tab_absent", count=len(absent)))

    def _fill(self, widget: QListWidget, key: str, rows: list[present.Row], empty_key: str) -> None:
        if rows == self._rows.get(key) and widget.count():
            return
        self._rows[key] = rows
        widget.clear()
        if not rows:
            item = QListWidgetItem(self.state.text(empty_key))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            widget.addItem(item)
            return
        for row in rows:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, row.number)
            item.setToolTip(f"{row.number} – {row.text}" + (f" ({row.detail})" if row.detail else ""))
            line = RowWidget(row)
            widget.addItem(item)
            widget.setItemWidget(item, line)
            # Measured in the list, where the window's style sheet (the rows' type) applies, and
            # with the item's padding and border: without them the row was cut below the
            # baseline ("hẹn" lost its dot, "lấy" its tail).
            line.ensurePolished()
            height = line.sizeHint().height() + 2 * ROW_PADDING_Y + ROW_BORDER
            item.setSizeHint(QSize(1, height))  # as wide as the list, no wider
