"""Simulated citizens and clerks for the demo, speaking the real protocol.

Kiosk bots take numbers at random intervals; clerk bots at some counters call, serve and
finish them, with the odd absent citizen and one counter on a break, so the board, the
kiosk's waiting counts and the statistics have something to show. A few citizens book
appointments from their phones (the public socket) for the next slots of the example's
bookable services and check in at the kiosk, and one takes a commune number from the phone,
so the counters show appointment tickets and the report has bookings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from common import protocol as p
from common.cli_args import load_or_exit, server_url
from common.client import ClientError, Connection, Offline
from common.config import Config, Site

log = logging.getLogger("demo-traffic")

CLERK_BOTS = {  # site → [(user, counter)]: one clerk per counter, as the rules require
    "tinh": [("hung", 3), ("mai", 5), ("binh", 7), ("tuan", 9), ("linh", 10), ("dung", 11),
             ("son", 12), ("giang", 13), ("khanh", 14)],
    "giavien": [("nga", 2), ("thao", 3)],
}
PAUSED = {("tinh", 13): "Họp giao ban"}
OUTCOMES = ["received"] * 6 + ["guided"] * 3 + ["returned"] * 2
CITIZENS = [  # (name, phone): the demo's phone users; their CCCD numbers are drawn at random
    ("Lê Thị An", "0912345678"), ("Nguyễn Văn Bình", "0987654321"), ("Trần Thị Chi", "0355123456"),
    ("Phạm Văn Dũng", "0778123456"), ("Hoàng Thị Em", "0833123456"), ("Vũ Đức Hải", "0904123456"),
]
BOOKINGS_PER_SERVICE = 3  # booked for today's next slots; the first two also check in
CHECKED_IN = 2


def _ignore(message: p.ServerMessage) -> None:
    """Bots act on replies only; pushed updates are not needed."""


async def kiosk_bot(url: str, token: str, services: list[str], priorities: list[str],
                    mean_gap: float, burst: int, seed: int) -> None:
    async def login(conn: Connection) -> None:
        await conn.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=token))

    conn = Connection(url, login, _ignore)
    runner = asyncio.create_task(conn.run())
    rng = random.Random(seed)
    weights = [rng.randint(1, 6) for _ in services]
    for i in range(100000):
        await asyncio.sleep(0.15 if i < burst else rng.expovariate(1 / mean_gap))
        service = rng.choices(services, weights)[0]
        priority = rng.choice(priorities) if priorities and rng.random() < 0.15 else None
        with contextlib.suppress(ClientError):
            await conn.request(p.IssueTicket(
                service=service, priority=priority, idempotency_key=uuid.uuid4().hex))
    runner.cancel()


async def clerk_bot(url: str, user: str, site: str, counter: int, seed: int) -> None:
    async def login(conn: Connection) -> None:
        await conn.request(p.Login(v=p.PROTOCOL_VERSION, username=user, password="xephang"))
        await conn.request(p.SelectCounter(site=site, counter=counter))

    conn = Connection(url, login, _ignore)
    runner = asyncio.create_task(conn.run())
    try:
        await _serve_forever(conn, site, counter, random.Random(seed))
    finally:
        runner.cancel()


async def _serve_forever(conn: Connection, site: str, counter: int, rng: random.Random) -> None:
    await asyncio.sleep(2 + rng.random() * 4)
    if (site, counter) in PAUSED:
        with contextlib.suppress(ClientError):
            await conn.request(p.PauseCounter(reason=PAUSED[(site, counter)]))
        return
    while True:
        try:
            await conn.request(p.CallNext())
        except ClientError:
            await asyncio.sleep(4 + rng.random() * 4)
            continue
        try:
            await asyncio.sleep(3 + rng.random() * 5)
            if rng.random() < 0.07:
                await conn.request(p.MarkAbsent())
                continue
            await conn.request(p.StartService())
            await asyncio.sleep(rng.uniform(20, 70))
            await conn.request(p.Finish(outcome=rng.choice(OUTCOMES)))
        except ClientError:
            await asyncio.sleep(2)


def demo_cccd(rng: random.Random) -> str:
    """A well-formed CCCD number of Ninh Bình (province code 037), born 1960-1999."""
    return f"037{rng.choice('01')}{rng.randint(60, 99)}{rng.randint(0, 999999):06d}"


async def _until_answered(conn: Connection, message: p.ClientMessage) -> p.ServerMessage:
    """``message``'s reply, retried while the connection is still being made."""
    for _ in range(50):
        try:
            return await conn.request(message)
        except Offline:
            await asyncio.sleep(0.2)
    return await conn.request(message)


async def _no_login(conn: Connection) -> None:
    """The public socket is anonymous, as a citizen's phone."""


def _open(url: str, login: Callable[[Connection], Awaitable[None]]) -> tuple[Connection, asyncio.Task]:
    conn = Connection(url, login, _ignore)
    return conn, asyncio.create_task(conn.run())


async def appointment_bot(url: str, config: Config, site: Site, seed: int) -> None:
    """Citizens book today's next slots of the site's bookable services on the public socket
    (as the booking page does); the first ones check in at the site's first kiosk, whose
    tickets then wait for their slot with "hẹn HH:MM". A remote-only service gets one
    number for today from a phone. Refusals (a full slot, no slot left today) are skipped."""
    rng = random.Random(seed)
    phone, phone_task = _open(f"{url}/public", _no_login)

    async def kiosk_login(conn: Connection) -> None:
        await conn.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=site.kiosks[0].token))

    kiosk, kiosk_task = _open(url, kiosk_login)
    today = datetime.now(config.tz).date()
    try:
        await asyncio.sleep(0.5)  # the demo's screenshots are taken after 3 s
        for service in site.services:
            citizens = iter(rng.sample(CITIZENS, len(CITIZENS)))
            if service.booking.bookable:
                slots: p.ServerMessage | None = None
                with contextlib.suppress(ClientError):
                    slots = await _until_answered(phone, p.BookingSlotsRequest(
                        site=site.code, service=service.code, day=today))
                listed = slots.slots if isinstance(slots, p.BookingSlots) else []
                open_slots = [s.start for s in listed if s.left > 0]
                # the next slot's places, then a later one that stays booked
                wanted = [slot for slot in open_slots[:1] for _ in range(2)] + open_slots[2:3]
                for n, start in enumerate(wanted[:BOOKINGS_PER_SERVICE]):
                    name, number = next(citizens)
                    with contextlib.suppress(ClientError):
                        booking = await phone.request(p.Book(
                            site=site.code, service=service.code, start=start, name=name, phone=number,
                            cccd=demo_cccd(rng)))
                        if n < CHECKED_IN and isinstance(booking, p.BookingView):
                            await asyncio.sleep(0.2 + rng.random() / 2)  # walking from the door to the kiosk
                            await _until_answered(kiosk, p.CheckIn(
                                code=booking.code, idempotency_key=uuid.uuid4().hex))
            elif service.booking.remote_today:
                name, number = next(citizens)
                with contextlib.suppress(ClientError):
                    await _until_answered(phone, p.TakeRemote(
                        site=site.code, service=service.code, name=name, phone=number, cccd=demo_cccd(rng)))
    finally:
        phone_task.cancel()
        kiosk_task.cancel()


async def run(url: str, config_path: Path) -> None:
    config = load_or_exit(config_path)
    priorities = [c.code for c in config.queue.priority_classes]
    tasks = []
    for index, site in enumerate(config.sites):
        if site.kiosks:
            services = [s.code for s in site.services]
            gap = 6.0 if index == 0 else 20.0
            seed_burst = 28 if index == 0 else 8
            tasks.append(kiosk_bot(url, site.kiosks[0].token, services, priorities, gap, seed_burst, index))
            if any(s.booking.bookable or s.booking.remote_today for s in site.services):
                tasks.append(appointment_bot(url, config, site, seed=index))
        for n, (user, counter) in enumerate(CLERK_BOTS.get(site.code, [])):
            if site.counter(counter) is not None and config.user(user) is not None:
                tasks.append(clerk_bot(url, user, site.code, counter, seed=100 * index + n))
    await asyncio.gather(*tasks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xephang.demo_traffic")
    parser.add_argument("--server", type=server_url, required=True)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(f"{args.server}/ws", args.config))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
