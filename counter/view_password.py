"""The new-password form a clerk sees after a manager reset their password: the new one
twice, then on to the counters as after any login. A box like the login form's."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QWidget

from common.notice import Notice
from counter.actions import Phase
from counter.state import MIN_PASSWORD, CounterState
from counter.view_start import centered_box


class PasswordPage(QWidget):
    change_requested = Signal(str, str)  # the new password, typed again
    cancel_requested = Signal()

    def __init__(self, state: CounterState) -> None:
        super().__init__()
        self.state = state
        layout = centered_box(self)
        self.title = QLabel(objectName="appTitle", wordWrap=True)
        self.explain = QLabel(objectName="appSubtitle", wordWrap=True)
        layout.addWidget(self.title)
        layout.addWidget(self.explain)
        layout.addSpacing(12)
        self.new_label = QLabel(objectName="fieldLabel")
        self.new_password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.repeat_label = QLabel(objectName="fieldLabel")
        self.repeated = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        for label, field in ((self.new_label, self.new_password), (self.repeat_label, self.repeated)):
            label.setBuddy(field)
            layout.addWidget(label)
            layout.addWidget(field)
        self.new_password.returnPressed.connect(self.repeated.setFocus)
        self.repeated.returnPressed.connect(self._submit)
        layout.addSpacing(6)
        self.error = QLabel(objectName="errorText", wordWrap=True)
        layout.addWidget(self.error)
        self.save_button = QPushButton(objectName="primaryButton")
        self.save_button.clicked.connect(self._submit)
        layout.addWidget(self.save_button)
        self.cancel_button = QPushButton(objectName="secondaryButton")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout.addWidget(self.cancel_button)
        self._last_error: Notice | None = None

    def _submit(self) -> None:
        if self.state.phase is Phase.CHANGE_PASSWORD:
            self.change_requested.emit(self.new_password.text(), self.repeated.text())

    def start(self) -> None:
        """A fresh form (each time the page comes up)."""
        self.new_password.clear()
        self.repeated.clear()
        self.new_password.setFocus()

    def render(self) -> None:
        state = self.state
        busy = state.pending == "password"
        user = state.user
        name = (user.full_name or user.username) if user else ""
        self.title.setText(state.text("password_title"))
        self.explain.setText(state.text("password_explain", name=name, n=MIN_PASSWORD))
        self.new_label.setText(state.text("new_password"))
        self.repeat_label.setText(state.text("repeat_password"))
        self.new_password.setEnabled(not busy)
        self.repeated.setEnabled(not busy)
        self.save_button.setText(state.text("password_saving" if busy else "password_save"))
        self.save_button.setEnabled(not busy)
        self.cancel_button.setText(state.text("cancel"))
        error = state.password_error
        self.error.setVisible(error is not None)
        self.error.setText(error.text(state.language) if error else "")
        if error is not None and error is not self._last_error:
            self.repeated.clear()  # typed again, not edited
            (self.repeated if self.new_password.text() else self.new_password).setFocus()
        self._last_error = error
