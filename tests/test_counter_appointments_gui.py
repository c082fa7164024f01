"""The counter window with appointments: the queue shows the slot time, the card of the
called appointment shows the slot and the booking's name with the CCCD masked; walk-ins
wait behind an appointment whose slot has begun (real server, real window, offscreen)."""

from __future__ import annotations

import io
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from common.config import Config
from counter import present
from server import desk_cli
from server.core import commands as c
from tests.helpers import example_config
from tests.test_counter_gui import WAIT, login, make_app, press, wait_active  # noqa: F401 (fixture)
from tests.test_desk_cli import bookable

pytestmark = pytest.mark.gui


@pytest.fixture
def config() -> Config:
    return bookable(example_config())


def walk_in(live_server, key: str) -> str:
    command = c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1", service="TP", priority=None,
                            idempotency_key=key, token=f"token-{key}")
    live_server.call(lambda s: s.submit("tinh", command))
    return live_server.call(lambda s: max(s.states["tinh"].tickets.values(), key=lambda t: t.order).number)


def desk(monkeypatch, capsys, live_server, *argv: str) -> list[str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("xephang\n"))
    code = desk_cli.main([*argv, "--user", "giamdoc", "--password-stdin", "--server", live_server.url])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out.splitlines()


def test_an_appointment_is_shown_with_its_slot_and_citizen(qtbot, live_server, clock, make_app,  # noqa: F811
                                                           monkeypatch, capsys):
    first, second = walk_in(live_server, "walk-1"), walk_in(live_server, "walk-2")
    code = desk(monkeypatch, capsys, live_server, "book", "TP", "--day", "2026-11-25", "--time", "08:30",
                "--name", "Nguyễn Văn An", "--phone", "0912345678", "--cccd", "001090012345")[0]
    appointment = desk(monkeypatch, capsys, live_server, "checkin", code)[0]  # 08:00: the window is open

    app = make_app()
    login(qtbot, app)
    page = app.window.main_page
    qtbot.waitUntil(lambda: page.tabs.tabText(0) == "Đang chờ (3)", timeout=WAIT)
    rows = {row.number: row for row in present.next_rows(app.state, app.state.server_now())}
    assert rows[appointment].text.startswith("hẹn 08:30")
    assert "hẹn" not in rows[first].text and "Nguyễn" not in rows[appointment].text  # no name in the list
    # Each row has room for its text below the baseline ("hẹn"'s dot, "lấy"'s tail): the
    # item's height is its widget's and the item's padding and border (it was cut before).
    listed = page.next_list
    for index in range(listed.count()):
        item = listed.item(index)
        line = listed.itemWidget(item)
        assert line.height() >= line.sizeHint().height(), (index, line.height(), line.sizeHint())
        for label in line.findChildren(QLabel):
            assert label.height() >= label.fontMetrics().height(), (index, label.text())

    clock.set_local(2026, 11, 25, 8, 30)  # the slot begins: the appointment goes before the walk-ins
    press(qtbot, app, Qt.Key.Key_F1)
    wait_active(qtbot, app, appointment, "called")
    assert page.ticket_number.text() == appointment
    qtbot.waitUntil(lambda: "Lịch hẹn 08:30" in page.card_lines.text(), timeout=WAIT)
    assert "Lịch hẹn 08:30 · Nguyễn Văn An · ••••••••2345" in page.card_lines.text()
    assert page.card_lines.isVisible()

    waiting = {row.number for row in present.next_rows(app.state, app.state.server_now())}
    assert waiting == {first, second}  # the walk-ins wait behind it
