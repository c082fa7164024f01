"""History retention (server/retention.py, ``xephang history``): an archive holds the old
events and their tickets; a prune deletes only what an archive covers (or with --yes),
keeps tickets longer than events, and runs beside a real server that goes on issuing
between its batches; vacuum refuses while the server has the database open."""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from common.assets import asset_path
from server import retention, retention_cli, stats, store
from tests.helpers import TZ, ServerHarness, example_config
from tests.test_store_compact import a_day_of_every_event, rules

DAYS = [date(2025, 9, 24), date(2025, 10, 22), date(2025, 11, 19), date(2026, 11, 24)]  # Wednesdays
TODAY = date(2026, 11, 25)
CONFIG = asset_path("config", "example.toml")


def history(path: Path) -> dict[date, int]:
    """A day of every kind of event on each of DAYS; the events of each day, by day."""
    s = store.Store.open(path)
    state = None
    counts = {}
    for day in DAYS:
        results = a_day_of_every_event(day, state)
        s.commit(results)
        state = results[-1][0]
        counts[day] = sum(len(events) for _, events in results)
    s.close()
    return counts


def counts(path: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(path)
    try:
        return tuple(conn.execute(f"select count(*) from {t}").fetchone()[0]  # type: ignore[return-value]
                     for t in ("events", "tickets", "sequences"))
    finally:
        conn.close()


def test_policy_cutoffs_are_whole_months_back():
    assert retention.months_back(date(2026, 11, 25), 13) == date(2025, 10, 1)
    assert retention.months_back(date(2026, 1, 31), 1) == date(2025, 12, 1)
    assert retention.policy_cutoffs(TODAY, 13, 60) == retention.Cutoffs(date(2025, 10, 1), date(2021, 11, 1))


def test_archive_then_prune_keeps_everything_newer(tmp_path):
    db = tmp_path / "x.db"
    per_day = history(db)
    events, tickets, _ = counts(db)
    conn = retention.connect(db)
    out = tmp_path / "archive" / "before-2025-11.jsonl.gz"
    out.parent.mkdir()
    summary = retention.archive(conn, date(2025, 11, 1), TZ, out, TODAY)
    assert (summary.events, summary.first_day) == (per_day[DAYS[0]] + per_day[DAYS[1]], DAYS[0])
    lines = list(retention.read_archive(out))
    header, rows = lines[0], lines[1:]
    assert header["format"] == retention.ARCHIVE_FORMAT and header["before"] == "2025-11-01"
    archived_tickets = [r for r in rows if r["table"] == "tickets"]
    archived_events = [r for r in rows if r["table"] == "events"]
    assert len(archived_tickets) == summary.tickets == 12 and len(archived_events) == summary.events
    assert {r["day"] for r in archived_tickets} == {"2025-09-24", "2025-10-22"}
    assert not any("token" in r or "idempotency_key" in r for r in archived_tickets)  # access secrets
    finished = next(r for r in archived_events if r["type"] == "ticket_finished")
    assert finished["data"]["dossier_code"] == "G01.123-261125-0001" and finished["at"].endswith("+00:00")

    # October's unfinished tickets expired at the next day's roll-over, in November: their
    # tickets stay while an event refers to them.
    expired_later = [r[0] for r in conn.execute(
        "select distinct t.id from tickets t join events e on e.ticket_id = t.id "
        "where t.day < '2025-11-01' and e.at >= ?", [retention.local_midnight_micros(date(2025, 11, 1), TZ)])]
    assert expired_later and all(i.startswith("tinh:2025-10-22:") for i in expired_later)
    pruned = retention.prune(conn, retention.Cutoffs(date(2025, 11, 1), date(2025, 11, 1)), TZ,
                             batch=7, pause=lambda: None)
    assert pruned.archive == str(out.resolve())
    assert (pruned.events, pruned.tickets) == (summary.events, 12 - len(expired_later))
    assert counts(db)[:2] == (events - summary.events, tickets - 12 + len(expired_later))
    conn.close()
    again = store.Store.open(db)  # the newest day's queue and display are untouched
    assert len(again.load_site(rules(), DAYS[-1]).tickets) == 6
    assert again.recent_calls("tinh", DAYS[-1], 20) and again.recent_calls("tinh", DAYS[1], 20) == []
    again.close()


def test_tickets_outlive_their_events_and_the_reports_still_count_them(tmp_path):
    db = tmp_path / "x.db"
    history(db)
    conn = retention.connect(db)
    retention.archive(conn, date(2025, 12, 1), TZ, tmp_path / "a.jsonl.gz", TODAY)
    before = stats.report(conn, example_config(), "tinh", DAYS[2], DAYS[2], "service")
    retention.prune(conn, retention.Cutoffs(date(2025, 12, 1), date(2025, 10, 1)), TZ, pause=lambda: None)
    days = [d for (d,) in conn.execute("select distinct day from tickets order by day")]
    assert days == ["2025-10-22", "2025-11-19", "2026-11-24"]  # September's tickets went; no events are left
    left = conn.execute("select distinct e.type from events e join tickets t on t.id = e.ticket_id "
                        "where t.day < '2025-12-01'").fetchall()
    assert left == [("ticket_expired",)]  # only November's unfinished tickets' expiry, at the next day
    after = stats.report(conn, example_config(), "tinh", DAYS[2], DAYS[2], "service")
    assert after.summary["issued"] == before.summary["issued"] == 6
    assert after.summary["ratings"] == before.summary["ratings"]
    conn.close()


def test_prune_refuses_without_an_archive_unless_told(tmp_path):
    db = tmp_path / "x.db"
    history(db)
    conn = retention.connect(db)
    cut = retention.Cutoffs(date(2025, 11, 1), date(2025, 11, 1))
    with pytest.raises(retention.RetentionError, match="no archive covers the events before 2025-11-01"):
        retention.prune(conn, cut, TZ, pause=lambda: None)
    old = tmp_path / "old.jsonl.gz"
    retention.archive(conn, date(2025, 10, 1), TZ, old, TODAY)  # covers less than asked
    with pytest.raises(retention.RetentionError, match="no archive covers"):
        retention.prune(conn, cut, TZ, pause=lambda: None)
    moved = tmp_path / "moved.jsonl.gz"
    retention.archive(conn, date(2025, 11, 1), TZ, moved, TODAY)
    moved.rename(tmp_path / "elsewhere.jsonl.gz")  # the recorded file is gone
    with pytest.raises(retention.RetentionError, match="no archive covers"):
        retention.prune(conn, cut, TZ, pause=lambda: None)
    assert retention.prune(conn, cut, TZ, without_archive=True, pause=lambda: None).events > 0
    with pytest.raises(retention.RetentionError, match="after today"):
        retention.archive(conn, TODAY + timedelta(days=1), TZ, tmp_path / "future.jsonl.gz", TODAY)
    with pytest.raises(retention.RetentionError, match="exists"):
        retention.archive(conn, date(2025, 11, 1), TZ, tmp_path / "elsewhere.jsonl.gz", TODAY)
    conn.close()


def test_the_command_line(tmp_path, capsys):
    db = tmp_path / "x.db"
    history(db)
    out = tmp_path / "a.jsonl.gz"
    base = ["--db", str(db), "--config", str(CONFIG)]
    assert retention_cli.main(["prune", "--before", "2025-11-01", *base]) == 2
    assert "no archive covers" in capsys.readouterr().err
    assert retention_cli.main(["archive", "--before", "2025-11-01", str(out), *base]) == 0
    assert "to " + str(out) in capsys.readouterr().out
    assert out.stat().st_mode & 0o077 == 0  # the owner's only
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        assert json.loads(handle.readline())["before"] == "2025-11-01"
    assert retention_cli.main(["prune", "--before", "2025-11-01", *base]) == 0
    assert "deleted" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        retention_cli.main(["prune", "--before", "1/11/2025", *base])
    assert "is not a date like 2025-12-01" in capsys.readouterr().err
    assert retention_cli.main(["archive", str(tmp_path / "b.jsonl.gz"), "--db", str(tmp_path / "none.db"),
                               "--config", str(CONFIG)]) == 2
    assert "no database at" in capsys.readouterr().err
    assert retention_cli.main(["vacuum", *base]) == 0
    assert "vacuumed" in capsys.readouterr().out


def test_an_old_schema_is_refused(tmp_path):
    from tests import legacy_store

    legacy_store.old_database(str(tmp_path / "old.db")).close()
    with pytest.raises(retention.RetentionError, match="start the server once"):
        retention.connect(tmp_path / "old.db")


@pytest.mark.asyncio
async def test_the_server_issues_between_the_batches_of_a_prune(tmp_path, clock, config):
    db = tmp_path / "xephang.db"
    history(db)
    harness = ServerHarness(config=config, db=db, clock=clock)
    await harness.start()
    try:
        kiosk = await harness.kiosk()
        loop = asyncio.get_running_loop()
        issued: list[str] = []

        def issue_a_ticket() -> None:  # between two batches, on the prune's thread
            reply = asyncio.run_coroutine_threadsafe(kiosk.request(
                {"type": "issue_ticket", "service": "DD", "idempotency_key": f"during-prune-{len(issued)}"}),
                loop).result(timeout=30)
            issued.append(reply["ticket"]["number"])

        def prune() -> retention.PruneSummary:  # as `xephang history prune --yes` does, in its own thread
            conn = retention.connect(db)
            try:
                return retention.prune(conn, retention.Cutoffs(date(2025, 12, 1), date(2025, 12, 1)), TZ,
                                       without_archive=True, batch=10, pause=issue_a_ticket)
            finally:
                conn.close()

        with pytest.raises(retention.RetentionError, match="stop it first"):
            retention.vacuum(db)
        summary = await asyncio.to_thread(prune)
        assert summary.batches == len(issued) > 10
        assert harness.server.failed is None
        assert len(set(issued)) == len(issued)  # each a new ticket, committed while the prune went on
        today = {t.number for t in harness.server.states["tinh"].tickets.values()}
        assert set(issued) <= today
        await kiosk.close()
    finally:
        await harness.stop()
    s = store.Store.open(db)
    assert {t.number for t in s.load_site(rules(), TODAY).tickets.values()} >= set(issued)
    assert s.db.execute("select distinct day, state from tickets where day < '2026-01-01'").fetchall() == [
        ("2025-11-19", "expired")]  # expired at the next open day, a year later: its event is newer
    s.close()
