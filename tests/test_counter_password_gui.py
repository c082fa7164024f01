"""The counter app (offscreen) against a real server when a manager resets a clerk's password
or disables the account (issue 13): the clerk chooses a new password before anything else,
and a disabled clerk is sent back to the login form once, with the reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from PySide6.QtCore import Qt

from counter.actions import Phase
from counter.app import CounterApp
from counter.settings import MemorySettings
from tests.helpers import PASSWORD, RawClient

pytestmark = pytest.mark.gui

WAIT = 10_000  # ms
USER_FIELDS = ("username", "full_name", "role", "sites", "counters", "disabled")
TEMPORARY = "tam-thoi-2026"


def change_user(live_server: Any, username: str, **changes: Any) -> dict[str, Any]:
    """What the users page sends: the manager's websocket, one ``admin_change`` ``user``."""

    async def send(_server: Any) -> dict[str, Any]:
        boss = await RawClient.open(live_server.url)
        try:
            await boss.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD,
                                "web_session": True}, expect="welcome")
            settings = await boss.request({"type": "read_settings"}, expect="settings")
            user = next(u for u in settings["config"]["users"] if u["username"] == username)
            change = {"kind": "user", **{k: user[k] for k in USER_FIELDS}, **changes}
            base = settings["fingerprints"][f"user:{username}"]
            return await boss.request({"type": "admin_change", "base": base, "change": change})
        finally:
            await boss.close()

    return live_server.call(send)


def logs_in(live_server: Any, username: str, password: str) -> dict[str, Any]:
    async def log_in(_server: Any) -> dict[str, Any]:
        client = await RawClient.open(live_server.url)
        try:
            login = {"type": "login", "v": 1, "username": username, "password": password}
            reply = await client.request(login, expect="welcome")
        finally:
            await client.close()
        return reply

    return live_server.call(log_in)


@pytest.fixture
def counter_app(qtbot, live_server):
    app = CounterApp(live_server.url, settings=MemorySettings())
    qtbot.addWidget(app.window)
    app.show()
    yield app
    app.shutdown()


def type_login(qtbot, app: CounterApp, user: str, password: str) -> None:
    page = app.window.login_page
    page.username.clear()
    page.password.clear()
    qtbot.keyClicks(page.username, user)
    qtbot.keyClicks(page.password, password)
    qtbot.keyClick(page.password, Qt.Key.Key_Return)


def type_new_password(qtbot, app: CounterApp, new: str, repeated: str) -> None:
    page = app.window.password_page
    page.new_password.clear()
    page.repeated.clear()
    qtbot.keyClicks(page.new_password, new)
    qtbot.keyClicks(page.repeated, repeated)
    qtbot.keyClick(page.repeated, Qt.Key.Key_Return)


def test_a_reset_password_is_replaced_before_the_clerk_works(qtbot, live_server, counter_app):
    app = counter_app
    change_user(live_server, "lan", password=TEMPORARY)
    type_login(qtbot, app, "lan", TEMPORARY)
    qtbot.waitUntil(lambda: app.state.phase is Phase.CHANGE_PASSWORD, timeout=WAIT)
    page = app.window.password_page
    assert app.window.pages.currentWidget() is page
    assert page.title.text() == "Chọn mật khẩu mới"
    assert "Nguyễn Thị Lan" in page.explain.text() and "ít nhất 8 ký tự" in page.explain.text()

    type_new_password(qtbot, app, "ngan", "ngan")
    assert page.error.text() == "Mật khẩu mới cần ít nhất 8 ký tự"
    type_new_password(qtbot, app, "mat-khau-cua-lan", "mat-khau-cua-lam")
    assert page.error.text() == "Hai lần nhập mật khẩu mới không giống nhau"
    type_new_password(qtbot, app, TEMPORARY, TEMPORARY)
    assert page.error.text() == "Mật khẩu mới phải khác mật khẩu vừa được cấp"
    assert app.state.phase is Phase.CHANGE_PASSWORD  # nothing was sent yet

    type_new_password(qtbot, app, "mat-khau-cua-lan", "mat-khau-cua-lan")
    qtbot.waitUntil(lambda: app.state.phase is Phase.CHOOSE, timeout=WAIT)
    assert [c.number for c in app.state.choices] == [1, 2]
    assert app.state.credentials is not None and app.state.credentials.password == "mat-khau-cua-lan"
    welcome = logs_in(live_server, "lan", "mat-khau-cua-lan")
    assert welcome["must_change_password"] is False


def test_a_counter_named_on_the_command_line_opens_after_the_new_password(qtbot, live_server):
    change_user(live_server, "lan", password=TEMPORARY)
    app = CounterApp(live_server.url, settings=MemorySettings(), counter=2)
    qtbot.addWidget(app.window)
    app.show()
    try:
        type_login(qtbot, app, "lan", TEMPORARY)
        qtbot.waitUntil(lambda: app.state.phase is Phase.CHANGE_PASSWORD, timeout=WAIT)
        type_new_password(qtbot, app, "mat-khau-cua-lan", "mat-khau-cua-lan")
        qtbot.waitUntil(lambda: app.state.phase is Phase.READY, timeout=WAIT)
        assert app.state.mirror.counter_number == 2
    finally:
        app.shutdown()


def test_a_disabled_clerk_goes_back_to_the_login_form_once(qtbot, live_server, counter_app, caplog):
    app = counter_app
    type_login(qtbot, app, "lan", PASSWORD)
    qtbot.waitUntil(lambda: app.state.phase is Phase.CHOOSE, timeout=WAIT)
    connection = app.link.connection
    assert connection is not None

    def refused_logins() -> int:
        return sum("login of disabled user lan" in r.getMessage() for r in caplog.records)

    caplog.set_level(logging.INFO, logger="xephang.audit")
    change_user(live_server, "lan", disabled=True)  # the server closes the session: 1008 "account disabled"
    qtbot.waitUntil(lambda: app.state.phase is Phase.LOGIN, timeout=WAIT)
    page = app.window.login_page
    assert page.error.text() == "Tài khoản này đã bị khóa. Liên hệ quản trị viên của trung tâm"
    assert app.state.login_error is not None and app.state.login_error.code == "account_disabled"
    assert app.link.connection is None
    connection.stop(timeout=5.0)  # its thread has ended: every try it made has been made
    assert refused_logins() == 0  # closed for good: it did not log in again to learn why

    type_login(qtbot, app, "lan", PASSWORD)  # the clerk tries anyway: the server says why, once
    qtbot.waitUntil(lambda: app.state.phase is Phase.LOGIN and app.state.login_error is not None,
                    timeout=WAIT)
    assert app.state.login_error.code == "account_disabled" and app.link.connection is None
    assert refused_logins() == 1
