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
from tests.reliability.crash_model import InvariantBroken, check_structure, read_database


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
    """The checker itself: a database with a duplicated number (unique index dropped) fails."""
    import sqlite3

    from server.store import Store

    db = tmp_path / "broken.db"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.executescript("""
        create table t2 as select * from tickets;
        drop table tickets;
        alter table t2 rename to tickets;
    """)
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
