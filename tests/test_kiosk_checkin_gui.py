"""Check-in at the real kiosk window (offscreen) against a live server: a booking made on the
public socket is checked in by its code on the keypad and by a scanned CCCD QR string, and
the ticket that reaches the (fake) ESC/POS printer, decoded, shows the appointment time."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from bench.escpos_decode import Raster, decode, raster_image
from bench.printer_fake import FakePrinter
from common.config import Booking, Config
from kiosk import ticket_image
from kiosk.print_service import PrinterSettings
from kiosk.state import Screen
from kiosk.ticket_image import appointment_label, render_ticket
from tests.helpers import RawClient, example_config, local_time, walk_in_only
from tests.test_cccd_qr import card_text
from tests.test_kiosk_gui import run_kiosk

pytest_plugins = ["tests.kiosk_fixtures"]
pytestmark = pytest.mark.gui

SLOT = local_time(2026, 11, 25, 8, 30)  # the clock stands at 08:00: check-in opens at 08:00
HOLDER = "037190001234"  # born 1990: no priority
ELDER_CARD = card_text()  # 037050001234, born 01/02/1950: 76 years old
HOLDER_CARD = card_text(HOLDER, name="Trần Thị Bình", born="05061990", sex="Nữ")


def with_booking(config: Config) -> Config:
    """TP takes appointments; DN gives walk-in numbers to priority citizens only; nothing
    else books (the example centre's own bookings are turned off)."""
    config = walk_in_only(config)
    site = config.sites[0]
    services = []
    for service in site.services:
        if service.code == "TP":
            service = msgspec.structs.replace(service, booking=Booking(bookable=True, places_per_slot=4))
        elif service.code == "DN":
            service = msgspec.structs.replace(service, booking=Booking(online_only=True))
        services.append(service)
    return msgspec.structs.replace(config, sites=[msgspec.structs.replace(site, services=services),
                                                  *config.sites[1:]])


CONFIG = [with_booking(example_config())]


def book(live_server: Any, start: datetime, cccd: str = HOLDER, service: str = "TP") -> str:
    """A booking made as the public page makes it; its code."""

    async def booked(server: Any) -> str:
        client = await RawClient.open(live_server.url + "/public")
        try:
            reply = await client.request({
                "type": "book", "site": "tinh", "service": service, "start": start.isoformat(),
                "name": "Trần Thị Bình", "phone": "0912345678", "cccd": cccd}, expect="booking")
        finally:
            await client.close()
        return str(reply["code"])

    return live_server.call(booked)


def received_checkins(live_server: Any) -> list[dict[str, Any]]:
    """Every checkin the server receives from now on, as it arrived."""
    seen: list[dict[str, Any]] = []

    def spy(server: Any) -> None:
        table = server.dispatcher.table
        original = table["checkin"]

        async def recording(ws: Any, session: Any, message: Any) -> Any:
            seen.append(msgspec.to_builtins(message))
            return await original(ws, session, message)

        table["checkin"] = recording

    live_server.call(spy)
    return seen


def scan(kiosk: Any, text: str) -> None:
    """The USB scanner: the string typed fast into the window, a key event per character
    (QTest's keyClicks takes ASCII only; a scanner types the card's Vietnamese too), then Enter."""
    none = Qt.KeyboardModifier.NoModifier
    for ch in text:
        QApplication.sendEvent(kiosk.window, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_unknown, none, ch))
    QApplication.sendEvent(kiosk.window, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Return, none, "\r"))


def badge(text: str, width: int = 576) -> tuple[Image.Image, int]:
    """The appointment badge alone, drawn as the ticket draws it (centred), cropped to its
    ink; and the column it starts at."""
    canvas = ticket_image._Canvas(width, width / ticket_image.REFERENCE_WIDTH)
    canvas.badge(text, ticket_image._font("Bold", 26))
    image = canvas.finish(0)
    box = Image.eval(image.convert("L"), lambda v: 255 - v).getbbox()
    assert box is not None
    return image.crop(box), box[0]


def shows(page: Image.Image, part: tuple[Image.Image, int]) -> bool:
    """Whether the badge appears on ``page`` at its column, at some row."""
    image, x = part
    target = image.tobytes()
    return any(page.crop((x, y, x + image.width, y + image.height)).tobytes() == target
               for y in range(page.height - image.height + 1))


def printed_page(fake: FakePrinter) -> Image.Image:
    jobs = [decode(data) for data in fake.jobs]
    (commands,) = [c for c in jobs if any(isinstance(x, Raster) for x in c)]
    return raster_image(commands)


@pytest.mark.parametrize("config", CONFIG)
def test_checkin_by_the_code_on_the_keypad_prints_the_appointment(make_kiosk, probe, live_server, shots):
    code = book(live_server, SLOT)
    with FakePrinter() as fake:
        kiosk = make_kiosk(printer=PrinterSettings(uri=fake.uri, width_dots=576, qr_mode="raster"))
        home = kiosk.window.home
        assert home.checkin.isVisible() and home.checkin_title.text() == "ĐÃ ĐẶT LỊCH HẸN"
        kiosk.tap(home.checkin)
        assert kiosk.state.screen == Screen.CHECKIN
        page = kiosk.window.checkin
        for key in code[:5]:
            kiosk.tap(page.keys[key])
        assert page.code.text() == f"{code[:4]}-{code[4]}___"
        for key in code[5:]:
            kiosk.tap(page.keys[key])
        assert page.submit.isEnabled()
        kiosk.tap(page.submit)
        kiosk.wait_screen(Screen.ISSUED)
        ticket_page = kiosk.window.ticket
        assert ticket_page.appointment.isVisible() and ticket_page.appointment.text() == "Lịch hẹn 08:30"
        kiosk.qtbot.waitUntil(lambda: len(kiosk.state.printing.times_ms) >= 1, timeout=8000)
        page_image = printed_page(fake)
    (ticket,) = probe.tickets()
    assert ticket.appointment_at == SLOT and ticket.booking == code
    assert ticket_page.number.text() == ticket.number
    printed = kiosk.state.issued.printed
    assert printed.appointment_at == SLOT and printed.number == ticket.number
    assert page_image.tobytes() == render_ticket(printed, width_dots=576).tobytes()
    assert shows(page_image, badge(appointment_label(SLOT)))  # "Lịch hẹn 08:30" is on the paper
    assert not shows(page_image, badge(appointment_label(SLOT + timedelta(hours=1))))
    page_image.save(shots / "ticket-appointment.png", optimize=True)


@pytest.mark.parametrize("config", CONFIG)
def test_checkin_by_a_scanned_cccd_sends_only_its_number(make_kiosk, probe, live_server):
    code = book(live_server, SLOT)
    seen = received_checkins(live_server)
    with FakePrinter() as fake:
        kiosk = make_kiosk(printer=PrinterSettings(uri=fake.uri, width_dots=576, qr_mode="raster"))
        scanned = time.monotonic()
        scan(kiosk, HOLDER_CARD)
        kiosk.wait_screen(Screen.ISSUED)
        shown_ms = (time.monotonic() - scanned) * 1000
        kiosk.qtbot.waitUntil(lambda: len(kiosk.state.printing.times_ms) >= 1, timeout=8000)
        printed_ms = (time.monotonic() - scanned) * 1000
        page_image = printed_page(fake)
    print(f"\nCCCD scan → ticket on screen {shown_ms:.0f} ms, → printed {printed_ms:.0f} ms")
    (message,) = seen
    assert message["cccd"] == HOLDER and message["code"] is None
    assert "Bình" not in repr(message) and "05061990" not in repr(message)
    (ticket,) = probe.tickets()
    assert ticket.booking == code and ticket.appointment_at == SLOT
    assert kiosk.window.ticket.appointment.text() == "Lịch hẹn 08:30"
    assert shows(page_image, badge(appointment_label(SLOT)))


@pytest.mark.parametrize("config", CONFIG)
def test_a_scanned_booking_code_twice_gives_the_same_ticket(make_kiosk, probe, live_server):
    code = book(live_server, SLOT)
    kiosk = make_kiosk()
    scan(kiosk, f"{code[:4]}-{code[4:]}")
    kiosk.wait_screen(Screen.ISSUED)
    first = kiosk.window.ticket.number.text()
    kiosk.tap(kiosk.window.ticket.done)
    scan(kiosk, code.lower())
    kiosk.wait_screen(Screen.ISSUED)
    assert kiosk.window.ticket.number.text() == first and len(probe.tickets()) == 1


@pytest.mark.parametrize("config", CONFIG)
def test_too_early_says_when_to_come_back(make_kiosk, probe, live_server):
    code = book(live_server, SLOT + timedelta(hours=1))  # 09:30: check-in opens at 09:00
    kiosk = make_kiosk()
    scan(kiosk, code)
    kiosk.wait_screen(Screen.MESSAGE)
    message = kiosk.window.message
    assert message.title.text() == "Mời quay lại lúc 09:00"
    assert probe.tickets() == []


@pytest.mark.parametrize("config", CONFIG)
def test_an_elderly_walk_ins_card_opens_the_priority_path_to_an_online_only_service(make_kiosk, probe):
    kiosk = make_kiosk()
    assert not kiosk.tile("DN").isEnabled()  # online only: no walk-in numbers on the home screen
    assert kiosk.tile("DN").content.status.startswith("Chỉ đặt lịch trực tuyến")
    scan(kiosk, ELDER_CARD)
    kiosk.wait_screen(Screen.PRIORITY_OFFER)
    offer = kiosk.window.offer
    assert offer.title.text() == "Bạn thuộc diện ưu tiên: Người cao tuổi (từ 60 tuổi)"
    kiosk.tap(offer.accept)
    assert kiosk.state.screen == Screen.PRIORITY_SERVICES
    assert kiosk.tile("DN").isEnabled()
    kiosk.tap_service("DN")
    kiosk.wait_screen(Screen.ISSUED)
    (ticket,) = probe.tickets()
    assert (ticket.service, ticket.priority, ticket.appointment_at) == ("DN", "elderly", None)


@pytest.mark.parametrize("config", CONFIG)
def test_a_younger_walk_ins_card_is_told_there_is_no_appointment(make_kiosk, probe):
    kiosk = make_kiosk()
    scan(kiosk, HOLDER_CARD)
    kiosk.wait_screen(Screen.MESSAGE)
    assert kiosk.window.message.title.text() == "Không có lịch hẹn hôm nay"
    assert probe.tickets() == []


@pytest.mark.parametrize("config", CONFIG)
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_checkin_screenshots(make_kiosk, live_server, shots, orientation):
    """The check-in screens (XEPHANG_SCREENSHOTS=docs/screenshots to refresh the docs)."""
    early = book(live_server, SLOT + timedelta(hours=1))
    code = book(live_server, SLOT, cccd="001304001234")
    with FakePrinter() as fake:
        kiosk = make_kiosk(printer=PrinterSettings(uri=fake.uri), orientation=orientation)
        home = kiosk.window.home
        kiosk.qtbot.wait(30)
        for tile in home.tiles.values():  # the second entry still leaves every tile readable
            assert tile.name_px >= 22 and tile.height() >= 150 and tile.width() >= 400
        assert not home.scroll.verticalScrollBar().isVisible()
        for text in (home.entry_hint, home.checkin_hint, home.entry_title, home.checkin_title):
            assert text.heightForWidth(text.width()) <= text.height() + 1, text.text()  # nothing cut
        kiosk.grab(shots / f"kiosk-home-checkin-{orientation}.png")
        kiosk.tap(kiosk.window.home.checkin)
        for key in code[:6]:
            kiosk.tap(kiosk.window.checkin.keys[key])
        kiosk.grab(shots / f"kiosk-checkin-{orientation}.png")
        kiosk.tap(kiosk.window.checkin.back)
        scan(kiosk, early)
        kiosk.wait_screen(Screen.MESSAGE)
        kiosk.grab(shots / f"kiosk-checkin-early-{orientation}.png")
        kiosk.tap(kiosk.window.message.ok)
        scan(kiosk, ELDER_CARD)
        kiosk.wait_screen(Screen.PRIORITY_OFFER)
        kiosk.grab(shots / f"kiosk-checkin-offer-{orientation}.png")
        kiosk.tap(kiosk.window.offer.decline)
        scan(kiosk, code)
        kiosk.wait_screen(Screen.ISSUED)
        kiosk.qtbot.waitUntil(lambda: kiosk.state.issued.phase.value == "printed", timeout=8000)
        kiosk.grab(shots / f"kiosk-checkin-issued-{orientation}.png")


@pytest.mark.parametrize("config", CONFIG)
def test_cli_screenshot_of_the_checkin_screen(live_server, tmp_path):
    target = tmp_path / "checkin.png"
    result = run_kiosk("--device", "kiosk-sanh-1", "--server", live_server.url, "--screenshot", str(target),
                       "--screen", "checkin")
    assert result.returncode == 0, result.stderr
    assert Image.open(target).size == (1080, 1920)


@pytest.mark.parametrize("config", [walk_in_only(example_config())])
def test_cli_screenshot_of_the_checkin_screen_needs_a_bookable_service(live_server, tmp_path):
    result = run_kiosk("--device", "kiosk-sanh-1", "--server", live_server.url, "--screenshot",
                       str(tmp_path / "x.png"), "--screen", "checkin")
    assert result.returncode == 1 and "no service of this site takes appointments" in result.stderr


def late_config(rule: str) -> Config:
    config = with_booking(example_config())
    site = config.sites[0]
    services = [msgspec.structs.replace(s, booking=msgspec.structs.replace(s.booking, late_arrival=rule))
                if s.code == "TP" else s for s in site.services]
    return msgspec.structs.replace(config, sites=[msgspec.structs.replace(site, services=services),
                                                  *config.sites[1:]])


@pytest.mark.parametrize("config", [late_config("walk_in")])
def test_a_late_arrival_gets_an_ordinary_number_under_the_walk_in_rule(make_kiosk, probe, live_server, clock):
    code = book(live_server, SLOT)
    clock.set_local(2026, 11, 25, 8, 45)  # the window closed at 08:40
    kiosk = make_kiosk()
    scan(kiosk, code)
    kiosk.wait_screen(Screen.ISSUED)
    assert kiosk.state.issued.late and kiosk.state.issued.appointment_at is None
    assert kiosk.window.ticket.appointment.text() == "Đến sau giờ hẹn – cấp số thường"
    (ticket,) = probe.tickets()
    assert ticket.appointment_at is None


@pytest.mark.parametrize("config", [late_config("refuse")])
def test_a_late_arrival_is_refused_under_the_refuse_rule(make_kiosk, probe, live_server, clock):
    code = book(live_server, SLOT)
    clock.set_local(2026, 11, 25, 8, 45)
    kiosk = make_kiosk()
    scan(kiosk, code)
    kiosk.wait_screen(Screen.MESSAGE)
    assert kiosk.window.message.title.text() == "Đã quá giờ hẹn"
    assert probe.tickets() == []
