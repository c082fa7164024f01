"""Counters' English names on the screens (offscreen Qt): the hall board, the counter
display and the counter app show them once switched to English, and the Vietnamese
ones again when switched back.

What the displays paint is recorded by wrapping their ``draw_text``: the names are
painted text, not widgets."""

from __future__ import annotations

import msgspec
import pytest
from PySide6.QtCore import Qt

from common import protocol as p
from common.i18n import Translator
from common.qt_theme import install_fonts
from counter.actions import Phase
from display import view_board_panes, view_counter, view_paint
from display.board_state import BoardState
from display.state import DisplayState
from display.view_board import BoardView
from display.view_counter import CounterDisplay
from tests import test_board_state as msg
from tests.helpers import example_config
from tests.test_counter_gui import login, make_app  # noqa: F401  (a fixture)

pytestmark = pytest.mark.gui

ENGLISH = {1: "Justice desk 1", 2: "Justice desk 2", 3: "Finance desk", 9: "Police desk 1",
           10: "Police desk 2"}


@pytest.fixture
def painted(monkeypatch) -> list[str]:
    """Every text the board's panes and the counter display draw."""
    texts: list[str] = []
    for module in (view_board_panes, view_counter):
        original = module.draw_text

        def record(painter, rect, text, *args, _original=original, **kwargs):
            texts.append(text)
            return _original(painter, rect, text, *args, **kwargs)

        monkeypatch.setattr(module, "draw_text", record)
    return texts


def fed_display() -> DisplayState:
    """A board with every counter named in both languages and a fresh call to counter 3."""
    display = DisplayState(BoardState())
    counters = [msgspec.structs.replace(msg.counter(n, ticket="B001" if n == 3 else None), name_en=ENGLISH[n])
                for n in msg.NAMES]
    display.on_message(msg.snapshot(counters=counters, tickets=[msg.ticket("B001", at=3)]))
    call = msgspec.structs.replace(msg.call(1, "B001", 3), counter_name_en="Finance desk")
    display.on_message(msg.update(calls=[call]))
    return display


def repaint(qtbot, view, painted: list[str]) -> list[str]:
    painted.clear()
    view.grab()  # paints the view and its panes now
    assert painted, "nothing was painted"
    return list(painted)


def test_the_hall_board_shows_english_counter_names_after_switching(qtbot, painted):
    display = fed_display()
    view = BoardView(display, Translator("display", "vi"))
    qtbot.addWidget(view)
    view.resize(1920, 1080)
    view.show()
    vietnamese = repaint(qtbot, view, painted)
    assert {"Tư pháp 1", "Tài chính", "Công an 2"} <= set(vietnamese)
    assert not set(ENGLISH.values()) & set(vietnamese)
    qtbot.keyClick(view, Qt.Key.Key_L)
    english = repaint(qtbot, view, painted)
    # Each card's name, and the spotlight's line under "➜ COUNTER 3".
    assert set(ENGLISH.values()) <= set(english) and english.count("Finance desk") == 2
    assert not set(msg.NAMES.values()) & set(english)
    qtbot.keyClick(view, Qt.Key.Key_L)
    assert set(repaint(qtbot, view, painted)) >= set(msg.NAMES.values())
    display.close()


def test_the_counter_display_shows_its_english_name_after_switching(qtbot, painted):
    display = fed_display()
    view = CounterDisplay(display, Translator("display", "vi"), 3)
    qtbot.addWidget(view)
    view.show()
    vietnamese = repaint(qtbot, view, painted)
    assert "Tài chính" in vietnamese and "Finance desk" not in vietnamese
    qtbot.keyClick(view, Qt.Key.Key_L)
    english = repaint(qtbot, view, painted)
    assert "Finance desk" in english and "Tài chính" not in english
    display.close()


def test_an_older_server_without_english_names_keeps_the_vietnamese_ones(qtbot, painted):
    display = DisplayState(BoardState())
    display.on_message(msg.snapshot())  # CounterViews without name_en
    view = BoardView(display, Translator("display", "en"))
    qtbot.addWidget(view)
    view.resize(1920, 1080)
    view.show()
    assert set(msg.NAMES.values()) <= set(repaint(qtbot, view, painted))
    display.close()


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
@pytest.mark.parametrize("site_code", ["tinh", "giavien"])
def test_the_example_english_names_fit_their_cards_unshortened(qtbot, qapp, monkeypatch, painted, site_code,
                                                               size):
    """The English names are often longer than the Vietnamese: none may end in "…" on the
    example centre's boards (14 counters and 14 services: the smallest cards)."""
    install_fonts(qapp)  # the board's real font, as the display app installs it
    shortened: list[str] = []

    class Metrics(view_paint.QFontMetricsF):
        def elidedText(self, text, *args):
            shown = super().elidedText(text, *args)
            if shown != text:
                shortened.append(text)
            return shown

    monkeypatch.setattr(view_paint, "QFontMetricsF", Metrics)
    site = example_config().site(site_code)
    counters = [p.CounterView(number=c.number, name=c.name, name_en=c.english_name, services=list(c.services),
                              status="closed" if c.number % 2 else "open") for c in site.counters]
    services = [p.ServiceView(code=s.code, name_vi=s.name_vi, name_en=s.name_en, agency=s.agency, counters=[],
                              issuing=True) for s in site.services]
    display = DisplayState(BoardState())
    display.on_message(msg.snapshot(counters=counters, services=services))
    view = BoardView(display, Translator("display", "en"))
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    names = {c.english_name for c in site.counters}
    assert names <= set(repaint(qtbot, view, painted))
    assert not names & set(shortened), f"shortened on the board: {sorted(names & set(shortened))}"
    display.close()


def test_the_counter_app_shows_its_english_name_after_switching(qtbot, live_server, make_app):  # noqa: F811
    app = make_app()
    login(qtbot, app, "hung", 3)
    title = app.window.main_page.counter_title
    assert title.full_text == "Quầy 3 · Tài chính"
    qtbot.keyClick(app.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert title.full_text == "Counter 3 · Finance desk"
    target = app.state.commands.transfer_target_name
    assert target(None, 12) == "Counter 12 · Tax desk"  # transfer dialog, notices
    qtbot.keyClick(app.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert title.full_text == "Quầy 3 · Tài chính"
    assert target(None, 12) == "Quầy 12 · Thuế"


def test_the_counter_choice_after_login_lists_english_names_after_switching(qtbot, live_server, make_app):  # noqa: F811
    app = make_app()
    page = app.window.login_page
    page.username.clear()
    qtbot.keyClicks(page.username, "hung")
    qtbot.keyClicks(page.password, "xephang")
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.state.phase is Phase.CHOOSE, timeout=10_000)

    def label(number: int) -> str:
        buttons = app.window.counter_page.group.buttons()
        return next(b.text() for b in buttons if b.property("number") == number)

    assert label(3).startswith("Quầy 3 · Tài chính")
    qtbot.keyClick(app.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: label(3).startswith("Counter 3 · Finance desk"), timeout=5_000)
    app.window.counter_page.group.buttons()[1].click()  # the clerk's pick survives a switch back
    picked = app.window.counter_page.group.checkedButton().property("number")
    qtbot.keyClick(app.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: label(3).startswith("Quầy 3 · Tài chính"), timeout=5_000)
    assert app.window.counter_page.group.checkedButton().property("number") == picked
