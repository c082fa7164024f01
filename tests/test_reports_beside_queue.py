"""Reports and pages read on a connection and a thread of their own (issue 15's first step):
a long report never holds up the queue's commits, and it reads only what was committed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from server import stats

pytestmark = pytest.mark.asyncio


async def test_a_report_that_takes_long_does_not_hold_up_issuing(harness):
    server = harness.server
    release = threading.Event()
    started = threading.Event()

    def slow_report_step(conn: sqlite3.Connection) -> int:
        started.set()
        release.wait(30)  # a year's report, as far as the queue is concerned
        return int(conn.execute("select count(*) from tickets").fetchone()[0])

    report = asyncio.ensure_future(server.read_db(slow_report_step))
    await asyncio.to_thread(started.wait, 10)
    kiosk = await harness.kiosk()
    try:  # before, reports ran on the writer's thread: this waited for the report to end
        issued = await kiosk.request({"type": "issue_ticket", "service": "TP",
                                      "idempotency_key": "beside-a-report"}, timeout=5)
    finally:
        release.set()
    assert issued["ticket"]["number"] == "A001"
    assert await report in (0, 1)  # it read a committed state, whichever was current then
    assert await server.read_db(lambda conn: conn.execute("select count(*) from tickets").fetchone()[0]) == 1
    await kiosk.close()


async def test_the_report_connection_cannot_write(harness):
    def write(conn: sqlite3.Connection) -> None:
        conn.execute("delete from tickets")

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await harness.server.read_db(write)


async def test_a_report_is_the_same_on_its_own_connection(harness, clock):
    kiosk = await harness.kiosk()
    for i in range(3):
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": f"same-{i:04d}"})
    await kiosk.close()
    server = harness.server
    day = server.today()
    on_reader = await server.read_db(stats.report, server.config, "tinh", day, day)
    on_writer = await server.run_db(stats.report, server.store.db.conn, server.config, "tinh", day, day)
    assert on_reader == on_writer and on_reader.summary["issued"] == 3
