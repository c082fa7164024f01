"""Fixtures and helpers for the kiosk's Qt tests: the real window against the live server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from common.qt_theme import install_fonts
from kiosk.cli import SIZES, KioskApp
from kiosk.printing import PrinterSettings
from kiosk.state import KioskSettings, Screen
from kiosk.view_widgets import ServiceTile
from tests.helpers import KIOSK_TOKEN

FAST = KioskSettings(status_interval_seconds=0)  # no background printer polls in tests

KioskFactory = Callable[..., KioskApp]


@pytest.fixture
def make_kiosk(qtbot, qapp: QApplication, live_server) -> Iterator[KioskFactory]:
    """``make_kiosk(printer=..., settings=..., orientation=...)``: a started kiosk on its home screen."""
    install_fonts(qapp)
    apps: list[KioskApp] = []

    def make(*, printer: PrinterSettings | None = None, settings: KioskSettings = FAST,
             orientation: str = "portrait", token: str = KIOSK_TOKEN, wait_home: bool = True) -> KioskApp:
        app = KioskApp(url=live_server.url, token=token, printer=printer or PrinterSettings(),
                       printer_override=printer is not None, settings=settings)
        apps.append(app)
        qtbot.addWidget(app.window)
        app.window.setFixedSize(*SIZES[orientation])  # a layout that does not fit shows, not grows
        app.window.show()
        app.start()
        if wait_home:
            qtbot.waitUntil(lambda: app.state.screen == Screen.HOME, timeout=5000)
        return app

    yield make
    for app in apps:
        app.stop()


def tile(app: KioskApp, code: str) -> ServiceTile:
    return app.window.home.tiles[code]


def tap(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def server_tickets(live_server, site: str = "tinh") -> list:
    return live_server.call(lambda s: sorted(s.states[site].tickets.values(), key=lambda t: t.order))


def device_rows(live_server) -> dict[str, dict]:
    async def query(server):
        rows = await server._db(lambda: list(server.store.db.query("select * from devices")))
        return {row["id"]: row for row in rows}

    return live_server.call(query)


def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $XEPHANG_SCREENSHOTS (e.g. docs/screenshots), else a temp dir."""
    target = Path(os.environ.get("XEPHANG_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target
