"""The real kiosk window (offscreen) against a live server: what a citizen can do with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from bench.printer_fake import FakePrinter
from common.config import Config
from kiosk.print_service import PrinterSettings
from kiosk.state import KioskSettings, PrintPhase, Screen
from tests.helpers import COMMUNE_KIOSK_TOKEN, example_config

pytest_plugins = ["tests.kiosk_fixtures"]
pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parent.parent
SEED = {"TP": 12, "DN": 5, "XD": 3, "DD": 8, "YT": 1, "LD": 6, "GPLX": 21, "BHXH": 9, "THUE": 4, "KQ": 2}
OUTAGE = 15000  # ms: the client reconnects with backoff (at most 3 s between tries)


def capped(config: Config, code: str = "TP", cap: int = 1) -> Config:
    site = config.sites[0]
    services = [msgspec.structs.replace(s, daily_cap=cap) if s.code == code else s for s in site.services]
    return msgspec.structs.replace(config, sites=[msgspec.structs.replace(site, services=services),
                                                  *config.sites[1:]])


def test_choosing_a_service_shows_the_ticket(make_kiosk, probe):
    kiosk = make_kiosk()
    tile = kiosk.tile("TP")
    assert tile.isEnabled() and tile.content.name == "Lý lịch tư pháp, quốc tịch, hộ tịch"
    assert tile.content.agency == "Sở Tư pháp" and tile.content.status == "Không có người chờ"
    kiosk.tap_service("TP")
    kiosk.wait_screen(Screen.ISSUED)
    page = kiosk.window.ticket
    assert page.number.text() == "A001" and page.service.text() == "Lý lịch tư pháp, quốc tịch, hộ tịch"
    assert [value.text() for _, value in page.rows] == ["0", "dưới 1 phút", "1, 2"]
    assert page.qr.data.startswith("http://127.0.0.1:8765/t/")
    assert kiosk.state.issued.phase == PrintPhase.DISABLED  # this kiosk has no printer
    assert "không in phiếu" in page.status.text()
    (ticket,) = probe.tickets()
    assert (ticket.number, ticket.issued_by, ticket.priority) == ("A001", "kiosk-sanh-1", None)
    assert page.qr.data.endswith(ticket.token)
    kiosk.tap(page.done)
    assert kiosk.state.screen == Screen.HOME
    kiosk.qtbot.waitUntil(lambda: kiosk.tile("TP").content.status == "Đang chờ: 1")


def test_priority_path(make_kiosk, probe):
    kiosk = make_kiosk()
    entry = kiosk.window.home.entry
    assert entry.isVisible() and "Người cao tuổi (từ 60 tuổi)" in kiosk.window.home.entry_hint.text()
    kiosk.tap(entry)
    assert kiosk.state.screen == Screen.PRIORITY
    assert list(kiosk.window.priority.buttons) == ["elderly", "disabled", "pregnant", "merit"]
    kiosk.tap(kiosk.window.priority.buttons["pregnant"])
    assert kiosk.state.screen == Screen.PRIORITY_SERVICES
    assert "Phụ nữ mang thai" in kiosk.window.home.banner_text.text()
    kiosk.tap_service("BHXH")
    kiosk.wait_screen(Screen.ISSUED)
    assert kiosk.window.ticket.priority.isVisible()
    (ticket,) = probe.tickets()
    assert (ticket.service, ticket.priority) == ("BHXH", "pregnant")


def test_closed_services_are_greyed_and_cannot_be_tapped(make_kiosk, probe, clock):
    kiosk = make_kiosk()
    clock.set_local(2026, 11, 25, 12, 0)
    probe.tick()  # the server's ticker pushes the services that just closed
    kiosk.qtbot.waitUntil(lambda: not kiosk.tile("TP").isEnabled())
    tile = kiosk.tile("TP")
    assert tile.content.status == "Ngoài giờ cấp số – mở lại lúc 13:15" and not tile.content.available
    assert kiosk.window.home.instruction.text() == "Ngoài giờ cấp số – mở lại lúc 13:15"
    assert not kiosk.window.home.entry.isEnabled()
    kiosk.tap(tile)
    tile.clicked.emit()  # even a click Qt would not deliver is refused by the state
    assert kiosk.state.screen == Screen.HOME and probe.tickets() == []
    clock.set_local(2026, 11, 25, 13, 20)
    probe.tick()
    kiosk.qtbot.waitUntil(lambda: kiosk.tile("TP").isEnabled())


@pytest.mark.parametrize("config", [capped(example_config())])
def test_out_of_numbers(make_kiosk, probe):
    kiosk = make_kiosk()
    kiosk.tap_service("TP")
    kiosk.wait_screen(Screen.ISSUED)
    kiosk.tap(kiosk.window.ticket.done)
    kiosk.qtbot.waitUntil(lambda: not kiosk.tile("TP").isEnabled())
    assert kiosk.tile("TP").content.status == "Đã hết số hôm nay"
    assert kiosk.tile("DN").isEnabled()
    assert [t.number for t in probe.tickets()] == ["A001"]


def test_idle_sub_screen_returns_home(make_kiosk):
    kiosk = make_kiosk(settings=KioskSettings(status_interval_seconds=0, idle_seconds=1))
    kiosk.tap(kiosk.window.home.entry)
    kiosk.tap(kiosk.window.priority.buttons["elderly"])
    assert kiosk.state.screen == Screen.PRIORITY_SERVICES
    kiosk.wait_screen(Screen.HOME, timeout=4000)
    assert kiosk.state.priority is None


def test_issued_ticket_times_out_to_home(make_kiosk):
    kiosk = make_kiosk(settings=KioskSettings(status_interval_seconds=0, issued_seconds=1))
    kiosk.tap_service("DD")
    kiosk.wait_screen(Screen.ISSUED)
    kiosk.wait_screen(Screen.HOME, timeout=4000)


def test_double_tap_makes_one_ticket(make_kiosk, probe):
    kiosk = make_kiosk()
    tile = kiosk.tile("XD")
    kiosk.qtbot.mouseDClick(tile, Qt.MouseButton.LeftButton)
    kiosk.tap(tile)
    tile.clicked.emit()
    tile.clicked.emit()
    kiosk.wait_screen(Screen.ISSUED)
    assert [t.number for t in probe.tickets()] == ["C001"]


def test_server_outage_disables_tiles_then_recovers(make_kiosk, probe, live_server):
    kiosk = make_kiosk()
    window = kiosk.window
    live_server.stop()
    kiosk.qtbot.waitUntil(lambda: window.offline.isVisible(), timeout=OUTAGE)
    assert window.offline.text().startswith("Mất kết nối máy chủ – đang kết nối lại…")
    assert not kiosk.tile("TP").isEnabled()
    kiosk.tap_service("TP")
    assert kiosk.state.screen == Screen.HOME
    live_server.start()
    kiosk.qtbot.waitUntil(lambda: kiosk.tile("TP").isEnabled(), timeout=OUTAGE)
    assert not window.offline.isVisible()
    kiosk.tap_service("TP")
    kiosk.wait_screen(Screen.ISSUED)
    assert [t.number for t in probe.tickets()] == ["A001"]


def test_an_answer_lost_in_an_outage_gives_the_same_ticket_after_it(make_kiosk, probe, live_server):
    kiosk = make_kiosk()

    def swallow_replies(server):
        table = server.dispatcher.table
        original = table["issue_ticket"]

        async def issue_without_reply(ws, session, message):
            await original(ws, session, message)  # the ticket is committed; the reply is lost

        table["issue_ticket"] = issue_without_reply

    live_server.call(swallow_replies)
    kiosk.tap_service("GPLX")
    kiosk.qtbot.waitUntil(lambda: len(probe.tickets()) == 1)
    assert kiosk.state.screen == Screen.ISSUING
    message = kiosk.window.message
    kiosk.qtbot.waitUntil(lambda: kiosk.window.current_page() is message)  # a slow answer is announced
    assert message.title.text() == "Đang cấp số…"
    live_server.stop()  # the kiosk never heard back; the link drops
    kiosk.qtbot.waitUntil(lambda: message.title.text() == "Đang kết nối lại máy chủ để cấp số…")
    live_server.start()
    kiosk.wait_screen(Screen.ISSUED, timeout=OUTAGE)
    (ticket,) = probe.tickets()  # resent with the same key: the same ticket, not a second one
    assert kiosk.window.ticket.number.text() == ticket.number == "M001"


def test_screen_updates_keep_references_to_none(make_kiosk):
    """A PySide6 build that drops a reference to None per void call (6.12 on CPython 3.11)
    aborts a kiosk within minutes; pyproject pins a good one, and this proves it."""
    kiosk = make_kiosk()
    before = sys.getrefcount(None)
    for _ in range(2000):  # a few minutes' worth of screen updates
        kiosk.window.render()
    assert sys.getrefcount(None) - before > -100


def test_language_toggle(make_kiosk):
    kiosk = make_kiosk()
    window = kiosk.window
    assert window.language.text() == "English"
    kiosk.tap(window.language)
    assert kiosk.tile("TP").content.name == "Criminal records, nationality, civil status"
    assert window.home.instruction.text() == "Please choose a service to take a number"
    assert window.language.text() == "Tiếng Việt"
    kiosk.tap(window.language)
    assert kiosk.tile("TP").content.name == "Lý lịch tư pháp, quốc tịch, hộ tịch"


def test_commune_kiosk_shows_its_own_site(make_kiosk):
    kiosk = make_kiosk(token=COMMUNE_KIOSK_TOKEN)
    assert kiosk.window.title.text() == "Trung tâm Phục vụ hành chính công xã Gia Viễn"
    assert list(kiosk.window.home.tiles) == ["HT", "DD", "XH"]
    assert not kiosk.window.home.checkin.isVisible()  # its HT gives remote numbers, not appointments


def test_the_example_province_kiosk_offers_check_in_beside_the_priority_entry(make_kiosk):
    home = make_kiosk().window.home  # TP and DD take appointments at the example's province centre
    assert home.entry.isVisible() and home.checkin.isVisible()
    assert home.checkin_title.text() == "ĐÃ ĐẶT LỊCH HẸN"


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_screenshots(make_kiosk, probe, shots, live_server, orientation):
    """Every screen in both orientations (XEPHANG_SCREENSHOTS=docs/screenshots to refresh the docs)."""
    probe.seed(SEED)
    with FakePrinter() as good, FakePrinter(mode="refuse") as bad:
        kiosk = make_kiosk(printer=PrinterSettings(uri=good.uri), orientation=orientation)
        state, window = kiosk.state, kiosk.window
        kiosk.qtbot.waitUntil(lambda: kiosk.tile("TP").content.status.endswith("12"))
        for tile in window.home.tiles.values():  # every tile fits its text at a readable size
            assert tile.name_px >= 22 and tile.height() >= 150 and tile.width() >= 400
        assert not window.home.scroll.verticalScrollBar().isVisible()
        kiosk.grab(shots / f"kiosk-home-{orientation}.png")
        kiosk.tap(window.home.entry)
        kiosk.grab(shots / f"kiosk-priority-{orientation}.png")
        kiosk.tap(window.priority.buttons["elderly"])
        kiosk.grab(shots / f"kiosk-priority-service-{orientation}.png")
        kiosk.tap_service("TP")
        kiosk.qtbot.waitUntil(lambda: state.issued is not None and state.issued.phase == PrintPhase.PRINTED)
        kiosk.grab(shots / f"kiosk-issued-{orientation}.png")
        kiosk.tap(window.ticket.done)
        kiosk.app.printer.configure(PrinterSettings(uri=bad.uri))
        kiosk.tap_service("GPLX")
        kiosk.wait_screen(Screen.PRINTER_PROBLEM)
        kiosk.grab(shots / f"kiosk-printer-problem-{orientation}.png")
        kiosk.tap(window.ticket.done)
        window.title._timer.setInterval(50)  # the staff gesture's 3 s hold, shortened
        kiosk.qtbot.mousePress(window.title, Qt.MouseButton.LeftButton)
        kiosk.wait_screen(Screen.STAFF_PIN)
        kiosk.qtbot.mouseRelease(window.title, Qt.MouseButton.LeftButton)
        for digit in "12":
            state.pin_digit(digit)
        kiosk.grab(shots / f"kiosk-staff-pin-{orientation}.png")
        for digit in "34":
            state.pin_digit(digit)
        kiosk.tap(window.pin.enter)
        kiosk.qtbot.waitUntil(lambda: state.staff.message == "status")
        kiosk.grab(shots / f"kiosk-staff-{orientation}.png")
        kiosk.tap(window.staff.close)
        live_server.stop()
        kiosk.qtbot.waitUntil(lambda: window.offline.isVisible(), timeout=OUTAGE)
        kiosk.grab(shots / f"kiosk-offline-{orientation}.png")


def run_kiosk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xephang.cli", "kiosk", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_cli_screenshot(live_server, tmp_path):
    target = tmp_path / "home.png"
    result = run_kiosk("--device", "kiosk-sanh-1", "--server", live_server.url, "--landscape",
                       "--screenshot", str(target))
    assert result.returncode == 0, result.stderr
    assert Image.open(target).size == (1920, 1080)


def test_cli_rejects_bad_arguments(tmp_path):
    result = run_kiosk("--printer", "lpt1:")
    assert result.returncode == 2 and "invalid printer URI" in result.stderr
    result = run_kiosk("--device", "kiosk-x", "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "configured kiosks: kiosk-sanh-1, kiosk-sanh-2" in result.stderr
    result = run_kiosk("--staff-pin", "12", "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "4 to 8 digits" in result.stderr
    assert "Traceback" not in result.stderr
