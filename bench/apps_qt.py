"""The apps' own latencies, measured on the real Qt apps against a running server.

``python -m bench.apps_qt --url WS --kiosk-token T --display-token T --clerk USER:PASS:SITE:N
--password P --out FILE.json`` (started by ``bench.apps`` with the offscreen platform):

* kiosk: a tap on a service tile of the real ``KioskApp`` (window shown, QtConnection,
  PrintService) → the ticket's ESC/POS job fully received by a loopback TCP printer (the
  test suite's ``FakePrinter``, which answers status queries like a real Epson);
* display: a call reaching the real ``DisplayState`` (QtConnection, BoardState,
  espeak-ng announcer, QtPlayer) → the player playing: the chime first, then the spoken
  sentence, rendered cold (a number never spoken) or from the phrase cache (a recall).

Everything runs on one monotonic clock. The machine may have no sound card: QtMultimedia
then plays silently in real time, so "playing" is the player's own state.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("bench.apps")


def wait_until(app: Any, predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
    return True


# -- kiosk ----------------------------------------------------------------------------------


def measure_kiosk(app: Any, url: str, token: str, taps: int) -> dict[str, Any]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from bench.printer_fake import FakePrinter
    from kiosk.app import SIZES, KioskApp
    from kiosk.print_service import PrinterSettings
    from kiosk.state import KioskSettings, Screen

    class TimedPrinter(FakePrinter):
        """Stamps each finished job (the kiosk closes the connection after the job and
        the status read that confirms it)."""

        def __init__(self) -> None:
            super().__init__()
            self.finished_at: list[float] = []

        def _finish(self, data: bytes) -> None:
            self.finished_at.append(time.monotonic())
            super()._finish(data)

    printer = TimedPrinter()
    printer.start()
    kiosk = KioskApp(url=url, token=token, printer_override=True,
                     printer=PrinterSettings(uri=printer.uri, width_dots=576, qr_mode="raster"),
                     settings=KioskSettings(status_interval_seconds=0))
    replies: list[float] = []  # when each ticket reached the state (the server's answer)
    shown: list[str] = []

    def stamp() -> None:
        issued = kiosk.state.issued
        if issued is not None and (not shown or shown[-1] != issued.ticket.id):
            shown.append(issued.ticket.id)
            replies.append(time.monotonic())

    kiosk.state.changed.connect(stamp)
    kiosk.window.setFixedSize(*SIZES["portrait"])
    kiosk.window.show()
    kiosk.start()
    try:
        if not wait_until(app, lambda: kiosk.state.screen == Screen.HOME and kiosk.state.ready, 30):
            return {"skipped": "the kiosk did not reach its home screen"}
        code = next(s.code for s in kiosk.state.services if s.issuing)
        total, reply, bytes_out = [], [], []
        for _ in range(taps):
            wait_until(app, lambda: kiosk.state.screen == Screen.HOME and kiosk.state.ready)
            jobs = len(printer.finished_at)
            tile = kiosk.window.home.tiles[code]
            t0 = time.monotonic()
            QTest.mouseClick(tile, Qt.MouseButton.LeftButton)
            if not wait_until(app, lambda jobs=jobs: len(printer.finished_at) > jobs, 10):
                return {"skipped": "a ticket did not reach the printer"}
            t1 = printer.finished_at[-1]
            total.append(t1 - t0)
            reply.append(replies[-1] - t0)
            bytes_out.append(len(printer.jobs[-1]))
            wait_until(app, lambda: kiosk.state.screen != Screen.ISSUING, 5)
            kiosk.state.back()
        return {"taps": taps, "total": total, "reply": reply, "job_bytes": bytes_out,
                "printing_ms": list(kiosk.state.printing.times_ms)}
    finally:
        kiosk.stop()
        printer.stop()


# -- display --------------------------------------------------------------------------------


class _Clerk(threading.Thread):
    """A counter clerk on a plain websocket, in its own thread: calls on request."""

    def __init__(self, url: str, user: str, password: str, site: str, counter: int) -> None:
        super().__init__(daemon=True)
        self.url, self.user, self.password, self.site, self.counter = url, user, password, site, counter
        self.orders: queue.Queue[str | None] = queue.Queue()
        self.done: queue.Queue[dict[str, Any]] = queue.Queue()

    def run(self) -> None:
        from websockets.sync.client import connect

        with connect(self.url, max_size=None) as ws:
            ids = iter(range(1, 1_000_000))

            def request(payload: dict[str, Any]) -> dict[str, Any]:
                rid = str(next(ids))
                ws.send(json.dumps({**payload, "id": rid}))
                while True:
                    message = json.loads(ws.recv(timeout=15))
                    if message.get("re") == rid:
                        return message

            request({"type": "login", "v": 1, "username": self.user, "password": self.password})
            request({"type": "select_counter", "site": self.site, "counter": self.counter})
            while (order := self.orders.get()) is not None:
                self.done.put(request({"type": order} if order != "finish" else
                                      {"type": "finish", "outcome": "received"}))


def measure_display(app: Any, url: str, token: str, clerk: _Clerk, calls: int,
                    cache_dir: Path) -> dict[str, Any]:
    from common.qt_client import QtConnection, device_login
    from display.app import qt_announcer
    from display.board_state import BoardState
    from display.state import DisplayState

    display = DisplayState(BoardState())
    connection = QtConnection(url, device_login(token))
    announcer = qt_announcer(cache_dir=cache_dir)(display)
    display.set_announcer(announcer)
    player = announcer.player  # the QtPlayer
    received: list[float] = []
    plays: list[tuple[float, str]] = []  # (when play() was called, path)
    playing: dict[int, float] = {}  # play index → when the QMediaPlayer's position first moved
    listening: list[int] = []  # the play whose first position we wait for (at most one)
    original_play = player.play

    def on_message(message: Any) -> None:
        if getattr(message, "calls", None):
            received.append(time.monotonic())
        display.on_message(message)

    def play(path: Path, on_finished: Callable[[], None]) -> None:
        plays.append((time.monotonic(), str(path)))
        listening[:] = [len(plays) - 1]
        original_play(path, on_finished)

    def position_changed(position: int) -> None:
        # The first advance of the position after a play(): audio is actually flowing (the
        # PlayingState signal comes at once, before the file is even opened).
        if position > 0 and listening:
            playing[listening.pop()] = time.monotonic()

    connection.message.connect(on_message)
    connection.status_changed.connect(display.on_status)
    player.play = play  # type: ignore[method-assign]
    player.media.positionChanged.connect(position_changed)
    connection.start()
    results: list[dict[str, Any]] = []
    try:
        if not wait_until(app, lambda: display.board.snapshots > 0, 30):
            return {"skipped": "the display got no snapshot"}
        for chime in (True, False):
            if not chime:  # the centre's setting, overridden here: the sentence comes first
                announcer.update_settings(dataclasses.replace(announcer.settings, chime=False))
            for _ in range(calls):
                for order, kind in (("call_next", "cold"), ("recall", "cached")):
                    entry = _one_call(app, clerk, order, received, plays, playing, 2 if chime else 1)
                    if "skipped" in entry:
                        return entry
                    results.append({"kind": kind, "chime": chime, **entry})
                    _cut_short(app, announcer, player, listening)
                clerk.orders.put("finish")
                clerk.done.get(timeout=15)
        synth = _synthesis_times(cache_dir)
        return {"calls": results, "synthesis": synth}
    finally:
        display.close()
        connection.stop()


def _cut_short(app: Any, announcer: Any, player: Any, listening: list[int]) -> None:
    """End the announcement once timed (its repeats would take seconds of real time)."""
    deadline = time.monotonic() + 30
    while not announcer.idle and time.monotonic() < deadline:
        listening.clear()  # the cut clips' positions are not measured
        player.cut()
        app.processEvents()


def _one_call(app: Any, clerk: _Clerk, order: str, received: list[float],
              plays: list[tuple[float, str]], playing: dict[int, float], steps: int) -> dict[str, Any]:
    """Have the clerk call (or recall); time the display's chime (if any) and sentence."""
    n_received, n_plays = len(received), len(plays)
    speech = n_plays + steps - 1  # the sentence is the last step
    clerk.orders.put(order)
    reply = clerk.done.get(timeout=15)
    if reply.get("type") != "result":
        return {"skipped": f"the clerk's {order} was refused: {reply.get('code')}"}
    if not wait_until(app, lambda: n_plays in playing and speech in playing, 30):
        return {"skipped": "the announcement did not play"}
    t0 = received[n_received]
    return {
        "first_sound": playing[n_plays] - t0,
        "speech_play_called": plays[speech][0] - t0,
        "speech_playing": playing[speech] - t0,
        "chime_seconds": plays[n_plays + 1][0] - plays[n_plays][0] if steps == 2 else 0.0,
    }


def _synthesis_times(cache_dir: Path) -> dict[str, float]:
    """espeak-ng on its own: a phrase never rendered, then the same one from the cache."""
    from display.speech import EspeakSynthesizer

    synth = EspeakSynthesizer(cache_dir / "direct")
    text = "Xin mời công dân có số thứ tự một nghìn không trăm hai mươi ba đến quầy số mười lăm"
    t0 = time.monotonic()
    synth.synthesize(text)
    t1 = time.monotonic()
    synth.synthesize(text)
    t2 = time.monotonic()
    return {"cold": t1 - t0, "cached": t2 - t1}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.apps_qt")
    parser.add_argument("--url", required=True)
    parser.add_argument("--kiosk-token", required=True)
    parser.add_argument("--display-token", required=True)
    parser.add_argument("--clerk", required=True, help="USER:SITE:COUNTER")
    parser.add_argument("--password", required=True)
    parser.add_argument("--taps", type=int, default=10)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="apps %(levelname)s %(name)s %(message)s")

    from PySide6.QtWidgets import QApplication

    from common.qt_theme import install_fonts

    app = QApplication(["xephang-bench"])
    install_fonts(app)
    user, site, counter = args.clerk.split(":")
    results: dict[str, Any] = {}
    results["kiosk"] = measure_kiosk(app, args.url, args.kiosk_token, args.taps)
    clerk = _Clerk(args.url, user, args.password, site, int(counter))
    clerk.start()
    try:
        results["display"] = measure_display(app, args.url, args.display_token, clerk, args.calls,
                                             args.cache)
    finally:
        clerk.orders.put(None)
    args.out.write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
