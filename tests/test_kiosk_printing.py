"""Printing from the kiosk: the bytes that reach a (fake) ESC/POS printer, and printer failures.

The real window issues against the live server; the fake TCP printer records the stream,
which is decoded and compared with ``render_ticket`` of the very ticket the kiosk built.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer

from bench.escpos_decode import Command, Cut, Init, Qr, Raster, StatusQuery, decode, raster_image
from bench.printer_fake import PAPER_OUT, FakePrinter
from common import protocol as p
from kiosk.print_service import PrinterSettings, PrintService
from kiosk.state import PrintPhase, Screen
from kiosk.ticket_image import printed_ticket, qr_target_dots, render_qr, render_ticket
from kiosk.values import PrintOutcome

pytest_plugins = ["tests.kiosk_fixtures"]
pytestmark = pytest.mark.gui


class TimedPrinter(FakePrinter):
    """Also notes when each connection ended (the last byte of a job has arrived by then)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.finished_at: list[float] = []

    def _finish(self, data: bytes) -> None:
        self.finished_at.append(time.monotonic())
        super()._finish(data)


def print_jobs(fake: FakePrinter) -> list[tuple[int, list[Command]]]:
    """(index, commands) of every connection that printed something (status checks left out)."""
    jobs = [(i, decode(data)) for i, data in enumerate(fake.jobs)]
    return [(i, commands) for i, commands in jobs if any(isinstance(c, Raster) for c in commands)]


def printing(commands: list[Command]) -> list[Command]:
    return [c for c in commands if not isinstance(c, StatusQuery)]


def contains_at(page: Image.Image, part: Image.Image, x: int) -> bool:
    """Whether ``part`` appears in ``page`` at column x, at some row."""
    target = part.tobytes()
    return any(page.crop((x, y, x + part.width, y + part.height)).tobytes() == target
               for y in range(page.height - part.height + 1))


def wait_printed(kiosk, count: int = 1) -> None:
    kiosk.qtbot.waitUntil(lambda: len(kiosk.state.printing.times_ms) >= count, timeout=8000)


@pytest.mark.parametrize("paper_mm, width", [(80, 576), (58, 384)])
def test_raster_ticket_reaches_the_printer(make_kiosk, probe, shots, paper_mm, width):
    with TimedPrinter() as fake:
        kiosk = make_kiosk(printer=PrinterSettings(uri=fake.uri, width_dots=width, qr_mode="raster"))
        tapped = time.monotonic()
        kiosk.tap_service("TP")
        wait_printed(kiosk)
        assert kiosk.state.issued.phase == PrintPhase.PRINTED
        (index, commands), = print_jobs(fake)
        elapsed_ms = (fake.finished_at[index] - tapped) * 1000
    (ticket,) = probe.tickets()
    printed = kiosk.state.issued.printed
    assert (printed.number, printed.url) == (ticket.number, f"http://127.0.0.1:8765/t/{ticket.token}")
    job = printing(commands)
    assert isinstance(job[0], Init) and isinstance(job[-1], Cut)  # cut last
    assert {c.width_bytes for c in job if isinstance(c, Raster)} == {width // 8}
    page = raster_image(commands)
    assert page.tobytes() == render_ticket(printed, width_dots=width, include_qr=True).tobytes()
    qr = render_qr(printed.url, qr_target_dots(width))
    assert contains_at(page, qr, (width - qr.width) // 2)  # the QR of this ticket's own URL
    assert not any(isinstance(c, Qr) for c in commands)
    assert elapsed_ms < 3000, f"tap to printed took {elapsed_ms:.0f} ms"
    print(f"\ntap → last byte at the printer ({paper_mm} mm raster): {elapsed_ms:.0f} ms")
    if paper_mm == 80:
        page.save(shots / "ticket-printed.png", optimize=True)


def test_native_qr_carries_the_ticket_url(make_kiosk, probe):
    with FakePrinter() as fake:
        kiosk = make_kiosk(printer=PrinterSettings(uri=fake.uri, width_dots=576, qr_mode="native"))
        kiosk.tap_service("KQ")
        wait_printed(kiosk)
        (_, commands), = print_jobs(fake)
    (ticket,) = probe.tickets()
    printed = kiosk.state.issued.printed
    stored = [c.stored_data for c in commands if isinstance(c, Qr) and c.fn == 80]
    assert stored == [f"http://127.0.0.1:8765/t/{ticket.token}"] == [printed.url]
    expected = render_ticket(printed, width_dots=576, include_qr=False)
    assert raster_image(commands).tobytes() == expected.tobytes()
    assert isinstance(printing(commands)[-1], Cut)


def test_printer_refusing_connections(make_kiosk, probe):
    with FakePrinter(mode="refuse") as dead:
        kiosk = make_kiosk(printer=PrinterSettings(uri=dead.uri))
        kiosk.tap_service("DN")
        kiosk.wait_screen(Screen.PRINTER_PROBLEM)
        page = kiosk.window.ticket
        assert page.number.text() == "B001" and page.qr.data.startswith("http://127.0.0.1:8765/t/")
        problem = "Máy in đang gặp sự cố – vui lòng chụp ảnh màn hình này hoặc liên hệ nhân viên"
        assert problem in page.status.text()
        kiosk.qtbot.waitUntil(lambda: probe.devices()["kiosk-sanh-1"]["printer_state"] == "offline")
        assert [t.number for t in probe.tickets()] == ["B001"]  # issued exactly once
        kiosk.tap(page.done)
        assert kiosk.window.printer_warning.isVisible()  # the next citizen is told before tapping
        with FakePrinter(port=dead.port) as back:  # switched on again: staff reprint
            kiosk.window.title._timer.setInterval(50)  # the 3 s hold, shortened
            kiosk.qtbot.mousePress(kiosk.window.title, Qt.MouseButton.LeftButton)
            kiosk.wait_screen(Screen.STAFF_PIN)
            kiosk.qtbot.mouseRelease(kiosk.window.title, Qt.MouseButton.LeftButton)
            for key in "1234":
                kiosk.tap(next(b for b in kiosk.window.pin.findChildren(type(page.done)) if b.text() == key))
            kiosk.tap(kiosk.window.pin.enter)
            assert kiosk.state.screen == Screen.STAFF
            kiosk.tap(kiosk.window.staff.reprint)
            kiosk.qtbot.waitUntil(lambda: kiosk.state.staff.message == "reprinted", timeout=8000)
            (_, commands), = print_jobs(back)
        assert raster_image(commands).tobytes() == render_ticket(kiosk.state.last_ticket.printed).tobytes()
        kiosk.qtbot.waitUntil(lambda: probe.devices()["kiosk-sanh-1"]["printer_state"] == "ok")
        assert len(probe.tickets()) == 1


def test_printer_out_of_paper(make_kiosk, probe):
    with FakePrinter(status=PAPER_OUT) as fake:
        kiosk = make_kiosk(printer=PrinterSettings(uri=fake.uri))
        kiosk.tap_service("GPLX")
        kiosk.wait_screen(Screen.PRINTER_PROBLEM)
        kiosk.qtbot.waitUntil(lambda: probe.devices()["kiosk-sanh-1"]["printer_state"] == "paper_out")
        assert print_jobs(fake) == []  # nothing sent to a printer without paper
    assert kiosk.state.issued.problem_vi == "Máy in đã hết giấy."
    assert [t.number for t in probe.tickets()] == ["M001"]


def test_a_hanging_printer_never_freezes_the_screen(make_kiosk, probe):
    with FakePrinter(mode="hang") as stuck:
        kiosk = make_kiosk(printer=PrinterSettings(uri=stuck.uri))
        ticks = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(50)
        kiosk.tap_service("THUE")
        kiosk.wait_screen(Screen.ISSUED, timeout=2000)
        assert kiosk.state.issued.phase == PrintPhase.PRINTING
        kiosk.wait_screen(Screen.PRINTER_PROBLEM, timeout=15000)
        timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 20 and max(gaps) < 0.5  # the event loop kept running while the printer hung
    assert [t.number for t in probe.tickets()] == ["P001"]


def test_printed_ticket_from_an_issue_result():
    site = p.SiteInfo(
        code="tinh", name="Trung tâm PVHCC tỉnh", centre_name="Trung tâm PVHCC tỉnh Ninh Bình",
        province="Tỉnh Ninh Bình", address="", notice="", timezone="Asia/Ho_Chi_Minh",
        public_url="http://10.0.0.5:8765", day=datetime(2026, 11, 25).date(), priority_classes=[],
        outcomes=[], rating=[], pause_reasons=[], late_window_minutes=15, transfer_position="front",
        announcement=p.AnnouncementView(template="", repeat=1, number_style="whole", thousand="nghìn",
                                        zero_tens="linh", voice="vi", rate=150, chime=False))
    service = p.ServiceView(code="DIEN", name_vi="Cấp điện", name_en="Electricity", agency="Điện lực",
                            counters=[13], issuing=True)
    ticket = p.TicketView(id="x", number="8001", service="DIEN", origin_service="DIEN", priority="elderly",
                          state="waiting", order=1, issued_at=datetime(2026, 11, 25, 6, 5, tzinfo=UTC))
    result = p.Result(ticket=ticket, ahead=4, estimated_wait_minutes=None, url="http://10.0.0.5:8765/t/abc")
    elderly = p.NamedOption(code="elderly", name_vi="Người cao tuổi", name_en="Senior")
    paper = printed_ticket(result, site, service, elderly)
    assert (paper.number, paper.service_name, paper.counters) == ("8001", "Cấp điện", (13,))
    assert paper.people_ahead == 4
    assert f"{paper.issued_at:%H:%M}" == "13:05" and paper.priority_label == "Người cao tuổi"
    assert paper.estimated_wait_minutes is None and paper.url.endswith("/t/abc")


def test_printer_settings_follow_the_server_unless_overridden():
    local = PrinterSettings(uri="none", width_dots=576, qr_mode="raster")
    device = p.DeviceView(id="k", name="K", kind="kiosk", site="tinh", printer="tcp://10.0.0.9:9100",
                          paper_width_mm=58, qr="native")
    assert local.with_device(device) == PrinterSettings("tcp://10.0.0.9:9100", 384, "native")
    assert local.with_device(device, "file:///tmp/x").uri == "file:///tmp/x"


def test_print_service_reports_instead_of_raising():
    outcomes: list[PrintOutcome] = []
    service = PrintService(PrinterSettings(uri="none"))
    service.check_status(outcomes.append)
    service.shutdown(wait=True)
    assert outcomes == [PrintOutcome(False, "disabled", "no printer configured")]
