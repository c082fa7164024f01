"""The booking phase's load, inside a load-generator process (bench.loadgen's Worker calls
these): anonymous citizens on ``/ws/public`` read a day's slots, then rush to book them.

A client is one phone's connection; it plays its people one after another, and each person
makes its attempts one after another (as a person clicks "book" again after "slot full").
The crowd draws among all but the last ``BROKER_SLOTS`` slots, the earliest most wanted
(weight 1/rank: everybody wants the morning). Brokers (người "cò" holding one CCCD number
for many bookings) draw among the last slots, from several phones at once: their
concurrent attempts with one number are what the per-person limit must hold against.
Every attempt's latency is kept, accepted or refused.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.loadgen import Client


BROKER_SLOTS = 2  # the last slots of the day, left to the brokers


def person(index: int, attempts: int, *, broker: bool = False, phone: int = 0) -> dict[str, Any]:
    """A citizen of the rush: a CCCD number of the right shape (Hà Nội's province code 001,
    born in the 1900s), a mobile number, a name; all unique by ``index`` (a broker's phones
    share its number)."""
    return {"cccd": f"0010{80 + index % 20:02d}{index:06d}", "phone": f"09{index:08d}",
            "name": "Nguyen Van An", "attempts": attempts, "seed": index * 100 + phone, "broker": broker}


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def slot_reads(clients: list[Client], reads: int, site: str, service: str, day: str,
                     start: float) -> dict[str, Any]:
    """The baseline: ``reads`` ``booking_slots`` requests, spread over the clients, each
    client in a closed loop from ``start``."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    from bench.loadgen import Refused

    async def loop(client: Client, count: int) -> None:
        await _sleep_until(start)
        for _ in range(count):
            t0 = time.monotonic()
            try:
                await client.request({"type": "booking_slots", "site": site, "service": service, "day": day})
            except Refused as exc:
                errors[exc.code] += 1
                continue
            latencies.append(time.monotonic() - t0)

    shares = [reads // len(clients) + (i < reads % len(clients)) for i in range(len(clients))]
    await asyncio.gather(*(loop(c, n) for c, n in zip(clients, shares, strict=True)))
    return {"latencies": latencies, "errors": dict(errors)}


async def rush(clients: list[Client], people: list[dict[str, Any]], site: str, service: str,
               starts: list[str], start: float) -> dict[str, Any]:
    """Every person's attempts, the clients at once from ``start``; returns each attempt's
    latency, the accepted bookings (code, CCCD, slot) and the refusals by code."""
    from bench.loadgen import Refused

    latencies: list[float] = []
    accepted: list[tuple[str, str, str]] = []
    errors: Counter[str] = Counter()
    crowd_slots, broker_slots = starts[:-BROKER_SLOTS], starts[-BROKER_SLOTS:]
    weights = [1 / (rank + 1) for rank in range(len(crowd_slots))]
    finished: list[float] = []

    async def loop(client: Client, mine: list[dict[str, Any]]) -> None:
        await _sleep_until(start)
        for who in mine:
            chooser = random.Random(who["seed"])
            for _ in range(who["attempts"]):
                slot = (chooser.choice(broker_slots) if who["broker"]
                        else chooser.choices(crowd_slots, weights)[0])
                t0 = time.monotonic()
                try:
                    reply = await client.request({
                        "type": "book", "site": site, "service": service, "start": slot,
                        "name": who["name"], "phone": who["phone"], "cccd": who["cccd"]})
                except Refused as exc:
                    errors[exc.code] += 1
                    latencies.append(time.monotonic() - t0)
                    continue
                latencies.append(time.monotonic() - t0)
                accepted.append((reply.code or "", who["cccd"], slot))
        finished.append(time.monotonic())

    parts = [people[i::len(clients)] for i in range(len(clients))]
    await asyncio.gather(*(loop(c, part) for c, part in zip(clients, parts, strict=True)))
    return {"latencies": latencies, "accepted": accepted, "errors": dict(errors),
            "last": max(finished, default=start)}
