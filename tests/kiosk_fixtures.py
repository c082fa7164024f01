"""Fixtures for the kiosk's Qt tests: the real window against the live server.

Test modules load this with ``pytest_plugins = ["tests.kiosk_fixtures"]`` and use the
fixtures only: ``make_kiosk`` (a started kiosk, driven through ``KioskDriver``),
``probe`` (what the server holds) and ``shots`` (where screenshots go).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from common.qt_theme import install_fonts
from kiosk.app import SIZES, KioskApp
from kiosk.print_service import PrinterSettings
from kiosk.state import KioskSettings, Screen
from kiosk.view_widgets import ServiceTile
from server.core import commands as c
from tests.helpers import KIOSK_TOKEN

FAST = KioskSettings(status_interval_seconds=0)  # no background printer polls in tests


class KioskDriver:
    """A running kiosk and the gestures a citizen makes on it."""

    def __init__(self, app: KioskApp, qtbot: Any) -> None:
        self.app, self.qtbot = app, qtbot
        self.state, self.window = app.state, app.window

    def tile(self, code: str) -> ServiceTile:
        return self.window.home.tiles[code]

    def tap(self, widget: QWidget) -> None:
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def tap_service(self, code: str) -> None:
        self.tap(self.tile(code))

    def wait_screen(self, screen: Screen, timeout: int = 5000) -> None:
        self.qtbot.waitUntil(lambda: self.state.screen == screen, timeout=timeout)

    def grab(self, path: Path) -> None:
        self.qtbot.wait(30)  # let pending paints land
        assert self.window.grab().save(str(path))


@pytest.fixture
def make_kiosk(qtbot, qapp: QApplication, live_server) -> Iterator[Any]:
    """``make_kiosk(printer=..., settings=..., orientation=...)`` → a KioskDriver on its home screen."""
    install_fonts(qapp)
    apps: list[KioskApp] = []

    def make(*, printer: PrinterSettings | None = None, settings: KioskSettings = FAST,
             orientation: str = "portrait", token: str = KIOSK_TOKEN, wait_home: bool = True) -> KioskDriver:
        app = KioskApp(url=live_server.url, token=token, printer=printer or PrinterSettings(),
                       printer_override=printer is not None, settings=settings)
        apps.append(app)
        qtbot.addWidget(app.window)
        app.window.setFixedSize(*SIZES[orientation])  # a layout that does not fit shows, not grows
        app.window.show()
        app.start()
        driver = KioskDriver(app, qtbot)
        if wait_home:
            driver.wait_screen(Screen.HOME)
        return driver

    yield make
    for app in apps:
        app.stop()


class ServerProbe:
    """Reads (and seeds) the live server's state from the test thread."""

    def __init__(self, live_server: Any) -> None:
        self.live = live_server

    def tickets(self, site: str = "tinh") -> list:
        return self.live.call(lambda s: sorted(s.states[site].tickets.values(), key=lambda t: t.order))

    def devices(self) -> dict[str, dict]:
        async def query(server):
            rows = await server.run_db(lambda: list(server.store.db.query("select * from devices")))
            return {row["id"]: row for row in rows}

        return self.live.call(query)

    def seed(self, counts: dict[str, int], site: str = "tinh", device: str = "kiosk-sanh-2") -> None:
        """Tickets issued by another kiosk, so the tiles show real waiting counts."""

        async def issue(server):
            for code, count in counts.items():
                for i in range(count):
                    await server.submit(site, c.IssueTicket(
                        actor=device, device=device, service=code, priority=None,
                        idempotency_key=f"seed-{code}-{i}", token=secrets.token_urlsafe(16)))

        self.live.call(issue)

    def tick(self) -> None:
        self.live.call(lambda s: s.tick())


@pytest.fixture
def probe(live_server) -> ServerProbe:
    return ServerProbe(live_server)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $XEPHANG_SCREENSHOTS (e.g. docs/screenshots), else a temp dir."""
    target = Path(os.environ.get("XEPHANG_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target
