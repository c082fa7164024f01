"""Small non-blocking dialogs (``open()``, never ``exec()``): Enter confirms, Esc cancels.

Each collects what one action needs and hands it to ``on_confirm``; the window passes it
on to the state. None of them talks to the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from counter.actions import SHORTCUTS, Action
from counter.state import CounterState


class ActionDialog(QDialog):
    """Title, body, and [Cancel] [Confirm]; ``on_confirm(self.value())`` on Enter/click."""

    def __init__(self, parent: QWidget, state: CounterState, title: str, confirm: str,
                 on_confirm: Callable[[Any], None], *, danger: bool = False) -> None:
        super().__init__(parent)
        self.state = state
        self.on_confirm = on_confirm
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(min(420, parent.width() - 20) if parent.width() > 300 else 380)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(18, 16, 18, 16)
        self.layout_.setSpacing(10)
        self.title = QLabel(title, objectName="dialogTitle", wordWrap=True)
        self.layout_.addWidget(self.title)
        self.body = QVBoxLayout()
        self.body.setSpacing(8)
        self.layout_.addLayout(self.body, 1)
        self.error = QLabel(objectName="errorText", wordWrap=True)
        self.error.hide()
        self.layout_.addWidget(self.error)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton(state.text("cancel_esc"), objectName="secondaryButton")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button = QPushButton(confirm, objectName="dangerButton" if danger else "primaryButton")
        self.confirm_button.setDefault(True)
        self.confirm_button.clicked.connect(self.confirm)
        buttons.addWidget(self.cancel_button, 1)
        buttons.addWidget(self.confirm_button, 2)
        self.layout_.addLayout(buttons)

    def value(self) -> Any:
        return None

    def problem(self) -> str:
        """Why the dialog cannot be confirmed yet ("" when it can)."""
        return ""

    def confirm(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        value = self.value()
        self.accept()
        self.on_confirm(value)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm()
            return
        super().keyPressEvent(event)


def choice_button(text: str, key: str = "") -> QPushButton:
    button = QPushButton(f"{key}   {text}" if key else text, objectName="choice", checkable=True)
    button.setAutoDefault(False)
    return button


class ConfirmDialog(ActionDialog):
    def __init__(self, parent, state, title: str, message: str, confirm: str, on_confirm, *,
                 danger: bool = True) -> None:
        super().__init__(parent, state, title, confirm, on_confirm, danger=danger)
        text = QLabel(message, wordWrap=True)
        text.setStyleSheet("font-size: 15px;")
        self.body.addWidget(text)


class FinishDialog(ActionDialog):
    """The outcome as big choices (keys 1-9 pick one), then the optional dossier code."""

    def __init__(self, parent, state: CounterState, number: str, last_outcome: str | None, on_confirm):
        super().__init__(parent, state, state.text("finish_title", number=number),
                         state.text("finish_confirm"), on_confirm)
        site = state.mirror.site
        self.outcomes = site.outcomes if site else []
        self.group = QButtonGroup(self)
        self.body.addWidget(QLabel(state.text("finish_outcome"), objectName="fieldLabel"))
        for index, outcome in enumerate(self.outcomes, start=1):
            name = outcome.name_en if state.language == "en" else outcome.name_vi
            button = choice_button(name, str(index) if index < 10 else "")
            button.setProperty("code", outcome.code)
            self.group.addButton(button)
            self.body.addWidget(button)
            if index < 10:
                QShortcut(QKeySequence(f"Alt+{index}"), self, activated=button.click)
            if outcome.code == last_outcome:
                button.setChecked(True)
        if self.group.checkedButton() is None and self.group.buttons():
            self.group.buttons()[0].setChecked(True)
        self.body.addWidget(QLabel(state.text("finish_dossier"), objectName="fieldLabel"))
        self.dossier = QLineEdit(placeholderText=state.text("finish_dossier_hint"), maxLength=64)
        self.dossier.returnPressed.connect(self.confirm)
        self.body.addWidget(self.dossier)
        hint = QLabel(state.text("finish_keys"), objectName="hintText", wordWrap=True)
        self.body.addWidget(hint)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.dossier.setFocus()

    def keyPressEvent(self, event) -> None:
        # Digits pick an outcome unless the clerk is typing the dossier code.
        key = event.key()
        if not self.dossier.hasFocus() and Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            index = key - Qt.Key.Key_1
            if index < len(self.group.buttons()):
                self.group.buttons()[index].setChecked(True)
                return
        super().keyPressEvent(event)

    def value(self) -> tuple[str, str]:
        button = self.group.checkedButton()
        return (button.property("code") if button else "", self.dossier.text().strip())

    def problem(self) -> str:
        return "" if self.group.checkedButton() else self.state.text("finish_pick_outcome")


class HoldDialog(ActionDialog):
    def __init__(self, parent, state: CounterState, number: str, on_confirm) -> None:
        super().__init__(parent, state, state.text("hold_title", number=number),
                         state.text("hold_confirm"), on_confirm)
        self.body.addWidget(QLabel(state.text("hold_explain"), objectName="hintText", wordWrap=True))
        self.body.addWidget(QLabel(state.text("hold_note"), objectName="fieldLabel"))
        self.note = QLineEdit(placeholderText=state.text("hold_note_hint"), maxLength=200)
        self.note.returnPressed.connect(self.confirm)
        self.body.addWidget(self.note)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.note.setFocus()

    def value(self) -> str:
        return self.note.text().strip()


class PauseDialog(ActionDialog):
    def __init__(self, parent, state: CounterState, on_confirm) -> None:
        super().__init__(parent, state, state.text("pause_title"), state.text("pause_confirm"), on_confirm)
        site = state.mirror.site
        self.group = QButtonGroup(self)
        grid = QGridLayout()
        grid.setSpacing(6)
        for index, reason in enumerate(site.pause_reasons if site else []):
            button = choice_button(reason)
            button.setMinimumHeight(44)
            button.setProperty("reason", reason)
            button.toggled.connect(lambda on, r=reason: on and self.other.setText(r))
            self.group.addButton(button)
            grid.addWidget(button, index // 2, index % 2)
        self.body.addLayout(grid)
        self.body.addWidget(QLabel(state.text("pause_other"), objectName="fieldLabel"))
        self.other = QLineEdit(placeholderText=state.text("pause_other_hint"), maxLength=120)
        self.other.returnPressed.connect(self.confirm)
        self.body.addWidget(self.other)

    def value(self) -> str:
        return self.other.text().strip()

    def problem(self) -> str:
        return "" if self.value() else self.state.text("pause_reason_missing")


class CallNumberDialog(ActionDialog):
    """Type a number (or pick an absent one still in its late window); a live hint tells
    what the mirror knows of it before the clerk confirms."""

    def __init__(self, parent, state: CounterState, on_confirm, number: str = "") -> None:
        super().__init__(parent, state, state.text("call_number_title"), state.text("call_number_confirm"),
                         on_confirm)
        self.body.addWidget(QLabel(state.text("call_number_label"), objectName="fieldLabel"))
        self.number = QLineEdit(placeholderText=state.text("call_number_hint"), maxLength=16)
        self.number.setStyleSheet("font-size: 26px; font-weight: 800;")
        self.number.textEdited.connect(self._edited)
        self.number.returnPressed.connect(self.confirm)
        self.body.addWidget(self.number)
        self.hint = QLabel(objectName="hintText", wordWrap=True)
        self.body.addWidget(self.hint)
        absent = state.mirror.absent_in_window(state.server_now())
        if absent:
            self.body.addWidget(QLabel(state.text("call_number_absent"), objectName="fieldLabel"))
            row = QGridLayout()
            row.setSpacing(6)
            for index, (ticket, left) in enumerate(absent[:6]):
                button = QPushButton(state.text("absent_button", number=ticket.number, minutes=left),
                                     objectName="secondaryButton")
                button.setAutoDefault(False)
                button.clicked.connect(lambda _=False, n=ticket.number: self._pick(n))
                row.addWidget(button, index // 3, index % 3)
            self.body.addLayout(row)
        if number:
            self._pick(number, confirm=False)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.number.setFocus()

    def _pick(self, number: str, confirm: bool = False) -> None:
        self.number.setText(number)
        self._edited(number)

    def _edited(self, text: str) -> None:
        upper = text.upper()
        if upper != text:
            position = self.number.cursorPosition()
            self.number.setText(upper)
            self.number.setCursorPosition(position)
        self.hint.setText(describe_number(self.state, upper))

    def value(self) -> str:
        return self.number.text().strip().upper()

    def problem(self) -> str:
        return "" if self.value() else self.state.text("number_missing")


def describe_number(state: CounterState, number: str) -> str:
    """What the mirror knows of a typed number, said before the server is asked."""
    if not number.strip():
        return ""
    ticket = state.mirror.find_number(number)
    if ticket is None:
        return state.text("hint_unknown", number=number)
    service = state.mirror.service_name(ticket.service, state.language)
    if ticket.state == "absent":
        for absent, left in state.mirror.absent_in_window(state.server_now()):
            if absent.id == ticket.id:
                return state.text("hint_absent", number=ticket.number, minutes=left)
        return state.text("hint_absent_late", number=ticket.number)
    if ticket.state == "waiting" and not state.mirror.serves(ticket):
        return state.text("hint_not_here", number=ticket.number, service=service)
    return state.text(f"hint_{ticket.state}", number=ticket.number, service=service,
                      counter=ticket.counter or "")


class TransferDialog(ActionDialog):
    """Another service, or a specific counter; to the front or the back of its queue."""

    def __init__(self, parent, state: CounterState, number: str, on_confirm) -> None:
        super().__init__(parent, state, state.text("transfer_title", number=number),
                         state.text("transfer_confirm"), on_confirm)
        mirror = state.mirror
        ticket = mirror.active_ticket
        modes = QHBoxLayout()
        self.to_service = choice_button(state.text("transfer_to_service"))
        self.to_counter = choice_button(state.text("transfer_to_counter"))
        mode_group = QButtonGroup(self)
        for button in (self.to_service, self.to_counter):
            mode_group.addButton(button)
            modes.addWidget(button)
            button.toggled.connect(self._fill)
        self.body.addLayout(modes)
        self.targets = QListWidget()
        self.targets.setMinimumHeight(200)
        self.targets.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.targets.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.targets.itemDoubleClicked.connect(lambda _: self.confirm())
        self.body.addWidget(self.targets, 1)
        self.body.addWidget(QLabel(state.text("transfer_position"), objectName="fieldLabel"))
        positions = QHBoxLayout()
        self.front = QRadioButton(state.text("transfer_front"))
        self.back = QRadioButton(state.text("transfer_back"))
        positions.addWidget(self.front)
        positions.addWidget(self.back)
        self.body.addLayout(positions)
        default = mirror.site.transfer_position if mirror.site else "front"
        (self.front if default == "front" else self.back).setChecked(True)
        self.current_service = ticket.service if ticket else None
        self.to_service.setChecked(True)

    def _fill(self) -> None:
        state, mirror = self.state, self.state.mirror
        self.targets.clear()
        if self.to_service.isChecked():
            for service in mirror.services.values():
                if service.code == self.current_service or not service.counters:
                    continue
                name = service.name_en if state.language == "en" else service.name_vi
                text = state.text("transfer_service_row", name=name, waiting=service.waiting,
                                  counters=", ".join(str(n) for n in service.counters))
                self._add(text, ("service", service.code))
        else:
            for counter in sorted(mirror.counters.values(), key=lambda c: c.number):
                if counter.number == mirror.counter_number:
                    continue
                status = state.text(f"status_{counter.status}")
                text = state.text("transfer_counter_row", number=counter.number,
                                  name=counter.name_in(state.language), status=status)
                self._add(text, ("counter", counter.number))
        if self.targets.count():
            self.targets.setCurrentRow(0)

    def _add(self, text: str, data: tuple[str, Any]) -> None:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, data)
        self.targets.addItem(item)

    def value(self) -> dict[str, Any]:
        item = self.targets.currentItem()
        kind, target = item.data(Qt.ItemDataRole.UserRole) if item else ("", None)
        return {
            "service": target if kind == "service" else None,
            "counter": target if kind == "counter" else None,
            "position": "front" if self.front.isChecked() else "back",
        }

    def problem(self) -> str:
        return "" if self.targets.currentItem() else self.state.text("transfer_pick")

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not self.targets.hasFocus():
            self.targets.setFocus()
            self.targets.keyPressEvent(event)
            return
        super().keyPressEvent(event)


class ResumeHeldDialog(ActionDialog):
    def __init__(self, parent, state: CounterState, rows, on_confirm, selected: str | None = None) -> None:
        super().__init__(parent, state, state.text("resume_title"), state.text("resume_confirm"), on_confirm)
        self.list = QListWidget()
        self.list.setMinimumHeight(160)
        for row in rows:
            star = "★ " if row.priority else ""
            item = QListWidgetItem(f"{star}{row.number}   {row.text}   ·   {row.detail}")
            item.setData(Qt.ItemDataRole.UserRole, row.number)
            self.list.addItem(item)
            if row.number == selected:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _: self.confirm())
        self.body.addWidget(self.list)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.list.setFocus()

    def value(self) -> str:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else ""

    def problem(self) -> str:
        return "" if self.value() else self.state.text("resume_pick")


class ShortcutsDialog(ActionDialog):
    def __init__(self, parent, state: CounterState) -> None:
        super().__init__(parent, state, state.text("menu_shortcuts"), state.text("close"), lambda _: None)
        self.cancel_button.hide()
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        rows = [(key, state.text(f"action_{action.value}")) for action, key in SHORTCUTS.items()]
        rows[list(SHORTCUTS).index(Action.PAUSE)] = (
            "F9", f"{state.text('action_pause')} / {state.text('action_resume_counter')}")
        rows += [("F11", state.text("menu_rating")), ("Ctrl+T", state.text("pin_tip")),
                 ("Ctrl+E", state.text("language_tip"))]
        for index, (key, text) in enumerate(rows):
            chip = QLabel(key, objectName="keyChip", alignment=Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(chip, index, 0)
            grid.addWidget(QLabel(text), index, 1)
        self.body.addLayout(grid)
