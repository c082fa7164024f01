"""The benchmark's history phase: a server carrying a province-year (``bench.history``).

On a copy of the cached history (the copy's time is the baseline of the backup), it
measures:

1. the database's size, per table and index (``dbstat``);
2. the server's start (process start until a kiosk's login is answered with its snapshot):
   on the history's last day after closing, and on the first morning after it (the server
   rolls every site's day over before it listens). The server's clock is set with
   ``bench.server_main --clock``;
3. with that server running: the year report of the provincial centre as a page (logged in
   as a manager through the one-time code), as .xlsx, and as ``xephang report``'s table;
   the province-wide report where the server has one;
4. kiosks issuing at a steady pace (``history_rate`` tickets a second from
   ``history_kiosks`` kiosks, in a process of their own) for ``history_load_seconds``:
   alone (the baseline), while a manager opens the year report page again and again, and
   while they export the year to .xlsx; the issue latency of each, and its ratio to the
   baseline;
5. ``xephang backup`` of the year (the server stopped), against a plain file copy.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import multiprocessing
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.centre import Population, build_centre
from bench.history import cached_history, cached_summary
from bench.processes import REPO_ROOT, BenchError, ServerProcess, free_port
from bench.stats import latency_summary

log = logging.getLogger("bench")

PROVINCIAL_SITE = "tinh"
TZ_OFFSET = "+07:00"  # the bench centre's time zone (Asia/Ho_Chi_Minh)
POLL_SECONDS = 0.25  # asking again for a page or file being prepared
REQUEST_TIMEOUT = 600.0


def phase_history(run: Any) -> None:
    """(``run`` is ``bench.phases.Run``; typed loosely to keep the import one-way.)"""
    p = run.profile
    scale, start, end = p.history_scale, p.history_start, p.history_end
    results: dict[str, Any] = {}
    log.info("history: %s..%s, %d communes (built once, then cached)", start, end, scale.communes)
    t0 = time.monotonic()
    cached = cached_history(scale, start, end)
    results["cache_seconds"] = time.monotonic() - t0
    results["generated"] = cached_summary(cached)
    db = run.directory / "history.db"
    results["copy"] = _copy(cached, db)
    results["size"] = database_size(db)
    port = free_port()
    text, population = build_centre(scale, port=port, data_dir=str(run.directory / "data"))
    config = run.directory / "history-centre.toml"
    config.write_text(text, encoding="utf-8")
    same_day = datetime.combine(end, clock_time(17, 50)).isoformat() + TZ_OFFSET
    next_morning = datetime.combine(end + timedelta(days=1), clock_time(7, 0)).isoformat() + TZ_OFFSET
    kiosk = population.site(PROVINCIAL_SITE).kiosks[0]
    results["start_same_day"] = []
    for _ in range(p.history_rounds):
        server, seconds = _timed_start(run.directory, config, db, port, same_day, kiosk)
        server.stop()
        results["start_same_day"].append(seconds)
    log.info("history: starting on the morning after the history")
    server, seconds = _timed_start(run.directory, config, db, port, next_morning, kiosk)
    results["start_new_day"] = [seconds]
    try:
        year = {"site": PROVINCIAL_SITE, "from": start.isoformat(), "to": end.isoformat()}
        cookie = manager_cookie(port, population)
        page, xlsx = "/manager/report?" + _query(year), "/manager/export.xlsx?" + _query(year)
        log.info("history: the year report (page, .xlsx, CLI table), %d round(s)", p.history_rounds)
        results["report_page"] = [timed_get(port, page, cookie) for _ in range(p.history_rounds)]
        results["report_xlsx"] = [timed_get(port, xlsx, cookie) for _ in range(p.history_rounds)]
        results["report_cli"] = [_timed_cli(config, db, start, end) for _ in range(p.history_rounds)]
        results["province_report"] = province_report(port, cookie, year, config, db)
        kiosks = _kiosk_specs(population, p.history_kiosks)
        url = f"ws://127.0.0.1:{port}/ws"
        for name, path in (("baseline", None), ("with_report_page", page), ("with_xlsx_export", xlsx)):
            log.info("history: kiosks issuing for %.0f s, %s", p.history_load_seconds, name)
            results[f"issue_{name}"] = _under_load(url, kiosks, p.history_rate, p.history_load_seconds,
                                                   port, path, cookie)
    finally:
        server.stop()
    results["backup"] = _timed_backup(run.directory, db)
    run.results["history"] = results


# -- size and copies -------------------------------------------------------------------------


def database_size(path: Path) -> dict[str, Any]:
    """The file's size and each table's and index's share (SQLite's dbstat, else page counts
    are not available per table and only the total is given)."""
    size: dict[str, Any] = {"bytes": path.stat().st_size}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        t0 = time.monotonic()
        rows = conn.execute("select name, pgsize from dbstat where aggregate = 1 order by pgsize desc")
        size["tables"] = {name: pages for name, pages in rows}
        size["dbstat_seconds"] = time.monotonic() - t0
    except sqlite3.OperationalError as exc:  # SQLite built without dbstat
        size["tables"], size["note"] = {}, f"no per-table sizes: {exc}"
        (count,) = conn.execute("pragma page_count").fetchone()
        (page,) = conn.execute("pragma page_size").fetchone()
        size["pages"] = count * page
    finally:
        conn.close()
    return size


def _copy(source: Path, target: Path) -> dict[str, Any]:
    t0 = time.monotonic()
    shutil.copyfile(source, target)
    return {"seconds": time.monotonic() - t0, "bytes": target.stat().st_size}


def _timed_backup(directory: Path, db: Path) -> dict[str, Any]:
    """``xephang backup`` of the year, then a plain copy of the same file (the baseline)."""
    out = directory / "backup.db"
    log.info("history: xephang backup of %.2f GB", db.stat().st_size / 1e9)
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "xephang", "backup", str(out), "--db", str(db)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - t0
    if done.returncode != 0:
        raise BenchError(f"xephang backup failed: {done.stderr.strip()}")
    out.unlink()
    copy = _copy(db, out)
    out.unlink()
    return {"seconds": seconds, "bytes": db.stat().st_size, "copy_seconds": copy["seconds"]}


# -- the server's start ----------------------------------------------------------------------


def _timed_start(directory: Path, config: Path, db: Path, port: int, clock: str,
                 kiosk_token: str) -> tuple[ServerProcess, float]:
    """A bench server at ``clock`` on ``db``; seconds from its start until a kiosk's login
    is answered with the kiosk's snapshot."""
    args = ["-m", "bench.server_main", "--clock", clock, "--config", str(config), "--db", str(db),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            "--log-file", str(directory / "history.server.log")]
    server = ServerProcess(args, port, directory / "history.log", "/healthz")
    t0 = time.monotonic()
    server.start(timeout=900)
    try:
        asyncio.run(_kiosk_answers(f"ws://127.0.0.1:{port}/ws", kiosk_token))
    except BaseException:
        server.stop()
        raise
    return server, time.monotonic() - t0


async def _kiosk_answers(url: str, token: str) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "login_device", "v": 1, "token": token, "id": "k1"}))
        seen: set[str] = set()
        while not {"welcome", "snapshot"} <= seen:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message.get("type") == "error":
                raise BenchError(f"the kiosk's login was refused: {message}")
            seen.add(message.get("type", ""))


# -- the manager's pages -----------------------------------------------------------------------


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def manager_cookie(port: int, population: Population) -> str:
    """Log in as the manager over the websocket (a web session's one-time code), exchange
    the code for the session cookie."""
    code = asyncio.run(_web_code(f"ws://127.0.0.1:{port}/ws", population.manager, population.password))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", f"/manager/session?code={code}&next=/manager/report")
        response = conn.getresponse()
        response.read()
        cookie = response.getheader("Set-Cookie") or ""
    finally:
        conn.close()
    if response.status != 303 or not cookie:
        raise BenchError(f"the manager's session was not opened: HTTP {response.status}")
    return cookie.split(";", 1)[0]


async def _web_code(url: str, username: str, password: str) -> str:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "login", "v": 1, "username": username, "password": password,
                                  "web_session": True, "id": "m1"}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message.get("re") == "m1":
                if message.get("type") != "welcome" or not message.get("web_code"):
                    raise BenchError(f"the manager's login failed: {message}")
                return str(message["web_code"])


def timed_get(port: int, path: str, cookie: str, *, missing_ok: bool = False) -> dict[str, Any]:
    """GET ``path`` until it is delivered (a "being prepared" 202 is asked again every
    POLL_SECONDS, as the page's refresh would); seconds from the first request. With
    ``missing_ok``, a 404 is answered as ``{"missing": True}``."""
    t0 = time.monotonic()
    polls = 0
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 202:
            break
        polls += 1
        if time.monotonic() - t0 > REQUEST_TIMEOUT:
            raise BenchError(f"{path} was still being prepared after {REQUEST_TIMEOUT:.0f} s")
        time.sleep(POLL_SECONDS)
    if response.status == 404 and missing_ok:
        return {"missing": True}
    if response.status != 200:
        raise BenchError(f"GET {path}: HTTP {response.status}: {body[:200]!r}")
    return {"seconds": time.monotonic() - t0, "bytes": len(body), "polls": polls}


def _timed_cli(config: Path, db: Path, start: Any, end: Any, *, province: bool = False) -> dict[str, Any]:
    """``xephang report``'s table of the provincial centre (or of the province) for the range."""
    where = ["--province"] if province else ["--site", PROVINCIAL_SITE]
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "xephang", "report", "--config", str(config), "--db", str(db), *where,
         "--from", str(start), "--to", str(end)],
        cwd=REPO_ROOT, capture_output=True, timeout=REQUEST_TIMEOUT)
    if done.returncode != 0:
        raise BenchError(f"xephang report failed: {done.stderr.decode(errors='replace').strip()}")
    return {"seconds": time.monotonic() - t0, "bytes": len(done.stdout)}


PROVINCE_REPORT_PATH = "/manager/province"  # the province-wide report's page, where a server has one


def province_report(port: int, cookie: str, year: dict[str, str], config: Path | None = None,
                    db: Path | None = None) -> dict[str, Any]:
    """The province-wide year report (every site) as a page, as .xlsx and (given ``config``
    and ``db``) as ``xephang report --province``'s table, where the server has one:
    skipped with a note otherwise (``PROVINCE_REPORT_PATH`` answering 404)."""
    query = _query({"from": year["from"], "to": year["to"]})
    page = timed_get(port, f"{PROVINCE_REPORT_PATH}?{query}", cookie, missing_ok=True)
    if page.get("missing"):
        return {"skipped": f"the server has no province-wide report yet ({PROVINCE_REPORT_PATH} answers 404)"}
    result = {**page, "page": page, "xlsx": timed_get(port, f"{PROVINCE_REPORT_PATH}.xlsx?{query}", cookie)}
    if config is not None and db is not None:
        result["cli"] = _timed_cli(config, db, year["from"], year["to"], province=True)
    return result


# -- kiosks under load ----------------------------------------------------------------------------


def _kiosk_specs(population: Population, count: int) -> list[dict[str, Any]]:
    """The provincial centre's kiosks, then one kiosk of each commune, up to ``count``."""
    sites = population.sites
    specs = [{"token": t, "services": sites[0].services} for t in sites[0].kiosks]
    specs += [{"token": s.kiosks[0], "services": s.services} for s in sites[1:] if s.kiosks]
    return specs[:count]


def _under_load(url: str, kiosks: list[dict[str, Any]], rate: float, seconds: float, port: int,
                path: str | None, cookie: str) -> dict[str, Any]:
    """Kiosks issuing at ``rate`` a second for ``seconds`` (in a process of their own), while
    this process asks for ``path`` again and again (none: the baseline)."""
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    process = context.Process(target=paced_kiosks_main, args=(theirs, url, kiosks, rate, seconds),
                              name="bench-history-kiosks", daemon=True)
    process.start()
    theirs.close()
    try:
        ready = _receive(mine, 120)
        if "failed" in ready:
            raise BenchError(f"history kiosks: {ready['failed']}")
        start = time.monotonic() + 0.5
        mine.send(start)
        fetched = []
        time.sleep(max(start - time.monotonic(), 0))
        while path is not None and time.monotonic() < start + seconds:
            fetched.append(timed_get(port, path, cookie))
        answer = _receive(mine, seconds + 120)
        if "failed" in answer:
            raise BenchError(f"history kiosks: {answer['failed']}")
    finally:
        process.join(10)
        if process.is_alive():
            process.terminate()
    result = {**latency_summary(answer["latencies"]), "errors": answer["errors"],
              "kiosks": len(kiosks), "rate": rate, "seconds": seconds}
    if path is not None:
        result["requests"] = [f["seconds"] for f in fetched]
    return result


def _receive(pipe: Connection, timeout: float) -> dict[str, Any]:
    if not pipe.poll(timeout):
        raise BenchError(f"the history kiosks did not answer within {timeout:.0f} s")
    answer: dict[str, Any] = pipe.recv()
    return answer


def paced_kiosks_main(pipe: Connection, url: str, kiosks: list[dict[str, Any]], rate: float,
                      seconds: float) -> None:
    try:
        asyncio.run(_paced_kiosks(pipe, url, kiosks, rate, seconds))
    except Exception as exc:  # reported to the coordinator, which raises BenchError
        pipe.send({"failed": f"{type(exc).__name__}: {exc}"})


async def _paced_kiosks(pipe: Connection, url: str, kiosks: list[dict[str, Any]], rate: float,
                        seconds: float) -> None:
    """Each kiosk logs in; then one issue every 1/rate s, round robin over the kiosks that
    have no request in flight; the latency of each reply."""
    from websockets.asyncio.client import connect

    waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
    connections = []
    for n, spec in enumerate(kiosks):
        ws = await connect(url, max_size=None)
        connections.append(ws)
        await ws.send(json.dumps({"type": "login_device", "v": 1, "token": spec["token"], "id": f"login{n}"}))
        while json.loads(await asyncio.wait_for(ws.recv(), 60)).get("re") != f"login{n}":
            pass

    async def read(ws: Any) -> None:
        async for raw in ws:
            message = json.loads(raw)
            future = waiting.pop(str(message.get("re")), None)
            if future is not None and not future.done():
                future.set_result(message)

    readers = [asyncio.create_task(read(ws)) for ws in connections]
    pipe.send({"ready": True})
    start = await asyncio.to_thread(pipe.recv)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    busy: set[int] = set()

    async def issue(n: int, request: int) -> None:
        busy.add(n)
        spec = kiosks[n]
        key = f"h{request}"
        future = waiting[key] = loop.create_future()
        t0 = time.monotonic()
        try:
            service = spec["services"][request % len(spec["services"])]
            await connections[n].send(json.dumps({"type": "issue_ticket", "id": key, "service": service,
                                                  "idempotency_key": secrets.token_hex(8)}))
            reply = await asyncio.wait_for(future, 60)
            if reply.get("type") == "result":
                latencies.append(time.monotonic() - t0)
            else:
                errors[str(reply.get("code"))] = errors.get(str(reply.get("code")), 0) + 1
        except TimeoutError:
            errors["timeout"] = errors.get("timeout", 0) + 1
        finally:
            busy.discard(n)

    tasks = []
    for request in range(int(rate * seconds)):
        await asyncio.sleep(max(start + request / rate - time.monotonic(), 0))
        free = [n for n in range(len(kiosks)) if n not in busy]
        if not free:
            errors["all_kiosks_busy"] = errors.get("all_kiosks_busy", 0) + 1
            continue
        tasks.append(asyncio.create_task(issue(free[request % len(free)], request)))
    await asyncio.gather(*tasks)
    for task in readers:
        task.cancel()
    for ws in connections:
        await ws.close()
    pipe.send({"latencies": latencies, "errors": errors})
