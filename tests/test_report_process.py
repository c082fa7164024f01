"""Long reports run in a process of their own (server/report_process.py), and a page or file
that is not ready within a request's few seconds is prepared beside it and collected later
(server/web/prepared.py): before, a year's export was computed inside the websocket
handshake, and cut off at its 10 s with no response (issue 15)."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import sqlite3
import threading
from datetime import date

import pytest

from server import stats
from server.report_process import ReportProcess, ReportsBusy
from server.web import prepared
from tests.test_web_pages import get, manager_cookie, serve_some

pytestmark = pytest.mark.asyncio
TODAY = "site=tinh&from=2026-11-25&to=2026-11-25"


def pid_and_count(conn: sqlite3.Connection) -> tuple[int, int]:
    return os.getpid(), int(conn.execute("select count(*) from tickets").fetchone()[0])


def write(conn: sqlite3.Connection) -> None:
    conn.execute("delete from tickets")


def nice_value(conn: sqlite3.Connection) -> int:
    return os.nice(0)


def wait_for_file(conn: sqlite3.Connection, path: str) -> str:
    import time

    for _ in range(600):
        if os.path.exists(path):
            return path
        time.sleep(0.05)
    raise TimeoutError(path)


async def test_a_report_runs_in_another_process_that_reads_what_was_committed(harness):
    await serve_some(harness, 2)
    pid, count = await harness.server.compute(pid_and_count)
    assert pid != os.getpid() and count == 2
    assert await harness.server.compute(nice_value) >= os.nice(0) + 5  # behind the queue for the CPU
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await harness.server.compute(write)
    report = await harness.server.compute(stats.report, harness.server.config, "tinh",
                                          date(2026, 11, 25), date(2026, 11, 25))
    assert report.summary["issued"] == 2 and report.summary["served"] == 1


async def test_a_killed_report_process_fails_its_report_and_the_next_one_runs(harness):
    server = harness.server
    pid, _ = await server.compute(pid_and_count)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(Exception):  # noqa: B017 - BrokenProcessPool, whichever way it surfaces
        await server.compute(pid_and_count)
    again, count = await server.compute(pid_and_count)
    assert again != pid and count == 0


async def test_too_many_waiting_reports_are_turned_away_at_once(tmp_path):
    db = tmp_path / "x.db"
    sqlite3.connect(db).execute("create table tickets (id)").connection.close()
    reports = ReportProcess(str(db), max_waiting=2)
    gate = tmp_path / "go"
    try:
        waiting = [asyncio.ensure_future(reports.run(wait_for_file, str(gate))) for _ in range(3)]
        await asyncio.sleep(0)
        with pytest.raises(ReportsBusy):
            await reports.run(pid_and_count)
        gate.write_text("")
        assert await asyncio.gather(*waiting) == [str(gate)] * 3
        assert (await reports.run(pid_and_count))[1] == 0  # room again
    finally:
        reports.close()


async def test_an_export_not_ready_in_time_is_prepared_and_then_collected(harness, monkeypatch):
    await serve_some(harness)
    cookie = await manager_cookie(harness)
    gate = threading.Event()
    real = harness.server.compute

    async def held_compute(fn, *args):
        await asyncio.to_thread(gate.wait, 30)  # a year's export, as far as the request knows
        return await real(fn, *args)

    monkeypatch.setattr(harness.server, "compute", held_compute)
    monkeypatch.setattr(prepared, "WAIT_SECONDS", 0.2)
    path = f"/manager/export.csv?{TODAY}&group=service"
    first = await get(harness, path, cookie)
    assert first.status == 202 and first.headers["Retry-After"] == "2"
    assert '<meta http-equiv="refresh" content="2">' in first.text
    assert "Đang chuẩn bị số liệu" in first.text
    again = await get(harness, path, cookie)  # the browser's refresh joins the same job
    assert again.status == 202
    gate.set()
    for _ in range(50):
        done = await get(harness, path, cookie)
        if done.status != 202:
            break
    assert done.status == 200 and "attachment" in done.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(done.body.decode("utf-8-sig"))))
    assert rows[-1][1] == "Tổng cộng" and int(rows[-1][2]) == 3


async def test_a_manager_cannot_pile_up_jobs(harness, monkeypatch):
    cookie = await manager_cookie(harness)
    gate = threading.Event()

    async def held_compute(fn, *args):
        await asyncio.to_thread(gate.wait, 30)
        raise AssertionError("never reached")

    monkeypatch.setattr(harness.server, "compute", held_compute)
    monkeypatch.setattr(prepared, "WAIT_SECONDS", 0.05)
    try:
        for day in range(20, 20 + prepared.MAX_JOBS_PER_USER):
            page = await get(harness, f"/manager/export.csv?site=tinh&from=2026-11-{day}&to=2026-11-25",
                             cookie)
            assert page.status == 202
        refused = await get(harness, "/manager/export.csv?site=tinh&from=2026-11-10&to=2026-11-25", cookie)
        assert refused.status == 429 and "nhiều báo cáo" in refused.text
    finally:
        gate.set()


async def test_busy_reports_get_a_clear_page(harness, monkeypatch):
    cookie = await manager_cookie(harness)

    async def busy(fn, *args):
        raise ReportsBusy("17 reports are running or waiting")

    monkeypatch.setattr(harness.server, "compute", busy)
    page = await get(harness, f"/manager/report?{TODAY}", cookie)
    assert page.status == 503 and "việc cấp số và gọi số không bị ảnh hưởng" in page.text


async def test_a_warmed_report_process_is_running_before_the_first_report(tmp_path):
    db = tmp_path / "x.db"
    sqlite3.connect(db).execute("create table tickets (id)").connection.close()
    reports = ReportProcess(str(db))
    try:
        reports.warm()
        pool = reports._pool
        assert pool is not None
        for _ in range(200):  # the worker announces itself once it has started
            if pool._processes:
                break
            await asyncio.sleep(0.01)
        assert pool._processes
        pid, _ = await reports.run(pid_and_count)
        assert pid in pool._processes  # the same process ran the first report
    finally:
        reports.close()


_SERVER_WITH_REPORTS = """
import sqlite3, sys, time
from server.report_process import ReportProcess
import tests.test_report_process as t
reports = ReportProcess(sys.argv[1])
pid, _ = reports._executor().submit(t._call_pid, ()).result()
print(pid, flush=True)
time.sleep(600)
"""


def _call_pid(args: tuple[()]) -> tuple[int, int]:
    from server import report_process
    assert report_process._connection is not None
    return pid_and_count(report_process._connection)


async def test_the_report_process_leaves_when_its_server_is_killed(tmp_path):
    """A server killed outright (SIGKILL, the out-of-memory killer) leaves no report process
    waiting for work forever with a connection to the database."""
    import subprocess
    import sys
    import time

    db = tmp_path / "x.db"
    sqlite3.connect(db).execute("create table tickets (id)").connection.close()
    server = subprocess.Popen([sys.executable, "-c", _SERVER_WITH_REPORTS, str(db)],
                              stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        assert server.stdout is not None
        worker = int(server.stdout.readline())
        os.kill(worker, 0)  # running
        server.kill()
        server.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.1)
        with pytest.raises(ProcessLookupError):
            os.kill(worker, 0)
    finally:
        server.kill()
