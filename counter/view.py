"""The counter window: one of three pages (log in, choose counter, work), the function
keys, the dialogs, "always on top" and the language toggle. It draws the state and turns
clicks and keys into the state's intents."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QStackedWidget

from counter import present
from counter.actions import SHORTCUTS, Action, Phase
from counter.state import CounterState
from counter.view_dialogs import (
    CallNumberDialog,
    ConfirmDialog,
    FinishDialog,
    HoldDialog,
    PauseDialog,
    ResumeHeldDialog,
    ShortcutsDialog,
    TransferDialog,
)
from counter.view_main import MainPage
from counter.view_password import PasswordPage
from counter.view_start import CounterPage, LoginPage
from counter.view_style import STYLE_SHEET

DEFAULT_SIZE = (460, 720)
MINIMUM_SIZE = (420, 640)  # below that the main page's layout cannot fit


class CounterWindow(QMainWindow):
    closing = Signal()

    def __init__(self, state: CounterState, server: str, *,
                 toggle_rating: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.state = state
        self.toggle_rating = toggle_rating or (lambda: None)
        self.dialog: QDialog | None = None
        self.setStyleSheet(STYLE_SHEET)
        self.setMinimumSize(*MINIMUM_SIZE)
        self.resize(*DEFAULT_SIZE)
        self.pages = QStackedWidget()
        self.login_page = LoginPage(state, server)
        self.password_page = PasswordPage(state)
        self.counter_page = CounterPage(state)
        self.main_page = MainPage(state)
        for page in (self.login_page, self.password_page, self.counter_page, self.main_page):
            self.pages.addWidget(page)
        self.setCentralWidget(self.pages)

        self.login_page.login_requested.connect(state.login)
        self.login_page.cancel_requested.connect(state.cancel_login)
        self.login_page.language_toggled.connect(state.toggle_language)
        self.password_page.change_requested.connect(state.change_password)
        self.password_page.cancel_requested.connect(state.cancel_login)
        self.counter_page.counter_chosen.connect(state.choose_counter)
        self.counter_page.logout_requested.connect(state.logout)
        self.main_page.action_clicked.connect(self.trigger)
        self.main_page.menu_requested.connect(self._menu)
        self.main_page.held_chosen.connect(lambda number: self.trigger(Action.RESUME_HELD, number))
        self.main_page.absent_chosen.connect(lambda number: self.trigger(Action.CALL_NUMBER, number))
        self.main_page.pin_toggled.connect(self.set_always_on_top)

        for action, key in SHORTCUTS.items():
            QShortcut(QKeySequence(key), self, activated=lambda a=action: self.trigger(a))
        QShortcut(QKeySequence("F11"), self, activated=lambda: self.toggle_rating())
        QShortcut(QKeySequence("Ctrl+T"), self, activated=lambda: self.main_page.pin_button.toggle())
        QShortcut(QKeySequence("Ctrl+E"), self, activated=state.toggle_language)

        self.timer = QTimer(self, interval=1000)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        state.changed.connect(self.refresh)
        self._phase: Phase | None = None
        self._waiting = 0
        self.refresh()
        if state.settings.value("always_on_top") == "1":
            self.main_page.pin_button.setChecked(True)

    # -- drawing ----------------------------------------------------------------------------

    def refresh(self) -> None:
        state = self.state
        phase = state.phase
        page = {Phase.LOGIN: self.login_page, Phase.LOGGING_IN: self.login_page,
                Phase.CHANGE_PASSWORD: self.password_page, Phase.CHOOSE: self.counter_page,
                Phase.SELECTING: self.counter_page, Phase.READY: self.main_page}[phase]
        self.pages.setCurrentWidget(page)
        if page is self.main_page:
            self.main_page.render(state.server_now())
            title, _, _ = present.header(state)
            self.setWindowTitle(state.text("window_title_counter", counter=title))
        else:
            page.render()
            self.setWindowTitle(state.text("window_title"))
            self._close_dialog()
        if phase is not self._phase:
            if phase is Phase.LOGIN:
                self.login_page.focus_first_empty()
            elif phase is Phase.CHANGE_PASSWORD:
                self.password_page.start()
            elif phase is Phase.CHOOSE:
                self.counter_page.setFocus()
            elif phase is Phase.READY:
                self.main_page.setFocus()
            self._phase = phase
        if self.dialog is not None and not state.online:
            self._close_dialog()  # its action could not be sent anyway
        self._alert_when_someone_arrives()

    def _alert_when_someone_arrives(self) -> None:
        """An idle counter whose queue was empty: flash the taskbar entry (the clerk is
        probably working in the one-stop software) when a citizen starts waiting."""
        state = self.state
        ready = state.phase is Phase.READY
        waiting = len(state.mirror.waiting_for_me()) if ready else 0
        idle = ready and state.mirror.active_ticket is None and not state.is_paused
        if idle and waiting and not self._waiting:
            QApplication.alert(self)
        self._waiting = waiting

    def _tick(self) -> None:
        if self.state.phase is Phase.READY:
            self.main_page.tick(self.state.server_now())

    # -- actions ----------------------------------------------------------------------------

    def trigger(self, action: Action, number: str | None = None) -> None:
        state, commands = self.state, self.state.commands
        if self.dialog is not None or not commands.explain(action):
            return
        ticket = state.mirror.active_ticket
        current = ticket.number if ticket else ""
        if action is Action.CALL_NEXT:
            commands.call_next()
        elif action is Action.RECALL:
            commands.recall()
        elif action is Action.START:
            commands.start()
        elif action is Action.FINISH:
            last = state.settings.value("last_outcome")
            self._open(FinishDialog(self, state, current, last, self._finish))
        elif action is Action.ABSENT:
            minutes = state.mirror.site.late_window_minutes if state.mirror.site else 0
            self._open(ConfirmDialog(
                self, state, state.text("absent_title", number=current),
                state.text("absent_message", number=current, minutes=minutes),
                state.text("absent_confirm"), lambda _: commands.mark_absent()))
        elif action is Action.HOLD:
            self._open(HoldDialog(self, state, current, commands.hold))
        elif action is Action.TRANSFER:
            self._open(TransferDialog(self, state, current, lambda v: commands.transfer(**v)))
        elif action is Action.CALL_NUMBER:
            self._open(CallNumberDialog(self, state, commands.call_number, number or ""))
        elif action is Action.PAUSE:
            if state.is_paused:
                commands.toggle_pause()
            else:
                self._open(PauseDialog(self, state, commands.toggle_pause))
        elif action is Action.RESUME_HELD:
            rows = present.held_rows(state, state.server_now())
            self._open(ResumeHeldDialog(self, state, rows, commands.resume_held, number))
        elif action is Action.CLOSE:
            counter = state.mirror.counter
            self._open(ConfirmDialog(
                self, state, state.text("close_title"),
                state.text("close_message", counter=counter.number if counter else ""),
                state.text("close_confirm"), lambda _: commands.close_counter()))

    def _finish(self, value: tuple[str, str]) -> None:
        outcome, dossier = value
        self.state.settings.set_value("last_outcome", outcome)
        self.state.commands.finish(outcome, dossier)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _: self._dialog_closed(dialog))
        dialog.open()

    def _dialog_closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
        self.activateWindow()  # the function keys work again at once

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.reject()

    def _menu(self, key: str) -> None:
        state = self.state
        if key == "rating":
            self.toggle_rating()
        elif key == "language":
            state.toggle_language()
        elif key == "shortcuts":
            self._open(ShortcutsDialog(self, state))
        elif key == "close":
            self.trigger(Action.CLOSE)
        elif key == "logout":
            ticket = state.mirror.active_ticket
            message = (state.text("logout_active", number=ticket.number) if ticket
                       else state.text("logout_message"))
            self._open(ConfirmDialog(self, state, state.text("logout_title"), message,
                                     state.text("logout"), lambda _: state.logout()))

    def closeEvent(self, event) -> None:
        self.timer.stop()
        self.closing.emit()
        super().closeEvent(event)

    def set_always_on_top(self, on: bool) -> None:
        self.state.settings.set_value("always_on_top", "1" if on else "0")
        if bool(self.windowFlags() & Qt.WindowType.WindowStaysOnTopHint) == on:
            return
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        if visible:
            self.show()  # changing a window flag hides the window
