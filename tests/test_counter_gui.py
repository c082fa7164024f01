"""The real counter window (offscreen) against a real server: a clerk's working day.

Keys are pressed on the window (F1…F10), dialogs are answered with the keyboard, and
every effect is checked on the server itself, which is the single truth.
"""

from __future__ import annotations

import io
import itertools

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from common import protocol as p
from counter.actions import Action, Phase
from counter.app import CounterApp
from counter.rating_state import RatingPhase
from counter.settings import MemorySettings
from counter.view_dialogs import (
    CallNumberDialog,
    ConfirmDialog,
    FinishDialog,
    HoldDialog,
    PauseDialog,
    ResumeHeldDialog,
    TransferDialog,
)
from server.core import commands as c

pytestmark = pytest.mark.gui

WAIT = 10_000  # ms; reconnecting after an outage takes up to ~3 s
_keys = itertools.count(1)


def issue(live_server, service: str = "TP", count: int = 1, priority: str | None = None) -> None:
    for _ in range(count):
        n = next(_keys)
        command = c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1", service=service,
                                priority=priority, idempotency_key=f"gui-{n:06d}", token=f"gui-token-{n}")
        live_server.call(lambda s, cmd=command: s.submit("tinh", cmd))


def server_ticket(live_server, number: str):
    return live_server.call(lambda s: s.states["tinh"].ticket_by_number(number))


def server_counter(live_server, number: int):
    return live_server.call(lambda s: s.states["tinh"].counters[number])


@pytest.fixture
def make_app(qtbot, live_server):
    apps: list[CounterApp] = []

    def make(settings: MemorySettings | None = None, **options) -> CounterApp:
        app = CounterApp(live_server.url, settings=settings if settings is not None else MemorySettings(),
                         **options)
        qtbot.addWidget(app.window)
        app.show()
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.shutdown()
        if app.rating_window is not None:
            app.rating_window.close()


def login(qtbot, app: CounterApp, user: str = "lan", counter: int = 1, password: str = "xephang") -> None:
    page = app.window.login_page
    page.username.clear()
    qtbot.keyClicks(page.username, user)
    qtbot.keyClicks(page.password, password)
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.state.phase is Phase.CHOOSE, timeout=WAIT)
    choose = app.window.counter_page
    button = next(b for b in choose.group.buttons() if b.property("number") == counter)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(choose, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.state.phase is Phase.READY, timeout=WAIT)


def press(qtbot, app: CounterApp, key: Qt.Key) -> None:
    """A function key on the window, as the clerk presses it (the window must be active)."""
    app.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window, timeout=WAIT)
    qtbot.keyClick(app.window, key)


def wait_active(qtbot, app: CounterApp, number: str | None, state: str | None = None) -> None:
    def check() -> bool:
        ticket = app.state.mirror.active_ticket
        if app.state.pending is not None:
            return False
        if number is None:
            return ticket is None
        return ticket is not None and ticket.number == number and (state is None or ticket.state == state)

    qtbot.waitUntil(check, timeout=WAIT)


def dialog_of(app: CounterApp, kind: type):
    dialog = app.window.dialog
    assert isinstance(dialog, kind), dialog
    return dialog


def test_a_working_day(qtbot, live_server, make_app):
    issue(live_server, "TP", 4)
    app = make_app()
    login(qtbot, app)
    page = app.window.main_page
    assert page.counter_title.full_text == "Quầy 1 · Tư pháp 1"
    assert page.tabs.tabText(0) == "Đang chờ (4)"

    # F1: call next
    press(qtbot, app, Qt.Key.Key_F1)
    wait_active(qtbot, app, "A001", "called")
    assert page.ticket_number.text() == "A001" and page.state_badge.text() == "ĐANG GỌI"
    assert not page.buttons[Action.CALL_NEXT].isEnabled()
    assert page.buttons[Action.CALL_NEXT].toolTip() == "Đang gọi số A001 – hãy kết thúc trước"
    assert page.buttons[Action.START].property("primary") is True

    # F2: recall; F5: absent (confirmed)
    press(qtbot, app, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: server_ticket(live_server, "A001").recalls == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: app.state.pending is None, timeout=WAIT)
    press(qtbot, app, Qt.Key.Key_F5)
    qtbot.keyClick(dialog_of(app, ConfirmDialog), Qt.Key.Key_Return)
    wait_active(qtbot, app, None)
    assert server_ticket(live_server, "A001").state == "absent"
    qtbot.waitUntil(lambda: page.tabs.tabText(2) == "Vắng mặt (1)", timeout=WAIT)

    # F1 then F6: hold with a note
    press(qtbot, app, Qt.Key.Key_F1)
    wait_active(qtbot, app, "A002")
    press(qtbot, app, Qt.Key.Key_F6)
    hold = dialog_of(app, HoldDialog)
    hold.note.insert("Bổ sung bản sao CCCD")  # QTest types ASCII only
    qtbot.keyClick(hold.note, Qt.Key.Key_Return)
    wait_active(qtbot, app, None)
    held = server_ticket(live_server, "A002")
    assert (held.state, held.note) == ("held", "Bổ sung bản sao CCCD")
    assert page.tabs.tabText(1) == "Tạm giữ (1)"

    # F1 then F7: transfer to another service, to the back of its queue
    press(qtbot, app, Qt.Key.Key_F1)
    wait_active(qtbot, app, "A003")
    press(qtbot, app, Qt.Key.Key_F7)
    transfer = dialog_of(app, TransferDialog)
    assert transfer.front.isChecked()  # the site's default (transfer_position = "front")
    row = next(i for i in range(transfer.targets.count())
               if transfer.targets.item(i).data(Qt.ItemDataRole.UserRole) == ("service", "DN"))
    transfer.targets.setCurrentRow(row)
    transfer.back.setChecked(True)
    qtbot.keyClick(transfer, Qt.Key.Key_Return)
    wait_active(qtbot, app, None)
    moved = server_ticket(live_server, "A003")
    assert (moved.state, moved.service, moved.transfers) == ("waiting", "DN", 1)

    # F10: resume the held ticket; F3: start; F4: finish with outcome and dossier code
    press(qtbot, app, Qt.Key.Key_F10)
    resume = dialog_of(app, ResumeHeldDialog)
    assert resume.value() == "A002"
    qtbot.keyClick(resume, Qt.Key.Key_Return)
    wait_active(qtbot, app, "A002", "called")
    press(qtbot, app, Qt.Key.Key_F3)
    wait_active(qtbot, app, "A002", "serving")
    assert page.state_badge.text() == "ĐANG PHỤC VỤ"
    assert "Phục vụ 0:0" in page.card_timer.text()
    press(qtbot, app, Qt.Key.Key_F4)
    finish = dialog_of(app, FinishDialog)
    qtbot.keyClick(finish, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # 2nd outcome: guided
    qtbot.keyClicks(finish.dossier, "H40.22-251125-0001")
    qtbot.keyClick(finish.dossier, Qt.Key.Key_Return)
    wait_active(qtbot, app, None)
    done = server_ticket(live_server, "A002")
    assert (done.state, done.outcome, done.dossier_code) == ("done", "guided", "H40.22-251125-0001")
    assert app.state.notice.vi == "Đã kết thúc số A002"

    # F8: a number that does not exist → the server's message, no popup
    press(qtbot, app, Qt.Key.Key_F8)
    call = dialog_of(app, CallNumberDialog)
    qtbot.keyClicks(call.number, "z999")
    assert call.hint.text() == "Không thấy số Z999 hôm nay"
    qtbot.keyClick(call.number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.state.notice is not None and app.state.notice.kind == "error", timeout=WAIT)
    assert page.status_line.text() == "Không tìm thấy số Z999 hôm nay"
    assert app.window.dialog is None

    # F8: call back the absent A001 inside its late window (from the dialog's quick pick)
    live_server.clock.advance(minutes=5)
    press(qtbot, app, Qt.Key.Key_F8)
    call = dialog_of(app, CallNumberDialog)
    qtbot.keyClicks(call.number, "a001")
    assert call.number.text() == "A001" and "còn" in call.hint.text()
    qtbot.keyClick(call.number, Qt.Key.Key_Return)
    wait_active(qtbot, app, "A001", "called")
    press(qtbot, app, Qt.Key.Key_F4)
    finish = dialog_of(app, FinishDialog)
    assert finish.value()[0] == "guided"  # the last outcome is preselected
    qtbot.keyClick(finish.dossier, Qt.Key.Key_Return)
    wait_active(qtbot, app, None)
    assert server_ticket(live_server, "A001").state == "done"

    # F9: pause with a reason from the list, then resume
    press(qtbot, app, Qt.Key.Key_F9)
    pause = dialog_of(app, PauseDialog)
    meeting = next(b for b in pause.group.buttons() if b.property("reason") == "Họp")
    qtbot.mouseClick(meeting, Qt.MouseButton.LeftButton)
    qtbot.keyClick(pause.other, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: server_counter(live_server, 1).status == "paused", timeout=WAIT)
    qtbot.waitUntil(lambda: app.state.is_paused and app.state.pending is None, timeout=WAIT)
    assert server_counter(live_server, 1).pause_reason == "Họp"
    assert page.buttons[Action.CALL_NEXT].toolTip() == "Quầy đang tạm dừng – bấm Tiếp tục phục vụ (F9)"
    assert page.buttons[Action.PAUSE].label.full_text == "Tiếp tục phục vụ"
    press(qtbot, app, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: server_counter(live_server, 1).status == "open", timeout=WAIT)

    # Today's figures for this counter
    qtbot.waitUntil(lambda: not app.state.is_paused, timeout=WAIT)
    assert [v.text() for v in page.figure_values][:2] == ["2", "0"]


def test_an_impossible_key_says_why_in_the_status_line(qtbot, live_server, make_app):
    app = make_app()
    login(qtbot, app)
    press(qtbot, app, Qt.Key.Key_F4)
    assert app.window.dialog is None
    assert app.window.main_page.status_line.text() == "Chưa gọi số nào"
    press(qtbot, app, Qt.Key.Key_F1)
    assert app.window.main_page.status_line.text() == "Không còn ai đang chờ"


def test_wrong_password_is_refused_clearly(qtbot, live_server, make_app):
    app = make_app()
    page = app.window.login_page
    qtbot.keyClicks(page.username, "lan")
    qtbot.keyClicks(page.password, "sai-mat-khau")
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=WAIT)
    assert page.error.text() == "Sai tên đăng nhập hoặc mật khẩu"
    assert page.password.text() == "" and app.state.phase is Phase.LOGIN
    assert page.username.text() == "lan"
    qtbot.mouseClick(page.lang_button, Qt.MouseButton.LeftButton)
    assert page.error.text() == "Wrong username or password"
    assert page.login_button.text() == "Log in  (Enter)"


def test_remembers_the_last_username_and_counter(qtbot, live_server, make_app):
    settings = MemorySettings()
    first = make_app(settings)
    login(qtbot, first, "mai", 6)
    first.shutdown()
    second = make_app(settings)
    assert second.window.login_page.username.text() == "mai"
    qtbot.keyClicks(second.window.login_page.password, "xephang")
    qtbot.keyClick(second.window.login_page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: second.state.phase is Phase.CHOOSE, timeout=WAIT)
    checked = second.window.counter_page.group.checkedButton()
    assert checked.property("number") == 6
    assert "Bạn đang mở quầy này" in checked.text()
    # Keyboard only: ↓ moves to the next counter, Enter opens it.
    qtbot.waitUntil(lambda: QApplication.focusWidget() is second.window.counter_page, timeout=WAIT)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: second.state.phase is Phase.READY, timeout=WAIT)
    assert second.state.mirror.counter_number == 5  # mai's counters: 4, 5, 6


def test_server_restart_in_the_middle(qtbot, live_server, make_app):
    issue(live_server, "TP", 2)
    app = make_app()
    login(qtbot, app)
    page = app.window.main_page
    press(qtbot, app, Qt.Key.Key_F1)
    wait_active(qtbot, app, "A001")
    press(qtbot, app, Qt.Key.Key_F3)
    wait_active(qtbot, app, "A001", "serving")

    live_server.stop()
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=WAIT)
    assert page.banner_text.text().startswith("Mất kết nối – đang kết nối lại…")
    assert not any(button.isEnabled() for button in page.buttons.values())
    assert page.buttons[Action.FINISH].toolTip() == "Mất kết nối – đang kết nối lại…"
    assert page.ticket_number.text() == "A001"  # still shown while offline

    live_server.start()
    qtbot.waitUntil(lambda: app.state.online and not page.banner.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: page.buttons[Action.FINISH].isEnabled(), timeout=WAIT)
    assert app.state.phase is Phase.READY
    assert page.ticket_number.text() == "A001" and page.state_badge.text() == "ĐANG PHỤC VỤ"
    press(qtbot, app, Qt.Key.Key_F4)
    qtbot.keyClick(dialog_of(app, FinishDialog).dossier, Qt.Key.Key_Return)
    wait_active(qtbot, app, None)
    assert server_ticket(live_server, "A001").state == "done"


def test_restarting_the_app_loses_nothing(qtbot, live_server, make_app):
    issue(live_server, "TP", 1)
    first = make_app()
    login(qtbot, first, "ha", 2)
    press(qtbot, first, Qt.Key.Key_F1)
    wait_active(qtbot, first, "A001")
    first.shutdown()
    first.window.close()
    second = make_app()
    login(qtbot, second, "ha", 2)
    assert second.window.main_page.ticket_number.text() == "A001"
    assert second.state.mirror.active_ticket.state == "called"


def test_two_counters_never_get_the_same_ticket(qtbot, live_server, make_app):
    issue(live_server, "TP", 2)
    lan, ha = make_app(), make_app()
    login(qtbot, lan, "lan", 1)
    login(qtbot, ha, "ha", 2)
    for app in (lan, ha):  # back to back, before either hears of the other's call
        qtbot.mouseClick(app.window.main_page.buttons[Action.CALL_NEXT], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(a.state.mirror.active_ticket and a.state.pending is None
                                for a in (lan, ha)), timeout=WAIT)
    numbers = {a.state.mirror.active_ticket.number for a in (lan, ha)}
    assert numbers == {"A001", "A002"}
    # Each window shows the other's ticket as not its own.
    for app in (lan, ha):
        assert app.window.main_page.ticket_number.text() == app.state.mirror.active_ticket.number

    for app in (lan, ha):
        app.state.commands.finish("guided")
    qtbot.waitUntil(lambda: all(a.state.mirror.active_ticket is None for a in (lan, ha)), timeout=WAIT)
    issue(live_server, "TP", 1)
    qtbot.waitUntil(lambda: all(a.state.commands.availability(Action.CALL_NEXT).enabled for a in (lan, ha)),
                    timeout=WAIT)
    for app in (lan, ha):
        qtbot.mouseClick(app.window.main_page.buttons[Action.CALL_NEXT], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(a.state.pending is None for a in (lan, ha)), timeout=WAIT)
    winners = [a for a in (lan, ha) if a.state.mirror.active_ticket is not None]
    assert [a.state.mirror.active_ticket.number for a in winners] == ["A003"]
    loser = lan if winners[0] is ha else ha
    assert loser.state.notice.vi == "Không còn ai đang chờ"


def test_a_clerk_whose_counter_is_taken_over_is_told_and_chooses_again(qtbot, live_server, make_app):
    """Issue 11: ha opens counter 1 on her PC while lan has it open on hers. lan's window is
    told by the server, says who took the counter (in English too) and offers the choice;
    lan's connection no longer works at counter 1, and lan works on at counter 2."""
    issue(live_server, "TP", 2)
    lan, ha = make_app(), make_app()
    login(qtbot, lan, "lan", 1)
    told: list[p.CounterTakenOver] = []
    lan.link.message.connect(lambda m: told.append(m) if isinstance(m, p.CounterTakenOver) else None)
    login(qtbot, ha, "ha", 1)
    qtbot.waitUntil(lambda: bool(told) and lan.state.phase is Phase.CHOOSE, timeout=WAIT)
    choose = lan.window.counter_page
    assert lan.window.pages.currentWidget() is choose
    assert choose.error.isVisible() and choose.error.text() == "Quầy 1 đã được Đỗ Thu Hà mở ở máy khác"
    labels = {button.property("number"): button.text() for button in choose.group.buttons()}
    assert labels[1] == "Quầy 1 · Tư pháp 1\nĐang được ha sử dụng"
    sessions = live_server.call(
        lambda s: [x.counter for x in s.connections.sessions.values() if x.username == "lan"])
    assert sessions == [None]  # the server takes no more counter commands from lan's PC
    lan.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is lan.window, timeout=WAIT)
    qtbot.keyClick(lan.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert choose.error.text() == "Counter 1 was opened by Đỗ Thu Hà on another computer"
    labels = {button.property("number"): button.text() for button in choose.group.buttons()}
    assert labels[1] == "Counter 1 · Justice desk 1\nIn use by ha"

    press(qtbot, ha, Qt.Key.Key_F1)
    wait_active(qtbot, ha, "A001")
    called = server_ticket(live_server, "A001")
    assert (called.counter, called.clerk) == (1, "ha")
    button = next(b for b in choose.group.buttons() if b.property("number") == 2)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(choose, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: lan.state.phase is Phase.READY, timeout=WAIT)
    press(qtbot, lan, Qt.Key.Key_F1)
    wait_active(qtbot, lan, "A002")
    called = server_ticket(live_server, "A002")
    assert (called.counter, called.clerk) == (2, "lan")


def test_a_counter_taken_over_while_offline_is_not_taken_back_on_reconnect(qtbot, live_server, make_app):
    """lan's PC drops off; ha opens counter 1 meanwhile (nobody at it yet). When lan's PC comes
    back it must not reopen counter 1 from under ha: it says who has it and offers the choice."""
    lan, ha = make_app(), make_app()
    login(qtbot, lan, "lan", 1)
    lan.link.stop()  # the PC's network cable
    login(qtbot, ha, "ha", 1)
    lan.link.start(lambda: lan.state.credentials)  # the cable is back: log in again by itself
    qtbot.waitUntil(lambda: lan.state.phase is Phase.CHOOSE, timeout=WAIT)
    assert lan.window.counter_page.error.text() == "Quầy 1 đang được ha sử dụng"
    holder = live_server.call(lambda s: s.states["tinh"].counters[1].clerk)
    assert holder == "ha"
    assert ha.state.phase is Phase.READY


def test_a_busy_login_is_retried_by_itself(qtbot, live_server, make_app):
    """The server answers login_busy while many password checks wait (server/login_guard.py):
    the app tries again by itself instead of sending the clerk back to the login form."""
    from common.errors import Rejected

    guard = live_server.server.login_guard
    real_begin, refused = guard.begin, []

    def busy_once(username: str, address: str):
        if not refused:
            refused.append(username)
            raise Rejected("login_busy", seconds=2)
        return real_begin(username, address)

    guard.begin = busy_once
    app = make_app()
    login(qtbot, app, "lan", 1)
    assert refused == ["lan"]


def test_rating_window_records_exactly_one_rating(qtbot, live_server, make_app):
    issue(live_server, "TP", 1)
    app = make_app()
    login(qtbot, app)
    rating = app.open_rating()
    qtbot.addWidget(rating)
    assert app.prompt.phase is RatingPhase.NEUTRAL
    assert rating.headline.text() == "Xin kính chào Ông/Bà"
    sent = []
    original = app.prompt.send
    app.prompt.send = lambda *args: (sent.append(args[:2]), original(*args))
    press(qtbot, app, Qt.Key.Key_F1)
    wait_active(qtbot, app, "A001")
    press(qtbot, app, Qt.Key.Key_F4)
    qtbot.keyClick(dialog_of(app, FinishDialog).dossier, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.prompt.phase is RatingPhase.ASKING, timeout=WAIT)
    assert rating.number.text() == "Số thứ tự A001"
    assert rating.question.text() == "Ông/Bà có hài lòng với việc giải quyết thủ tục hành chính không?"
    assert [b.value for b in rating.buttons] == [4, 3, 2, 1]
    qtbot.mouseClick(rating.buttons[0], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(rating.buttons[3], Qt.MouseButton.LeftButton)  # a second tap
    qtbot.waitUntil(lambda: app.prompt.phase is RatingPhase.THANKS, timeout=WAIT)
    assert rating.headline.text().startswith("Cảm ơn Ông/Bà đã đánh giá!")
    assert server_ticket(live_server, "A001").rating == 4
    assert [value for _, value in sent] == [4]
    assert not any(b.isVisible() and b.isEnabled() for b in rating.buttons)


def test_logout_closes_the_counter(qtbot, live_server, make_app):
    app = make_app()
    login(qtbot, app)
    assert server_counter(live_server, 1).status == "open"
    app.window.main_page.menu_actions["logout"].trigger()
    qtbot.keyClick(dialog_of(app, ConfirmDialog), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.state.phase is Phase.LOGIN, timeout=WAIT)
    assert app.window.pages.currentWidget() is app.window.login_page
    qtbot.waitUntil(lambda: server_counter(live_server, 1).status == "closed", timeout=WAIT)


def test_always_on_top_and_language_toggle(qtbot, live_server, make_app):
    settings = MemorySettings()
    app = make_app(settings)
    login(qtbot, app)
    page = app.window.main_page
    qtbot.keyClick(app.window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert app.window.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert settings.value("always_on_top") == "1"
    qtbot.keyClick(app.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert page.buttons[Action.CALL_NEXT].label.full_text == "Call next"
    assert page.counter_title.full_text == "Counter 1 · Justice desk 1"


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["--password-stdin"], "--password-stdin needs --user"),
    (["--screen", "idle"], "--screen only applies with --screenshot"),
    (["--screenshot", "x.jpg"], "must end in .png"),
    (["--screenshot", "/nonexistent/x.png"], "does not exist"),
    (["--screenshot", "x.png", "--screen", "serving"], "--password-stdin"),
    (["--counter", "0"], "must be 1 or more"),
    (["--lang", "fr"], "invalid choice"),
    (["--server", "http://x"], "is not a websocket address"),
])
def test_cli_rejects_bad_arguments(argv, message, capsys):
    from counter.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_screenshot_of_the_serving_screen(qtbot, live_server, tmp_path, monkeypatch):
    from counter.cli import main

    issue(live_server, "TP", 1)
    target = tmp_path / "serving.png"
    monkeypatch.setattr("sys.stdin", io.StringIO("xephang\n"))
    code = main(["--server", live_server.url, "--user", "lan", "--password-stdin", "--counter", "1",
                 "--screenshot", str(target), "--screen", "serving"])
    assert code == 0 and target.stat().st_size > 10_000
    ticket = server_ticket(live_server, "A001")
    assert (ticket.state, ticket.counter) == ("serving", 1)


def test_thousands_of_qt_calls_do_not_abort_the_app(qtbot, live_server, make_app):
    """A PySide6 build that loses a reference to None per void call and to True per emit
    (6.12 on CPython 3.11) would abort the app; the pinned release must not."""
    import sys

    from PySide6.QtCore import QObject, Signal

    class Ticker(QObject):
        tick = Signal(bool)

    app = make_app()
    button = app.window.main_page.buttons[Action.CALL_NEXT]
    ticker = Ticker()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(50_000):
        button.setEnabled(True)
        ticker.tick.emit(True)
    assert sys.getrefcount(None) - none_before > -1000
    assert sys.getrefcount(True) - true_before > -1000


def test_an_idle_counter_flashes_when_someone_starts_waiting(qtbot, live_server, make_app, monkeypatch):
    alerts = []
    monkeypatch.setattr("counter.view.QApplication.alert", lambda widget, ms=0: alerts.append(widget))
    app = make_app()
    login(qtbot, app)
    assert alerts == []
    issue(live_server, "TP", 1)
    qtbot.waitUntil(lambda: alerts == [app.window], timeout=WAIT)
    issue(live_server, "TP", 1)  # the queue was not empty: no second flash
    qtbot.waitUntil(lambda: len(app.state.mirror.waiting_for_me()) == 2, timeout=WAIT)
    assert alerts == [app.window]
