"""The hall board and counter display following a real server (offscreen Qt).

The announcer here is the real queue with a fake synthesizer and a recording player,
so each test checks exactly what would have been played, in order.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import Future
from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from common.i18n import Translator
from display import cli, screenshot
from display.announcement import Announcement, AnnouncementSettings
from display.announcer import Announcer, RecordingPlayer
from display.app import DisplayApp
from display.board_state import BoardState, Link, Phase, call_key
from display.state import DisplayState
from display.view_board import BoardView, date_line
from display.view_counter import CounterDisplay
from display.view_paint import Colors
from server.core import commands as c
from tests import test_board_state as msg
from tests.helpers import DISPLAY_TOKEN

pytestmark = pytest.mark.gui

CHIME = Path("/fake/chime.wav")
EXAMPLE = AnnouncementSettings(
    template="Xin mời công dân có số thứ tự {number} đến quầy số {counter}", rate=140)
CLERKS = {1: "lan", 2: "ha", 3: "hung", 4: "mai", 5: "cuong", 6: "nga", 7: "binh", 8: "thao", 9: "tuan",
          10: "linh", 11: "dung", 12: "son", 13: "giang", 14: "khanh"}  # one clerk a counter
WAIT_MS = 10_000


class FakeSynth:
    """Every sentence "renders" at once to a fake path named after it."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def submit(self, text: str) -> Future[Path | None]:
        self.requests.append(text)
        future: Future[Path | None] = Future()
        future.set_result(Path("/fake/speech") / f"{text}.wav")
        return future

    def synthesize(self, text: str) -> Path | None:
        return self.submit(text).result()


def heard(player: RecordingPlayer) -> list[str]:
    return ["chime" if path == CHIME else path.stem for path in player.played]


def expected(*calls: tuple[str, int], repeat: int = 2) -> list[str]:
    out: list[str] = []
    for number, counter in calls:
        out += ["chime"] + [Announcement.build("", number, counter, False, EXAMPLE).text] * repeat
    return out


class Board:
    """A board (or counter display) wired like the real app, following ``live_server``."""

    def __init__(self, qtbot, url: str, *, counter: int | None = None, player: RecordingPlayer | None = None,
                 announce: bool = True, token: str = DISPLAY_TOKEN) -> None:
        self.state = BoardState(counters=[counter] if counter else None)
        self.player = player or RecordingPlayer()
        translator = Translator("display", "vi")

        def announcer(display: DisplayState) -> Announcer:
            return Announcer(FakeSynth(), self.player, chime=CHIME, on_started=display.announcement_started,
                             on_finished=display.announcement_finished)

        def view(display: DisplayState):
            if counter is None:
                return BoardView(display, translator, fallback_title="Trung tâm")
            return CounterDisplay(display, translator, counter)

        self.app = DisplayApp(url=url, token=token, board=self.state, view=view,
                              announcer=announcer if announce else None)
        self.display, self.announcer, self.view = self.app.display, self.app.announcer, self.app.window
        qtbot.addWidget(self.view)
        self.view.resize(1920, 1080) if counter is None else self.view.resize(1280, 720)
        self.view.show()
        self.app.start()
        qtbot.waitUntil(lambda: self.state.ready, timeout=WAIT_MS)

    def tile(self, number: int):
        return self.state.counter_tile(number, self.display.now())

    def announced_numbers(self) -> list[str]:
        by_key = {call_key(call): call.number for call in self.state.calls}
        return [by_key.get(key, "?") for key in self.display.announced]

    def close(self) -> None:
        self.app.stop()


@pytest.fixture
def boards(qtbot):
    made: list[Board] = []

    def make(url: str, **kwargs) -> Board:
        board = Board(qtbot, url, **kwargs)
        made.append(board)
        return board

    yield make
    for board in made:
        board.close()


def run(live_server, *commands: c.Command, together: bool = False) -> None:
    """Apply commands on the server, one after another (or all at once)."""

    async def apply(server):
        if together:
            await asyncio.gather(*(server.submit("tinh", command) for command in commands))
        else:
            for command in commands:
                await server.submit("tinh", command)

    live_server.call(apply)


def issue(service: str) -> c.IssueTicket:
    return c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1", service=service,
                         token=secrets.token_urlsafe(16))


def open_counter(number: int) -> c.OpenCounter:
    return c.OpenCounter(actor=CLERKS[number], counter=number)


def call_next(number: int) -> c.CallNext:
    return c.CallNext(actor=CLERKS[number], counter=number)


def finish(number: int) -> c.Finish:
    return c.Finish(actor=CLERKS[number], counter=number, outcome="received")


def pixel(view, x: float, y: float) -> QColor:
    return view.grab().toImage().pixelColor(int(x), int(y))


# -- the board follows the server --------------------------------------------------------------


def test_board_follows_calls_recalls_pauses_and_closing(live_server, boards, qtbot):
    run(live_server, open_counter(1), open_counter(3), issue("TP"), issue("TP"), issue("DN"))
    board = boards(live_server.url)
    assert board.tile(1).phase is Phase.IDLE and board.tile(2).phase is Phase.CLOSED
    assert board.display.announced == []  # the first snapshot is silent

    run(live_server, call_next(1))
    qtbot.waitUntil(lambda: board.tile(1).ticket == "A001", timeout=WAIT_MS)
    assert board.tile(1).phase is Phase.CALLING
    assert board.state.spotlight_at(board.display.now()).number == "A001"
    assert board.tile(1).spotlit

    run(live_server, c.Recall(actor="lan", counter=1))
    qtbot.waitUntil(lambda: len(board.display.announced) == 2, timeout=WAIT_MS)
    run(live_server, c.StartService(actor="lan", counter=1))
    qtbot.waitUntil(lambda: board.tile(1).phase is Phase.SERVING, timeout=WAIT_MS)

    run(live_server, call_next(3))
    qtbot.waitUntil(lambda: board.tile(3).ticket == "B001", timeout=WAIT_MS)
    run(live_server, finish(3), c.PauseCounter(actor="hung", counter=3, reason="Họp giao ban"))
    qtbot.waitUntil(lambda: board.tile(3).phase is Phase.PAUSED, timeout=WAIT_MS)
    assert board.tile(3).pause_reason == "Họp giao ban"
    run(live_server, finish(1), c.CloseCounter(actor="lan", counter=1))
    qtbot.waitUntil(lambda: board.tile(1).phase is Phase.CLOSED, timeout=WAIT_MS)

    assert board.announced_numbers() == ["A001", "A001", "B001"]
    assert heard(board.player) == expected(("A001", 1), ("A001", 1), ("B001", 3))
    assert board.state.recent_calls()[0].number == "B001"
    assert board.state.total_waiting == 1  # A002 still waiting
    image = board.view.grab()
    assert image.width() == 1920 and image.height() == 1080


def test_ten_calls_in_one_burst_are_each_announced_once_in_order(live_server, boards, qtbot):
    services = {1: "TP", 2: "TP", 3: "DN", 4: "XD", 5: "DD", 6: "DD", 7: "YT", 8: "LD", 9: "GPLX", 10: "GPLX"}
    run(live_server, *(open_counter(n) for n in services), *(issue(s) for s in services.values()))
    board = boards(live_server.url)
    run(live_server, *(call_next(n) for n in services), together=True)
    qtbot.waitUntil(lambda: len(board.display.announced) == 10, timeout=WAIT_MS)
    calls = sorted(board.state.calls, key=lambda call: call.seq)
    assert [call_key(call) for call in calls] == board.display.announced  # seq order
    assert len(set(board.announced_numbers())) == 10
    assert heard(board.player) == expected(*((call.number, call.counter) for call in calls))


def test_server_restart_shows_reconnecting_keeps_the_board_and_resyncs(live_server, boards, qtbot):
    run(live_server, open_counter(1), open_counter(3), issue("TP"), issue("TP"), issue("DN"), call_next(1))
    board = boards(live_server.url)
    run(live_server, finish(1), call_next(1))
    qtbot.waitUntil(lambda: board.tile(1).ticket == "A002", timeout=WAIT_MS)
    assert board.announced_numbers() == ["A002"]

    live_server.stop()
    qtbot.waitUntil(lambda: board.state.stale, timeout=WAIT_MS)
    assert board.state.link is Link.OFFLINE
    assert board.tile(1).ticket == "A002"  # the last known board stays visible...
    banner = board.view.overlay.banner_rect().translated(board.view.overlay.pos())
    assert pixel(board.view, banner.left() + 12, banner.center().y()) == Colors.ALERT  # ...under a red banner

    live_server.start()
    qtbot.waitUntil(lambda: not board.state.stale, timeout=WAIT_MS)
    assert board.state.snapshots == 2
    assert board.announced_numbers() == ["A002"]  # the resync snapshot repeats nothing
    run(live_server, call_next(3))
    qtbot.waitUntil(lambda: board.tile(3).ticket == "B001", timeout=WAIT_MS)
    assert board.announced_numbers() == ["A002", "B001"]
    assert heard(board.player) == expected(("A002", 1), ("B001", 3))


def test_a_floor_display_shows_and_announces_only_its_own_counters(live_server, boards, qtbot):
    run(live_server, open_counter(1), open_counter(9), issue("TP"), issue("GPLX"), issue("BHXH"))
    floor = boards(live_server.url, token="giYtWrMR3DjkhanMbeujLmyS")  # tv-tang-2: counters 9-12
    assert [tile.number for tile in floor.state.counter_tiles()] == [9, 10, 11, 12]
    assert {tile.code for tile in floor.state.service_tiles()} == {"GPLX", "BHXH", "THUE"}
    run(live_server, call_next(1), call_next(9))
    qtbot.waitUntil(lambda: floor.tile(9).ticket == "M001", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(floor.state.calls) == 2, timeout=WAIT_MS)
    assert floor.announced_numbers() == ["M001"]  # A001 is called to the ground floor
    assert [call.number for call in floor.state.recent_calls()] == ["M001"]


def test_counter_display_mode_follows_one_counter(live_server, boards, qtbot):
    run(live_server, open_counter(3), issue("DN"), issue("TP"))
    display = boards(live_server.url, counter=3, announce=False)
    view = display.view
    assert display.tile(3).phase is Phase.IDLE
    run(live_server, open_counter(1), call_next(1))  # another desk: ignored here
    run(live_server, call_next(3))
    qtbot.waitUntil(lambda: display.tile(3).ticket == "B001", timeout=WAIT_MS)
    assert [call.number for call in display.state.recent_calls()] == ["B001"]
    run(live_server, finish(3), c.PauseCounter(actor="hung", counter=3, reason="Nghỉ giải lao"))
    qtbot.waitUntil(lambda: display.tile(3).phase is Phase.PAUSED, timeout=WAIT_MS)
    band = pixel(view, 5, 5)
    assert band == Colors.PAUSED
    run(live_server, c.ResumeCounter(actor="hung", counter=3), c.CloseCounter(actor="hung", counter=3))
    qtbot.waitUntil(lambda: display.tile(3).phase is Phase.CLOSED, timeout=WAIT_MS)
    assert pixel(view, 5, 5) == Colors.CLOSED


# -- the display's state, with no server ----------------------------------------------------


def test_the_spotlight_follows_the_announcement_being_spoken(qtbot):
    now = [100.0]
    state = BoardState(spotlight_seconds=10)
    display = DisplayState(state, clock=lambda: now[0])
    player = RecordingPlayer(auto_finish=False)
    announcer = Announcer(FakeSynth(), player, chime=CHIME, on_started=display.announcement_started,
                          on_finished=display.announcement_finished)
    display.set_announcer(announcer)
    display.on_message(msg.snapshot())
    display.on_message(msg.update(calls=[msg.call(5, "A001", 1), msg.call(6, "A002", 2),
                                            msg.call(7, "B001", 3)]))
    assert state.spotlight_at(now[0]).number == "A001"  # the one being spoken, not the newest
    spoken = []
    for _ in range(9):  # chime + 2 × speech, for each of the three calls
        spoken.append(state.spotlight_at(now[0]).number)
        now[0] += 5
        player.finish()
    assert spoken == ["A001"] * 3 + ["A002"] * 3 + ["B001"] * 3
    assert announcer.idle
    assert state.spotlight_at(now[0]).number == "B001"  # lingers after the last one
    display.close()


def test_a_muted_board_spotlights_the_newest_call_and_plays_nothing(qtbot):
    state = BoardState()
    display = DisplayState(state, clock=lambda: 0.0)
    display.on_message(msg.snapshot())
    display.on_message(msg.update(calls=[msg.call(5, "A001", 1), msg.call(6, "B001", 3)]))
    assert state.spotlight_at(0.0).number == "B001"
    assert display.announced == []
    display.close()


def test_announcement_settings_follow_the_server(qtbot):
    state = BoardState()
    display = DisplayState(state)
    announcer = Announcer(FakeSynth(), RecordingPlayer(), chime=CHIME)
    display.set_announcer(announcer)
    display.on_message(msg.snapshot(announcement=msg.announcement(repeat=3, zero_tens="lẻ")))
    assert announcer.settings.repeat == 3 and announcer.settings.zero_tens == "lẻ"
    display.close()


def test_a_board_repainting_all_day_never_runs_out_of_references(qtbot):
    """The scrolling notice alone makes ~1000 void Qt calls a second; a PySide6 build that
    loses a reference to None on each (6.12 on CPython 3.11) aborts the board within a
    quarter of a minute. The pinned release must lose none."""
    import sys

    state = BoardState()
    display = DisplayState(state)
    display.on_message(msg.snapshot(notice="Thông báo rất dài " * 20))
    view = BoardView(display, Translator("display"))
    qtbot.addWidget(view)
    view.resize(1920, 1080)
    view.show()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    qtbot.waitUntil(lambda: view.ticker.frames >= 60, timeout=WAIT_MS)  # a second of scrolling
    assert sys.getrefcount(None) - none_before > -50
    assert sys.getrefcount(True) - true_before > -50
    display.close()


@pytest.mark.parametrize("make_view", [
    lambda display, tr: BoardView(display, tr),
    lambda display, tr: CounterDisplay(display, tr, 1),
], ids=["board", "counter"])
def test_both_displays_switch_language_with_l_and_quit_with_ctrl_q(qtbot, make_view):
    from PySide6.QtCore import Qt

    display = DisplayState(BoardState())
    translator = Translator("display", "vi")
    view = make_view(display, translator)
    qtbot.addWidget(view)
    view.show()
    qtbot.keyClick(view, Qt.Key.Key_X)  # not one of the display's keys: nothing happens
    assert translator.language == "vi" and view.isVisible()
    qtbot.keyClick(view, Qt.Key.Key_L)
    assert translator.language == "en"
    qtbot.keyClick(view, Qt.Key.Key_Q)  # Q alone does not quit
    assert view.isVisible()
    qtbot.keyClick(view, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not view.isVisible()
    display.close()


def test_the_displays_clock_uses_the_sites_zone_else_the_configured_one():
    from display.view_shared import site_zone

    state = BoardState()
    assert site_zone(state, "Asia/Bangkok").key == "Asia/Bangkok"  # no snapshot yet
    assert site_zone(state, "Not/AZone").key == "Asia/Ho_Chi_Minh"
    state.apply_snapshot(msg.snapshot(), 0.0)
    assert site_zone(state, "Asia/Bangkok").key == "Asia/Ho_Chi_Minh"  # the snapshot's site wins


def test_vietnamese_date_line():
    from datetime import datetime

    assert date_line(Translator("display", "vi"), datetime(2026, 11, 25, 8, 0)) == "Thứ Tư, 25/11/2026"
    assert date_line(Translator("display", "vi"), datetime(2026, 11, 29, 8, 0)) == "Chủ Nhật, 29/11/2026"
    assert date_line(Translator("display", "en"), datetime(2026, 11, 25, 8, 0)) == "Wednesday 25/11/2026"


# -- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "problem"), [
    (["--size", "big"], "is not a size like 1920x1080"),
    (["--size", "100x100"], "width must be"),
    (["--device", "tv-nowhere"], "no display 'tv-nowhere'"),
    (["--device", "tv-sanh", "--counter", "99"], "has no counter 99"),
    (["--counters", "1,x"], "not a list of counter numbers"),
    (["--counter", "1", "--counters", "1,2"], "either --counter"),
    (["--device", "tv-sanh", "--services", "NOPE"], "has no service 'NOPE'"),
    (["--lang", "fr"], "invalid choice"),
    (["--mute", "--announce"], "not allowed with"),
    (["--server", "http://x"], "is not a websocket address"),
    (["--spotlight", "0"], "between 1 and 600"),
])
def test_bad_arguments_are_refused_clearly(argv, problem, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert problem in err and "Traceback" not in err


def test_help_lists_every_option(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--config", "--device", "--server", "--counter", "--counters", "--services", "--size",
                   "--windowed", "--mute", "--lang", "--screenshot"):
        assert option in out


def test_screenshot_of_an_unreachable_server_shows_the_connecting_screen(tmp_path, monkeypatch, qapp):
    monkeypatch.setattr(screenshot, "TIMEOUT_MS", 800)
    out = tmp_path / "offline.png"
    assert cli.main(["--device", "tv-sanh", "--server", "ws://127.0.0.1:9", "--size", "1366x768",
                     "--screenshot", str(out)]) == 0
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1366, 768)


# -- screenshots of a busy morning ------------------------------------------------------------

DEMO_ISSUE = {"TP": 34, "DN": 15, "XD": 9, "DD": 22, "YT": 6, "CT": 5, "LD": 4, "GD": 7, "VH": 3,
              "GPLX": 41, "BHXH": 19, "THUE": 12, "DIEN": 5, "KQ": 16}
DEMO_SERVED = {1: 9, 2: 6, 3: 5, 4: 3, 5: 7, 6: 5, 7: 3, 9: 12, 10: 11, 11: 6, 12: 4, 14: 8}
DEMO_CLERKS = {n: f"clerk{n}" for n in DEMO_SERVED}


async def seed_demo(server, clock) -> None:
    """A mid-morning at the provincial centre: most counters busy, 7 paused, 8 and 13
    closed, the last call (B006 → counter 3) just made."""
    submit = server.submit
    await asyncio.gather(*(submit("tinh", issue(code)) for code, n in DEMO_ISSUE.items() for _ in range(n)))
    await asyncio.gather(*(submit("tinh", c.OpenCounter(actor=clerk, counter=n))
                           for n, clerk in DEMO_CLERKS.items()))

    async def serve_one(number: int, clerk: str) -> None:
        await submit("tinh", c.CallNext(actor=clerk, counter=number))
        await submit("tinh", c.StartService(actor=clerk, counter=number))
        await submit("tinh", c.Finish(actor=clerk, counter=number, outcome="received"))

    for round_ in range(max(DEMO_SERVED.values())):
        await asyncio.gather(*(serve_one(n, clerk) for n, clerk in DEMO_CLERKS.items()
                               if round_ < DEMO_SERVED[n]))
        clock.advance(minutes=1)
    await submit("tinh", c.PauseCounter(actor=DEMO_CLERKS[7], counter=7, reason="Họp giao ban"))
    for number in (11, 12, 9, 1, 5, 4, 14, 10, 6, 2, 3):
        clock.advance(seconds=40)
        await submit("tinh", c.CallNext(actor=DEMO_CLERKS[number], counter=number))
        if number in (1, 4, 5, 9, 11, 12):
            await submit("tinh", c.StartService(actor=DEMO_CLERKS[number], counter=number))


def test_screenshots_of_a_busy_morning(live_server, clock, tmp_path, boards, qtbot):
    """Renders the board and the counter display through the real CLI. With
    XEPHANG_SCREENSHOTS=1 they are written to docs/screenshots/ (kept < 400 KB)."""
    clock.advance(minutes=80)
    live_server.call(lambda server: seed_demo(server, clock))
    target = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    out = target if os.environ.get("XEPHANG_SCREENSHOTS") == "1" else tmp_path
    server = live_server.url.removesuffix("/ws")
    shots = {
        "display-board-1920x1080.png": ["--size", "1920x1080"],
        "display-board-1366x768.png": ["--size", "1366x768"],
        "display-counter.png": ["--counter", "3", "--size", "1280x720"],
    }
    from PySide6.QtGui import QImage

    for name, argv in shots.items():
        board_of_the_file = ["--device", "tv-sanh", "--server", server]
        assert cli.main([*board_of_the_file, *argv, "--screenshot", str(out / name)]) == 0
        image = QImage(str(out / name))
        size = argv[argv.index("--size") + 1].split("x")
        assert (image.width(), image.height()) == (int(size[0]), int(size[1]))
        assert (out / name).stat().st_size < 400_000
    spotlight = QImage(str(out / "display-board-1920x1080.png")).pixelColor(1880, 300)
    assert spotlight.red() > 200 and spotlight.green() > 150 and spotlight.blue() < 100  # yellow spotlight
    board = boards(live_server.url, announce=False)
    live_server.stop()
    qtbot.waitUntil(lambda: board.state.stale, timeout=WAIT_MS)
    assert board.view.grab().save(str(out / "display-board-offline.png"))
