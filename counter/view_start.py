"""The first two screens: log in, then choose the counter to open."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from counter.actions import Phase
from counter.state import CounterState


def centered_box(page: QWidget) -> QVBoxLayout:
    """A page's box of fields in the middle (the login form's shape)."""
    page.setObjectName("page")
    outer = QVBoxLayout(page)
    outer.setContentsMargins(16, 16, 16, 16)
    box = QFrame(objectName="loginBox")
    box.setMaximumWidth(520)
    box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(box, 10)
    row.addStretch(1)
    outer.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(24, 22, 24, 22)
    layout.setSpacing(8)
    return layout


class LoginPage(QWidget):
    login_requested = Signal(str, str)
    cancel_requested = Signal()
    language_toggled = Signal()

    def __init__(self, state: CounterState, server: str) -> None:
        super().__init__()
        self.state = state
        self.server = server
        layout = centered_box(self)
        self.title = QLabel(objectName="appTitle", wordWrap=True)
        self.subtitle = QLabel(objectName="appSubtitle", wordWrap=True)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addSpacing(12)
        self.user_label = QLabel(objectName="fieldLabel")
        self.username = QLineEdit()
        self.username.setText(state.remembered_username)
        self.password_label = QLabel(objectName="fieldLabel")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        for label, field in ((self.user_label, self.username), (self.password_label, self.password)):
            label.setBuddy(field)
            layout.addWidget(label)
            layout.addWidget(field)
            field.returnPressed.connect(self._submit)
        layout.addSpacing(6)
        self.error = QLabel(objectName="errorText", wordWrap=True)
        layout.addWidget(self.error)
        self.progress = QLabel(objectName="hintText", wordWrap=True)
        layout.addWidget(self.progress)
        self.login_button = QPushButton(objectName="primaryButton")
        self.login_button.clicked.connect(self._submit)
        self.login_button.setAutoDefault(True)
        layout.addWidget(self.login_button)
        self.cancel_button = QPushButton(objectName="secondaryButton")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout.addWidget(self.cancel_button)
        layout.addSpacing(8)
        bottom = QHBoxLayout()
        self.server_label = QLabel(objectName="hintText")
        self.server_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bottom.addWidget(self.server_label, 1)
        self.lang_button = QPushButton(objectName="secondaryButton")
        self.lang_button.setMinimumHeight(32)
        self.lang_button.clicked.connect(self.language_toggled)
        bottom.addWidget(self.lang_button)
        layout.addLayout(bottom)
        self._last_error = None

    def _submit(self) -> None:
        if self.state.phase is Phase.LOGIN:
            self.login_requested.emit(self.username.text(), self.password.text())

    def focus_first_empty(self) -> None:
        (self.password if self.username.text() else self.username).setFocus()

    def render(self) -> None:
        state = self.state
        busy = state.phase is Phase.LOGGING_IN
        self.title.setText(state.text("app_title"))
        self.subtitle.setText(state.text("login_subtitle"))
        self.user_label.setText(state.text("username"))
        self.password_label.setText(state.text("password"))
        self.username.setEnabled(not busy)
        self.password.setEnabled(not busy)
        self.login_button.setText(state.text("login_busy" if busy else "login_button"))
        self.login_button.setEnabled(not busy)
        self.cancel_button.setText(state.text("cancel"))
        self.cancel_button.setVisible(busy)
        error = state.login_error
        self.error.setVisible(error is not None)
        self.error.setText(error.text(state.language) if error else "")
        progress = ""
        unreachable = busy and state.connection == "offline"
        if busy:
            progress = state.text("login_unreachable" if unreachable else "login_connecting")
        name = "errorText" if unreachable else "hintText"
        if self.progress.objectName() != name:
            self.progress.setObjectName(name)
            self.progress.style().unpolish(self.progress)
            self.progress.style().polish(self.progress)
        self.progress.setText(progress)
        self.progress.setVisible(bool(progress))
        self.server_label.setText(state.text("server_address", url=self.server))
        self.lang_button.setText(state.text("language_switch"))
        if error is not None and error is not self._last_error:
            self.password.clear()  # a refused password is typed again, not edited
            self.password.setFocus()
        self._last_error = error


class CounterPage(QWidget):
    counter_chosen = Signal(str, int)
    logout_requested = Signal()

    def __init__(self, state: CounterState) -> None:
        super().__init__()
        self.state = state
        layout = centered_box(self)
        self.greeting = QLabel(objectName="appTitle", wordWrap=True)
        self.prompt = QLabel(objectName="appSubtitle", wordWrap=True)
        layout.addWidget(self.greeting)
        layout.addWidget(self.prompt)
        self.choices_area = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.choices_holder = QWidget()
        self.choices_holder.setStyleSheet("background: white;")
        self.choices_layout = QVBoxLayout(self.choices_holder)
        self.choices_layout.setContentsMargins(0, 4, 0, 4)
        self.choices_layout.setSpacing(6)
        self.choices_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.choices_area.setWidget(self.choices_holder)
        layout.addWidget(self.choices_area, 1)
        self.error = QLabel(objectName="errorText", wordWrap=True)
        layout.addWidget(self.error)
        self.open_button = QPushButton(objectName="primaryButton")
        self.open_button.clicked.connect(self._submit)
        layout.addWidget(self.open_button)
        self.logout_button = QPushButton(objectName="secondaryButton")
        self.logout_button.clicked.connect(self.logout_requested)
        layout.addWidget(self.logout_button)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self._shown: tuple = ()  # (choices, language) the buttons were built for
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # Enter and the arrows work at once

    def _submit(self) -> None:
        button = self.group.checkedButton()
        if button is not None and self.state.phase is Phase.CHOOSE:
            self.counter_chosen.emit(button.property("site"), int(button.property("number")))

    def render(self) -> None:
        state = self.state
        name = state.user.full_name if state.user else ""
        self.greeting.setText(state.text("hello", name=name))
        self.prompt.setText(state.text("choose_counter"))
        if (state.choices, state.language) != self._shown:  # a language switch relabels them
            self._build_choices()
        busy = state.phase is Phase.SELECTING
        self.open_button.setText(state.text("opening" if busy else "open_counter"))
        self.open_button.setEnabled(not busy and self.group.checkedButton() is not None)
        self.logout_button.setText(state.text("logout"))
        notice = state.notice
        self.error.setVisible(notice is not None)
        self.error.setText(notice.text(state.language) if notice else "")

    def _build_choices(self) -> None:
        state = self.state
        self._shown = (list(state.choices), state.language)
        checked = self.group.checkedButton()
        keep = (checked.property("site"), checked.property("number")) if checked else None
        for button in self.group.buttons():
            self.group.removeButton(button)
        while self.choices_layout.count():
            item = self.choices_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        remembered = state.remembered_counter
        me = state.credentials.username if state.credentials else None
        sites = {c.site for c in state.choices}
        current_site = None
        for choice in state.choices:
            if len(sites) > 1 and choice.site != current_site:
                current_site = choice.site
                self.choices_layout.addWidget(QLabel(choice.site_name, objectName="sectionTitle"))
            if choice.status == "closed" or choice.clerk is None:
                detail = state.text(f"choice_{choice.status}")
            elif choice.clerk == me:
                detail = state.text("choice_yours")
            else:
                detail = state.text("choice_in_use", clerk=choice.clerk)
            title = state.text("counter_label", number=choice.number, name=choice.name_in(state.language))
            button = QPushButton(f"{title}\n{detail}", objectName="choice", checkable=True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setProperty("site", choice.site)
            button.setProperty("number", choice.number)
            button.toggled.connect(lambda _=False: self.render())
            button.clicked.connect(lambda _=False, b=button: b.setChecked(True))
            self.group.addButton(button)
            self.choices_layout.addWidget(button)
            if (keep or remembered) == (choice.site, choice.number) or len(state.choices) == 1:
                button.setChecked(True)
        if self.group.checkedButton() is None and self.group.buttons():
            self.group.buttons()[0].setChecked(True)
        if not state.choices:
            self.choices_layout.addWidget(QLabel(state.text("no_counters"), objectName="emptyNote",
                                                 wordWrap=True))
        self.choices_layout.addStretch(1)
        self.choices_area.setMinimumHeight(min(max(len(state.choices), 1) * 74 + 8, 380))

    def keyPressEvent(self, event) -> None:
        buttons = self.group.buttons()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._submit()
        elif event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up) and buttons:
            checked = self.group.checkedButton()
            index = buttons.index(checked) if checked in buttons else -1
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            buttons[(index + step) % len(buttons)].setChecked(True)
        else:
            super().keyPressEvent(event)
