"""Webhook receivers for the benchmark's webhooks phase, in a process of their own:
``python -m bench.webhook_receivers CONTROL_PORT --normal P1,P2,P3 --slow P4``.

Each receiver answers 204 to every POST (a slow one after ``SLOW_SECONDS``) and records when
each event id first arrived; ``GET /stats?upto=SEQ`` on the control port answers, per
receiver port, how many deliveries it had, how many distinct events, the highest event id
and when (Unix time) event ``SEQ`` arrived (null: not yet); ``POST /reset`` forgets it all."""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import web

from server.outbox.process import lowest_priority

SLOW_SECONDS = 2.0


class Receiver:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.deliveries = 0
        self.arrived: dict[int, float] = {}

    async def hook(self, request: web.Request) -> web.Response:
        await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.deliveries += 1
        self.arrived.setdefault(int(request.headers["X-Xephang-Event-Id"]), time.time())
        return web.Response(status=204)


async def main(control: int, normal: list[int], slow: list[int]) -> None:
    receivers = {port: Receiver(0.0) for port in normal} | {port: Receiver(SLOW_SECONDS) for port in slow}
    runners = []
    for port, receiver in receivers.items():
        app = web.Application()
        app.router.add_post("/hook", receiver.hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        runners.append(runner)

    async def stats(request: web.Request) -> web.Response:
        upto = int(request.query.get("upto", "0"))
        return web.json_response({str(port): {
            "deliveries": r.deliveries, "events": len(r.arrived), "max_id": max(r.arrived, default=0),
            "upto_at": r.arrived.get(upto)} for port, r in receivers.items()})

    async def reset(request: web.Request) -> web.Response:  # a new server: its event ids start again
        for r in receivers.values():
            r.deliveries, r.arrived = 0, {}
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", control).start()
    await asyncio.Event().wait()


def _ports(text: str) -> list[int]:
    return [int(p) for p in text.split(",") if p]


if __name__ == "__main__":
    lowest_priority()  # they stand for other machines: the server and its outbox get the cores first
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("control", type=int)
    parser.add_argument("--normal", type=_ports, default=[])
    parser.add_argument("--slow", type=_ports, default=[])
    args = parser.parse_args()
    asyncio.run(main(args.control, args.normal, args.slow))
