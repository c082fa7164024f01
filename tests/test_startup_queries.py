"""Start-up must not depend on how much history the database holds (issue 15): no query
that restores a site or fills a display's snapshot may scan the events table, which holds
every event of every day (millions of rows after a year at a province's server)."""

from __future__ import annotations

from datetime import date

from server.store import RECENT_CALLS_SQL, Store


def plan(store: Store, sql: str, params: list[object]) -> list[str]:
    return [row[3] for row in store.db.execute("explain query plan " + sql, params).fetchall()]


def test_the_recent_calls_of_a_day_are_found_through_indexes(tmp_path):
    store = Store.open(tmp_path / "x.db")
    try:
        steps = plan(store, RECENT_CALLS_SQL, ["tinh", date(2026, 11, 25).isoformat(), 20])
    finally:
        store.close()
    assert not [s for s in steps if (s.startswith("SCAN") and "events" in s) or s == "SCAN e"], steps
    assert any("tickets_site_day" in s for s in steps) and any("events_ticket" in s for s in steps), steps


def test_restoring_a_site_reads_only_its_day(tmp_path):
    store = Store.open(tmp_path / "x.db")
    try:
        day = date(2026, 11, 25).isoformat()
        for sql in ("select * from tickets where site = ? and day = ?",
                    "select service, last from sequences where site = ? and day = ?"):
            steps = plan(store, sql, ["tinh", day])
            assert not [s for s in steps if s.startswith("SCAN")], (sql, steps)
    finally:
        store.close()


def test_a_reports_rating_channels_come_from_the_ratings_index(tmp_path):
    from server.stats import _CHANNELS

    store = Store.open(tmp_path / "x.db")
    try:
        store.db.execute("create temp table xephang_report (id text, rating integer)")
        steps = plan(store, _CHANNELS, [])
    finally:
        store.close()
    assert any("events_rated" in s and "COVERING" in s for s in steps), steps
