"""The generated history (bench.history): three weeks of a small province around the
30/4-1/5 holidays, written through the real store, restored by a real server, and
reported by the report code with the same figures as a direct count."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from bench import history_calendar as cal
from bench.centre import PROVINCE
from bench.history import build_history, cached_history, history_config, main
from common.errors import BenchError
from server import stats
from tests.helpers import FakeClock, ServerHarness, local_time

SCALE = dataclasses.replace(PROVINCE, communes=3)
START, END = date(2026, 4, 20), date(2026, 5, 8)  # Giỗ Tổ (Sunday 26/4, off on Monday 27/4), 30/4, 1/5
FINAL = ("done", "cancelled", "expired")


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("history") / "history.db"
    return path, build_history(path, SCALE, START, END, seed=7, workers=1)


@pytest.fixture
def db(history):
    conn = sqlite3.connect(f"file:{history[0]}?mode=ro", uri=True)
    yield conn
    conn.close()


def test_the_summary_counts_what_is_in_the_database(history, db):
    _, summary = history
    assert summary["tickets"] == db.execute("select count(*) from tickets").fetchone()[0] > 3000
    assert summary["events"] == db.execute("select count(*) from events").fetchone()[0]
    assert summary["sites"] == 4 and summary["bytes"] == history[0].stat().st_size


def test_closed_days_have_no_tickets(db):
    days = Counter()
    for site, day in db.execute("select distinct site, day from tickets"):
        day = date.fromisoformat(day)
        assert day.weekday() != 6 and not cal.is_holiday(day), (site, day)
        if day.weekday() == 5:
            assert site == "tinh" or int(site[2:]) % 2 == 0, (site, day)
        days[site] += 1
    for holiday in (date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1)):
        assert cal.is_holiday(holiday)
    # 19 days: 2 Sundays and 3 weekday holidays closed; 2 Saturday mornings open at the
    # provincial centre and the even-numbered communes.
    assert days["tinh"] == 14 and days["xa001"] == 12 and days["xa002"] == 14


def test_every_ticket_lives_in_order(db):
    db.row_factory = sqlite3.Row
    rows = db.execute("select * from tickets").fetchall()
    last_day = END.isoformat()
    for t in rows:
        times = [datetime.fromisoformat(t[k]) if t[k] else None
                 for k in ("issued_at", "first_called_at", "started_at", "finished_at")]
        if t["state"] == "done":
            assert all(times) and times == sorted(times), dict(t)
            assert t["outcome"] and t["counter"] and t["clerk"]
        elif t["day"] != last_day:
            assert t["state"] in FINAL, dict(t)
        if t["state"] in ("cancelled", "expired"):
            assert times[3] is not None and times[0] <= times[3]
        if t["rating"] is not None:
            assert t["state"] == "done"
    states = Counter(t["state"] for t in rows)
    assert states["done"] > 0.85 * len(rows)
    assert states["cancelled"] and states["expired"]
    assert sum(t["absent_at"] is not None for t in rows) and sum(t["transfers"] > 0 for t in rows)
    assert sum(t["recalls"] > 0 for t in rows) and sum(t["dossier_code"] is not None for t in rows)
    rated = sum(t["rating"] is not None for t in rows) / states["done"]
    assert 0.3 < rated < 0.4


def test_events_match_the_tickets(db):
    per_type = dict(db.execute("select type, count(*) from events group by type").fetchall())
    tickets = dict(db.execute("select state, count(*) from tickets group by state").fetchall())
    assert per_type["ticket_issued"] == sum(tickets.values())
    assert per_type["ticket_finished"] == tickets["done"]
    assert per_type["ticket_cancelled"] == tickets["cancelled"]
    assert per_type["ticket_expired"] == tickets["expired"]
    rated = db.execute("select count(*) from tickets where rating is not null").fetchone()[0]
    assert per_type["ticket_rated"] == rated
    assert per_type["counter_changed"] > 0 and per_type["ticket_held"] > 0
    actors = dict(db.execute("select actor = 'watcher', count(*) from events where type = 'ticket_rated' "
                             "group by 1").fetchall())
    assert actors[0] and actors[1]  # at the counter's rating window and from phones
    # Some phones rate on a later day than the ticket's: written after that day's first ticket.
    first_seq = dict(db.execute("select t.day, min(e.seq) from events e join tickets t on t.id = e.ticket_id "
                                "where e.type = 'ticket_issued' group by t.day").fetchall())
    late = [(seq, day) for seq, day in db.execute(
        "select e.seq, t.day from events e join tickets t on t.id = e.ticket_id "
        "where e.type = 'ticket_rated' and e.actor = 'watcher'")
        if any(later > day and seq > first for later, first in first_seq.items())]
    assert late
    # Numbering: the stored sequences are each service's last number of the day.
    for site, day, service, last in db.execute("select site, day, service, last from sequences"):
        top = db.execute("select max(sequence) from tickets where site = ? and day = ? "
                         "and origin_service = ?", [site, day, service]).fetchone()[0]
        assert top == last


def test_arrivals_follow_the_day_and_the_week(db):
    by_hour = dict(db.execute(
        "select cast(strftime('%H', issued_at, '+7 hours') as integer), count(*) from tickets "
        "where site = 'tinh' group by 1").fetchall())
    assert by_hour[9] > 2 * by_hour[12] and by_hour[14] > by_hour[12] and by_hour[8] > by_hour[16]
    per_day = {date.fromisoformat(d): n for d, n in db.execute(
        "select day, count(*) from tickets where site = 'tinh' group by day")}
    mondays = [n for d, n in per_day.items() if d.weekday() == 0]
    fridays = [n for d, n in per_day.items() if d.weekday() == 4]
    saturdays = [n for d, n in per_day.items() if d.weekday() == 5]
    assert min(mondays) > max(saturdays) and sum(mondays) / len(mondays) > sum(fridays) / len(fridays)


def test_the_report_gives_the_direct_counts(history, db):
    config = history_config(SCALE)
    result = stats.report(db, config, "tinh", START, END)
    count = db.execute(
        "select count(*), sum(state = 'done'), sum(state = 'cancelled'), sum(rating is not null), "
        "sum(transfers > 0) from tickets where site = 'tinh'").fetchone()
    summary = result.summary
    assert (summary["issued"], summary["served"], summary["cancelled"], summary["rated"],
            summary["transferred"]) == count
    phone = db.execute("select count(*) from events e join tickets t on t.id = e.ticket_id "
                       "where t.site = 'tinh' and e.type = 'ticket_rated' and e.actor = 'watcher'"
                       ).fetchone()[0]
    assert result.channels["phone"] == phone
    assert result.days == 14


async def test_a_server_restores_the_last_day_and_rolls_it_over(history, tmp_path):
    import shutil

    db = tmp_path / "copy.db"
    shutil.copyfile(history[0], db)
    config = history_config(SCALE)
    clock = FakeClock(local_time(END.year, END.month, END.day, 17, 50))
    harness = ServerHarness(config, db, clock)
    server = await harness.start()
    try:
        state = server.states["tinh"]
        assert state.day == END and len(state.tickets) > 300
        kiosk = await harness.kiosk(config.sites[0].kiosks[0].token)
        before = state.sequences["TP"]
        issued = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "hist-001"})
        assert issued["ticket"]["number"] == config.sites[0].services[0].numbering.format(before + 1)
        await kiosk.close()
        await harness.stop()
        clock.set_local(2026, 5, 9, 7, 0)  # the next morning
        server = await harness.start()
        assert server.states["tinh"].day == date(2026, 5, 9)
    finally:
        await harness.stop()
    conn = sqlite3.connect(db)
    try:
        open_tickets = conn.execute("select count(*) from tickets where day = ? and state not in (?, ?, ?)",
                                    [END.isoformat(), *FINAL]).fetchone()[0]
    finally:
        conn.close()
    assert open_tickets == 0


def test_the_same_arguments_build_the_same_history(tmp_path):
    short = dict(scale=dataclasses.replace(PROVINCE, communes=1), start=date(2026, 3, 2),
                 end=date(2026, 3, 4))
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    build_history(one, **short, seed=3, workers=1)
    build_history(two, **short, seed=3, workers=2)  # split over two processes and merged

    def dump(path: Path) -> list[tuple]:
        conn = sqlite3.connect(path)
        try:
            # (A ticket of the first process's days rated from a phone in the second's keeps its
            # kiosk's retry key, which the store forgets when a site's day moves on.)
            conn.execute("update tickets set idempotency_key = null")
            return [row for table in ("tickets", "events", "sites", "counters", "sequences")
                    for row in conn.execute(f"select * from {table} order by 1, 2")]
        finally:
            conn.close()

    assert dump(one) == dump(two)


def test_bad_arguments_are_refused_clearly(tmp_path, capsys):
    with pytest.raises(BenchError, match="after its end"):
        build_history(tmp_path / "x.db", SCALE, date(2026, 5, 2), date(2026, 5, 1))
    with pytest.raises(BenchError, match="years 2025-2027"):
        build_history(tmp_path / "x.db", SCALE, date(2026, 12, 1), date(2028, 1, 5))
    with pytest.raises(BenchError, match="communes"):
        build_history(tmp_path / "x.db", dataclasses.replace(PROVINCE, communes=-1), START, END)
    existing = tmp_path / "there.db"
    existing.write_bytes(b"")
    with pytest.raises(BenchError, match="exists"):
        build_history(existing, SCALE, START, END)
    assert main([str(existing), "--communes", "1"]) == 2
    assert "exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "y.db"), "--start", "1/5/2026"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_the_cache_builds_once_and_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("XEPHANG_BENCH_CACHE", str(tmp_path / "cache"))
    scale = dataclasses.replace(PROVINCE, communes=1)
    first = cached_history(scale, date(2026, 3, 2), date(2026, 3, 3))
    stamp = first.stat().st_mtime_ns
    again = cached_history(scale, date(2026, 3, 2), date(2026, 3, 3))
    assert again == first and again.stat().st_mtime_ns == stamp
    other = cached_history(scale, date(2026, 3, 2), date(2026, 3, 4))
    assert other != first and sorted(p.suffix for p in first.parent.glob("history-*")) == [
        ".db", ".db", ".json", ".json", ".lock", ".lock"]
