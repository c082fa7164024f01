"""Crash safety: the real server, killed with SIGKILL again and again under load, loses no
acknowledged ticket or call, never issues a number twice, and comes back consistent.

The harness is tests/reliability/crash.py (what is checked: tests/reliability/crash_model.py).
XEPHANG_CRASH_KILLS / XEPHANG_CRASH_SECONDS size the long run (scripts/reliability.sh).
"""

from __future__ import annotations

import os
import random

import pytest

from tests.reliability import report_plugin
from tests.reliability.crash import run_crash_test
from tests.reliability.crash_model import (
    InvariantBroken,
    Issued,
    Ledger,
    check_against_ledger,
    check_structure,
    read_database,
)


@pytest.fixture
def report(request):
    report_plugin.pytest_configure(request.config)
    return report_plugin.record


def _run(tmp_path, report, name: str, kills: int, seconds: float):
    seed = int(os.environ.get("XEPHANG_CRASH_SEED", random.randrange(1 << 30)))
    figures = run_crash_test(tmp_path, kills=kills, deadline_seconds=seconds, seed=seed)
    report(name, figures.summary() + f" (seed {seed})", seed=seed, **vars(figures))
    assert figures.kills >= min(kills, 30), f"only {figures.kills} kills within {seconds} s"
    assert figures.database_checks == figures.kills + 1
    assert figures.snapshot_checks == figures.kills
    assert figures.issues_acknowledged > 100
    assert figures.acknowledged_by_type.get("finish", 0) > 10
    assert figures.retried_keys > 0, "no kill hit an issue in flight: the retry path went untested"
    return figures


@pytest.mark.timeout(240)
def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path, report):
    _run(tmp_path, report, "crash safety", kills=35, seconds=150)


@pytest.mark.slow
@pytest.mark.timeout(0)
@pytest.mark.skipif(os.environ.get("XEPHANG_SLOW") != "1", reason="long run: set XEPHANG_SLOW=1")
def test_many_sigkills_under_load(tmp_path, report):
    kills = int(os.environ.get("XEPHANG_CRASH_KILLS", "300"))
    seconds = float(os.environ.get("XEPHANG_CRASH_SECONDS", "1800"))
    _run(tmp_path, report, "crash safety (long)", kills=kills, seconds=seconds)


def test_the_checks_catch_a_number_issued_twice(tmp_path):
    """The checker itself: a database with a duplicated number fails (the schema has no unique
    index on printed numbers since m004: the rules and the configuration check keep them apart)."""
    import sqlite3

    from server.store import Store

    db = tmp_path / "broken.db"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    row = ("tinh:2026-11-25:TP:{n}", "tinh", "2026-11-25", "TP", "TP", 1, "A001", None, "waiting", 1,
           "tok{n}", "k:{n}", "kiosk", None, None, None, "2026-11-25T01:00:00+00:00")
    for n in (1, 2):
        values = [v.format(n=n) if isinstance(v, str) else v for v in row]
        conn.execute(
            "insert into tickets (id, site, day, service, origin_service, sequence, number, priority, "
            "state, \"order\", token, idempotency_key, issued_by, counter, target_counter, clerk, "
            "issued_at) values (" + ", ".join("?" * len(values)) + ")", values)
    conn.execute("insert into sequences values ('tinh', '2026-11-25', 'TP', 1)")
    conn.commit()
    conn.close()
    with pytest.raises(InvariantBroken, match="issued twice"):
        check_structure(read_database(db))


# -- the checker must catch what it claims to catch ---------------------------------------------


def _ticket(n: int, state: str = "waiting", counter: int | None = None) -> dict:
    return {"id": f"tinh:2026-11-25:TP:{n}", "site": "tinh", "day": "2026-11-25", "service": "TP",
            "origin_service": "TP", "sequence": n, "number": f"A{n:03d}", "state": state,
            "counter": counter, "token": f"tok{n}", "idempotency_key": f"kiosk:k{n}"}


def _db(tickets: list[dict], active: dict[int, str | None] | None = None) -> dict:
    return {
        "tickets": tickets, "integrity": "ok",
        "counters": [{"site": "tinh", "number": n, "status": "open", "active_ticket": t}
                     for n, t in (active or {}).items()],
        "sequences": [{"site": "tinh", "day": "2026-11-25", "service": "TP", "last": len(tickets)}],
        "sites": [{"code": "tinh", "day": "2026-11-25"}],
    }


def _ledger(*tickets: dict) -> Ledger:
    ledger = Ledger()
    for t in tickets:
        ledger.issued[t["idempotency_key"]] = Issued(t["idempotency_key"], t["id"], t["number"], "tinh", "TP")
        ledger.know(t)
    return ledger


def test_the_checker_accepts_a_consistent_state():
    one, two = _ticket(1, "called", 1), _ticket(2)
    ledger = _ledger(one, two)
    ledger.active[("tinh", 1)] = one["id"]
    assert check_against_ledger(_db([one, two], {1: one["id"]}), ledger) == 2


def test_the_checker_catches_a_lost_acknowledged_ticket():
    with pytest.raises(InvariantBroken, match="missing"):
        check_against_ledger(_db([_ticket(1)]), _ledger(_ticket(1), _ticket(2)))


def test_the_checker_catches_a_ticket_nobody_asked_for():
    with pytest.raises(InvariantBroken, match="never asked for"):
        check_against_ledger(_db([_ticket(1), _ticket(2)]), _ledger(_ticket(1)))


def test_the_checker_catches_an_acknowledged_finish_that_was_undone():
    ledger = _ledger(_ticket(1, "done", 1))
    ledger.active[("tinh", 1)] = None
    with pytest.raises(InvariantBroken, match="acknowledged"):
        check_against_ledger(_db([_ticket(1, "called", 1)], {1: _ticket(1)["id"]}), ledger)


def test_the_checker_allows_only_what_an_in_flight_call_explains():
    waiting, other = _ticket(1), _ticket(2)
    ledger = _ledger(waiting, other)
    ledger.active[("tinh", 1)] = None
    ledger.pending_ops[("tinh", 1)] = ("call", None)
    called = _ticket(1, "called", 1)
    assert check_against_ledger(_db([called, other], {1: called["id"]}), ledger) == 2  # took effect
    assert check_against_ledger(_db([waiting, other], {1: None}), ledger) == 2  # did not
    ledger.pending_ops.clear()
    with pytest.raises(InvariantBroken):
        check_against_ledger(_db([called, other], {1: called["id"]}), ledger)


def test_the_checker_catches_one_ticket_at_two_counters():
    one = _ticket(1, "called", 1)
    with pytest.raises(InvariantBroken, match="active at counters"):
        check_structure(_db([one], {1: one["id"], 2: one["id"]}))


# -- the mechanism behind it: acknowledge only what is durably committed ---------------------------


def test_the_database_is_opened_for_durability(tmp_path):
    from server.store import Store

    store = Store.open(tmp_path / "x.db")
    try:
        pragma = {name: store.db.execute(f"pragma {name}").fetchone()[0]
                  for name in ("journal_mode", "synchronous", "foreign_keys")}
    finally:
        store.close()
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}  # 2 = FULL


async def test_no_reply_or_broadcast_before_the_commit_returns(harness):
    import asyncio
    import threading

    kiosk = await harness.kiosk()
    display = await harness.client()
    await display.request({"type": "login_device", "v": 1, "token": "vpw-NmCfYqcryXDPG38uVUy5"},
                          expect="welcome")
    await display.next_of("snapshot")
    store = harness.server.store
    real_commit, gate, entered = store.commit, threading.Event(), threading.Event()

    def slow_commit(results):
        entered.set()
        assert gate.wait(10)
        return real_commit(results)

    store.commit = slow_commit
    reply = asyncio.create_task(kiosk.request({"type": "issue_ticket", "service": "TP",
                                               "idempotency_key": "durable-0001"}))
    while not entered.is_set():
        await asyncio.sleep(0.005)
    with pytest.raises(TimeoutError):  # the writer is inside commit: nobody hears anything
        await display.next_of("update", timeout=0.3)
    assert not reply.done()
    gate.set()
    issued = await reply
    on_disk = read_database(harness.db)["tickets"]
    assert [t["id"] for t in on_disk] == [issued["ticket"]["id"]]
    assert (await display.next_of("update"))["tickets"][0]["id"] == issued["ticket"]["id"]


async def test_a_failed_commit_acknowledges_nothing_and_stops_the_server(harness):
    import sqlite3

    kiosk = await harness.kiosk()
    store = harness.server.store
    real_commit = store.commit

    def broken_disk(results):
        raise sqlite3.OperationalError("disk I/O error")

    store.commit = broken_disk
    error = await kiosk.error({"type": "issue_ticket", "service": "TP", "idempotency_key": "lost-00001"})
    assert error["code"] == "internal"  # not a ticket: the kiosk prints nothing
    assert harness.server.failed is not None
    store.commit = real_commit
    assert read_database(harness.db)["tickets"] == []
    await harness.restart()  # systemd's restart, on the same database
    kiosk = await harness.kiosk()
    again = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "lost-00001"})
    assert again["ticket"]["number"] == "A001"
    assert len(read_database(harness.db)["tickets"]) == 1


def test_a_full_disk_stops_the_server_process_cleanly_with_everything_acknowledged_kept(tmp_path):
    """The real process: commits start failing (as on a full disk); the kiosk is told 'internal'
    for the failed ticket, the server logs one critical line and exits 1 (systemd restarts it),
    and everything acknowledged before is on disk."""
    import asyncio
    import json

    from websockets.asyncio.client import connect

    from tests.reliability.config_gen import always_open_config
    from tests.reliability.server_process import ServerProcess

    server = ServerProcess(always_open_config(tmp_path / "centre.toml"), tmp_path / "xephang.db",
                           env={"XEPHANG_TEST_FAIL_COMMIT_AFTER": "5"})
    acknowledged: list[str] = []

    async def issue_until_refused() -> dict:
        async with connect(server.url, proxy=None) as ws:
            await ws.send(json.dumps({"type": "login_device", "v": 1, "token": "r-dPIIJld2G0aI0GL3Fkm5S6",
                                      "id": 0}))
            for n in range(1, 50):
                await ws.send(json.dumps({"type": "issue_ticket", "service": "TP",
                                          "idempotency_key": f"disk-{n:05d}", "id": n}))
                while True:
                    reply = json.loads(await ws.recv())
                    if reply.get("re") == n:
                        break
                if reply["type"] != "result":
                    return reply
                acknowledged.append(reply["ticket"]["id"])
        raise AssertionError("the disk never failed")

    try:
        server.start()
        refused = asyncio.run(issue_until_refused())
        assert refused["code"] == "internal"
        assert server.proc.wait(15) == 1
    finally:
        server.close()
    assert "Traceback" not in server.stderr_tail(200)
    assert [e["message"] for e in server.log_entries("critical")] == [
        "commit failed, stopping the server: database or disk is full"]
    stored = [t["id"] for t in read_database(server.db)["tickets"]]
    assert sorted(stored) == sorted(acknowledged) and len(acknowledged) >= 3
