"""The real kiosk window (offscreen) against a live server: what a citizen can do with it."""

from __future__ import annotations

import pytest

from kiosk.printing import PrinterSettings
from kiosk.state import PrintPhase, Screen
from server.core import commands as c
from tests.kiosk_fixtures import make_kiosk, screenshot_dir, tap, tile  # noqa: F401
from tests.printer_fake import FakePrinter

pytestmark = pytest.mark.gui

SEED = {"TP": 12, "DN": 5, "XD": 3, "DD": 8, "YT": 1, "LD": 6, "GPLX": 21, "BHXH": 9, "THUE": 4, "KQ": 2}


def seed_queue(live_server, counts: dict[str, int] = SEED) -> None:
    """Tickets issued by another kiosk, so the tiles show real waiting counts."""

    async def issue(server):
        for code, count in counts.items():
            for i in range(count):
                await server.submit("tinh", c.IssueTicket(
                    actor="kiosk-sanh-2", device="kiosk-sanh-2", service=code, priority=None,
                    idempotency_key=f"seed-{code}-{i}", token=server.new_ticket_token()))

    live_server.call(issue)


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_screenshots(make_kiosk, live_server, qtbot, tmp_path, orientation):
    out = screenshot_dir(tmp_path)
    seed_queue(live_server)
    with FakePrinter() as good, FakePrinter(mode="refuse") as bad:
        app = make_kiosk(printer=PrinterSettings(uri=good.uri), orientation=orientation)
        state, window = app.state, app.window
        qtbot.waitUntil(lambda: tile(app, "TP").content.status.endswith("12"), timeout=5000)

        def shot(name: str) -> None:
            qtbot.wait(50)
            assert window.grab().save(str(out / f"kiosk-{name}-{orientation}.png"))

        shot("home")
        tap(qtbot, window.home.entry)
        assert state.screen == Screen.PRIORITY
        shot("priority")
        tap(qtbot, window.priority.buttons["elderly"])
        assert state.screen == Screen.PRIORITY_SERVICES
        shot("priority-service")
        tap(qtbot, tile(app, "TP"))
        qtbot.waitUntil(lambda: state.issued is not None and state.issued.phase == PrintPhase.PRINTED,
                        timeout=5000)
        shot("issued")
        tap(qtbot, window.ticket.done)
        assert state.screen == Screen.HOME
        app.printing.configure(PrinterSettings(uri=bad.uri))
        tap(qtbot, tile(app, "GPLX"))
        qtbot.waitUntil(lambda: state.screen == Screen.PRINTER_PROBLEM, timeout=5000)
        shot("printer-problem")
