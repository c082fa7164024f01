"""A kiosk or display started with only the server's address (issue 13): the real apps
(offscreen) against a real server. It shows a pairing code; a manager approves it the way the
devices page does (``admin_change`` ``device_approve`` over a websocket); the device keeps its
own credential — and nothing else — in a private file, logs in and works; revoked, it says so
and shows a new code."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bench.printer_fake import FakePrinter
from common import device_credential
from common.config import load_config
from common.device_enrollment import DeviceEnrollment
from common.pairing_state import PairingPhase
from common.qt_theme import install_fonts
from display.app import DisplayApp
from display.board_state import BoardState
from display.view_board import BoardView
from kiosk.app import SIZES, KioskApp
from kiosk.print_service import PrinterSettings
from kiosk.state import Screen
from tests.helpers import PASSWORD, RawClient

pytest_plugins = ["tests.kiosk_fixtures"]
pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parent.parent
WAIT = 10_000  # ms; a revoked device reconnects with backoff (at most 3 s)


def manager_change(live_server: Any, change: dict[str, Any], thing: str | None = None,
                   expect: str = "result") -> dict[str, Any]:
    """What the devices page sends: the manager's websocket, one ``admin_change``."""

    async def send(_server: Any) -> dict[str, Any]:
        boss = await RawClient.open(live_server.url)
        try:
            await boss.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD,
                                "web_session": True}, expect="welcome")
            base = None
            if thing is not None:
                settings = await boss.request({"type": "read_settings"}, expect="settings")
                base = settings["fingerprints"][thing]
            return await boss.request({"type": "admin_change", "base": base, "change": change}, expect=expect)
        finally:
            await boss.close()

    return live_server.call(send)


def approve(live_server: Any, code: str, device_id: str, **settings: Any) -> dict[str, Any]:
    change = {"kind": "device_approve", "code": code, "site": "tinh", "id": device_id, "name": "Kiosk tầng 2"}
    return manager_change(live_server, {**change, **settings})


def revoke(live_server: Any, device_id: str) -> dict[str, Any]:
    return manager_change(live_server, {"kind": "device_revoke", "site": "tinh", "id": device_id},
                          thing=f"device:tinh:{device_id}")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The device account's home: $HOME and $XDG_CONFIG_HOME point into it, so whatever the
    app writes there is found (and nothing is written to the real home)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


@pytest.fixture
def new_kiosk(qtbot, qapp, live_server, home):
    """``new_kiosk(printer=...)`` → a KioskDriver for a kiosk with no credential yet."""
    from tests.kiosk_fixtures import FAST, KioskDriver  # once pytest has loaded it as a plugin

    install_fonts(qapp)
    apps: list[KioskApp] = []

    def make(*, printer: PrinterSettings | None = None, orientation: str = "portrait") -> Any:
        path = device_credential.default_path("kiosk")
        enrollment = DeviceEnrollment("kiosk", path, device_credential.load(path, "kiosk"))
        app = KioskApp(url=live_server.url, enrollment=enrollment, printer=printer or PrinterSettings(),
                       printer_override=printer is not None, settings=FAST)
        apps.append(app)
        qtbot.addWidget(app.screen)
        app.screen.setFixedSize(*SIZES[orientation])
        app.screen.show()
        app.start()
        return KioskDriver(app, qtbot)

    yield make
    for app in apps:
        app.stop()


def shown_code(driver: Any) -> str:
    assert driver.app.enrollment is not None
    pairing = driver.app.enrollment.state
    driver.qtbot.waitUntil(lambda: pairing.phase is PairingPhase.SHOWING, timeout=WAIT)
    return pairing.code


def test_a_new_kiosk_pairs_prints_and_keeps_only_its_own_credential(new_kiosk, live_server, probe, home):
    with FakePrinter() as printer:
        kiosk = new_kiosk()
        frame = kiosk.app.frame
        assert frame is not None and frame.currentWidget() is frame.pairing_screen
        code = shown_code(kiosk)
        screen = frame.pairing_screen
        assert screen.code.text() == f"{code[:3]} {code[3:]}" and screen.code.isVisible()
        assert screen.heading.text() == "Thiết bị mới — mã ghép nối:"
        assert screen.where.text() == "Người quản lý nhập mã này tại Quản trị → Thiết bị → Ghép nối"
        assert screen.status.text() == "Mã còn hiệu lực 10 phút; hết hạn sẽ có mã mới."
        assert not home.joinpath(".config").exists()  # nothing written before it is paired

        done = approve(live_server, code.lower(), "kiosk-tang-2", printer=printer.uri, paper_width_mm=58,
                       qr="native")
        assert done["version"] >= 2
        kiosk.wait_screen(Screen.HOME, timeout=WAIT)
        assert frame.currentWidget() is kiosk.window
        # Its printer settings came from the server (the welcome's DeviceView).
        expected = PrinterSettings(uri=printer.uri, width_dots=384, qr_mode="native")
        assert kiosk.app.printer.settings == expected
        kiosk.tap_service("TP")
        kiosk.wait_screen(Screen.ISSUED)
        kiosk.qtbot.waitUntil(lambda: len(kiosk.state.printing.times_ms) >= 1, timeout=WAIT)
    (ticket,) = probe.tickets()
    assert ticket.issued_by == "kiosk-tang-2"

    # What the paired kiosk wrote: its credential, private, and nothing any other account may read.
    path = home / ".config" / "xephang" / "kiosk.json"
    assert files_under(home) == [path]
    assert mode(path) == 0o600 and mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    credential = device_credential.load(path, "kiosk")
    assert credential is not None
    assert (credential.server, credential.device, credential.site) == (
        live_server.url, "kiosk-tang-2", "tinh")
    text = path.read_text(encoding="utf-8")
    config = load_config(ROOT / "assets" / "config" / "example.toml")
    hashes = [user.password_hash for user in config.users]
    other_tokens = [d.token for site in config.sites for d in [*site.kiosks, *site.displays]]
    assert hashes and other_tokens
    assert not any(secret in text for secret in [*hashes, *other_tokens])
    assert "$argon2" not in text and "password" not in text
    assert set(json.loads(text)) == {"server", "kind", "device", "site", "token"}
    stored = live_server.call(
        lambda s: [k.token for k in s.config.site("tinh").kiosks if k.id == "kiosk-tang-2"])
    assert stored == [credential.token]  # the only secret in it is this kiosk's own


def test_a_paired_kiosk_restarts_logged_in_and_a_revoked_one_pairs_again(new_kiosk, live_server, probe, home):
    first = new_kiosk()
    approve(live_server, shown_code(first), "kiosk-tang-3")
    first.wait_screen(Screen.HOME, timeout=WAIT)
    first.app.stop()
    path = home / ".config" / "xephang" / "kiosk.json"
    assert path.exists()

    kiosk = new_kiosk()  # the same account starts the kiosk again: no code, straight to work
    assert kiosk.app.enrollment is not None and not kiosk.app.enrollment.state.pairing
    kiosk.wait_screen(Screen.HOME, timeout=WAIT)
    kiosk.tap_service("DN")
    kiosk.wait_screen(Screen.ISSUED)
    assert [t.issued_by for t in probe.tickets()] == ["kiosk-tang-3"]

    revoke(live_server, "kiosk-tang-3")
    frame = kiosk.app.frame
    assert frame is not None
    code = shown_code(kiosk)
    assert frame.currentWidget() is frame.pairing_screen
    assert frame.pairing_screen.notice.text() == "Thiết bị này đã bị thu hồi quyền kết nối: cần ghép nối lại."
    assert frame.pairing_screen.notice.isVisible()
    assert not path.exists()  # the revoked credential is gone
    approve(live_server, code, "kiosk-tang-4")
    kiosk.qtbot.waitUntil(lambda: frame.currentWidget() is kiosk.window, timeout=WAIT)
    assert device_credential.load(path, "kiosk").device == "kiosk-tang-4"


def test_an_expired_code_is_replaced_and_a_lost_link_brings_a_fresh_one(new_kiosk, live_server):
    kiosk = new_kiosk()
    code = shown_code(kiosk)
    pairing = kiosk.app.enrollment.state
    pairing.expires = pairing.clock() - 1  # as if ten minutes had passed
    kiosk.qtbot.waitUntil(lambda: pairing.code not in ("", code), timeout=WAIT)
    second = pairing.code
    live_server.stop()
    kiosk.qtbot.waitUntil(lambda: pairing.phase is PairingPhase.CONNECTING, timeout=WAIT)
    assert kiosk.app.frame.pairing_screen.status.text().startswith("Đang kết nối máy chủ ws://127.0.0.1:")
    assert not kiosk.app.frame.pairing_screen.code.isVisible()
    live_server.start()
    third = shown_code(kiosk)
    assert third != second  # the server forgot the code with the connection: a new one
    for old in (code, second):  # replaced, and dropped with its connection
        refused = manager_change(live_server, {"kind": "device_approve", "code": old, "site": "tinh",
                                               "id": "kiosk-x", "name": "x"}, expect="error")
        assert refused["code"] == "unknown_pairing_code"


def test_a_new_display_pairs_and_shows_the_board(qtbot, qapp, live_server, home):
    install_fonts(qapp)
    from common.i18n import Translator

    path = device_credential.default_path("display")
    enrollment = DeviceEnrollment("display", path)
    board = BoardState()
    app = DisplayApp(url=live_server.url, enrollment=enrollment, board=board,
                     view=lambda display: BoardView(display, Translator("display", "vi")))
    qtbot.addWidget(app.screen)
    app.screen.resize(1366, 768)
    app.screen.show()
    app.start()
    try:
        qtbot.waitUntil(lambda: enrollment.state.phase is PairingPhase.SHOWING, timeout=WAIT)
        manager_change(live_server, {"kind": "device_approve", "code": enrollment.state.code, "site": "tinh",
                                     "id": "tv-tang-3", "name": "TV tầng 3", "counters": [1, 2],
                                     "services": ["TP"]})
        qtbot.waitUntil(lambda: board.ready and app.frame.currentWidget() is app.window, timeout=WAIT)
        assert board.device is not None and board.device.id == "tv-tang-3"
        assert board.device.counters == [1, 2]
        credential = device_credential.load(path, "display")
        assert credential is not None and credential.kind == "display" and mode(path) == 0o600
    finally:
        app.stop()


# -- the command line ---------------------------------------------------------------------------


def run_app(app: str, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "cfg")}
    env.pop("XEPHANG_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "xephang.cli", app, *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env=env)


@pytest.mark.parametrize("app", ["kiosk", "display"])
def test_the_command_line_with_only_the_server_shows_the_pairing_screen(app, live_server, tmp_path, shots):
    name = "kiosk-pairing-portrait.png" if app == "kiosk" else "display-pairing.png"
    size = ["--portrait"] if app == "kiosk" else ["--size", "1920x1080", "--mute"]
    target = shots / name
    result = run_app(app, tmp_path, "--server", live_server.url.removesuffix("/ws"), *size,
                     "--screenshot", str(target))
    assert result.returncode == 0, result.stderr
    assert Image.open(target).size == ((1080, 1920) if app == "kiosk" else (1920, 1080))
    assert "pairing code" in result.stderr
    assert not (tmp_path / "cfg").exists()


def test_the_command_line_explains_what_it_needs(tmp_path):
    result = run_app("kiosk", tmp_path, "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "not paired yet" in result.stderr and "--server" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{\"token\": 1}")
    shot = str(tmp_path / "x.png")
    result = run_app("display", tmp_path, "--credential", str(broken), "--screenshot", shot)
    assert result.returncode == 2 and "not a device credential" in result.stderr
    kiosk_file = tmp_path / "kiosk.json"
    device_credential.save(kiosk_file, device_credential.DeviceCredential(
        server="ws://127.0.0.1:9/ws", kind="kiosk", device="k", site="tinh", token="t" * 24))
    result = run_app("display", tmp_path, "--credential", str(kiosk_file), "--screenshot", shot)
    assert result.returncode == 2 and "a kiosk's credential, not a display's" in result.stderr
    assert "Traceback" not in result.stderr
