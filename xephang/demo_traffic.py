"""Simulated citizens and clerks for the demo, speaking the real protocol.

Kiosk bots take numbers at random intervals; clerk bots at some counters call, serve and
finish them, with the odd absent citizen and one counter on a break, so the board, the
kiosk's waiting counts and the statistics have something to show.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import uuid
from pathlib import Path

from common import protocol as p
from common.cli_args import load_or_exit, server_url
from common.client import ClientError, Connection

log = logging.getLogger("demo-traffic")

CLERK_BOTS = {  # site → [(user, counter)]: one clerk per counter, as the rules require
    "tinh": [("hung", 3), ("mai", 5), ("binh", 7), ("tuan", 9), ("linh", 10), ("dung", 11),
             ("son", 12), ("giang", 13), ("khanh", 14)],
    "giavien": [("nga", 2), ("thao", 3)],
}
PAUSED = {("tinh", 13): "Họp giao ban"}
OUTCOMES = ["received"] * 6 + ["guided"] * 3 + ["returned"] * 2


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
