"""A real server for the booking pages' tests: the example centre at 08:00 on Wednesday
25/11/2026 with appointments and remote numbers turned on for a few services."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import msgspec
from websockets.sync.client import connect

from common.config import Booking, Config
from tests.helpers import FakeClock, ThreadedServer, example_config, local_time, walk_in_only

BOOKING_RULES = {
    ("tinh", "TP"): Booking(bookable=True, remote_today=True, places_per_slot=4, walk_in_share=0.5),
    ("tinh", "DD"): Booking(bookable=True, slot_minutes=60),
    ("tinh", "GPLX"): Booking(remote_today=True),
    ("giavien", "HT"): Booking(bookable=True),
}


def booking_config() -> Config:
    """The example centre with appointments for exactly the services of ``BOOKING_RULES``
    (the example's own booking settings replaced: these tests choose theirs)."""
    config = walk_in_only(example_config())
    sites = []
    for site in config.sites:
        services = [msgspec.structs.replace(s, booking=BOOKING_RULES[(site.code, s.code)])
                    if (site.code, s.code) in BOOKING_RULES else s for s in site.services]
        sites.append(msgspec.structs.replace(site, services=services))
    return msgspec.structs.replace(config, sites=sites)


class BookingServer:
    def __init__(self, tmp: Path) -> None:
        self.clock = FakeClock(local_time(2026, 11, 25, 8, 0))
        self.threaded = ThreadedServer(booking_config(), tmp / "xephang.db", self.clock)
        self.threaded.start()
        self.ws_url = self.threaded.url
        self.base = self.ws_url.removesuffix("/ws").replace("ws://", "http://")

    def public(self, message: dict) -> dict:
        """One request on the public websocket, as a phone sends it."""
        with connect(self.ws_url + "/public") as ws:
            ws.send(json.dumps({"id": "t", **message}))
            while True:
                reply = json.loads(ws.recv(timeout=10))
                if reply.get("re") == "t":
                    return reply

    def get(self, path: str, cookie: str | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        """A plain GET: status, headers, body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.threaded.harness.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def close(self) -> None:
        self.threaded.close()
