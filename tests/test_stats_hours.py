"""Local hours in SQL (the zone's fixed UTC offset added to the epoch) give the same report as
the zoneinfo helper, around midnight too; a zone with daylight saving keeps the helper."""

from __future__ import annotations

import sqlite3
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from server import stats
from server.store import Store
from tests.helpers import example_config

DAY = date(2026, 11, 25)


def _insert(conn: sqlite3.Connection, n: int, issued: datetime, wait_s: int, service_s: int | None,
            state: str = "done", rating: int | None = None) -> None:
    called = issued + timedelta(seconds=wait_s)
    finished = called + timedelta(seconds=service_s) if service_s is not None else None
    conn.execute(
        "insert into tickets (id, site, day, service, origin_service, sequence, number, state, \"order\","
        " token, counter, clerk, issued_at, called_at, first_called_at, started_at, finished_at, rating)"
        " values (?, 'giavien', ?, 'HT', 'HT', ?, ?, ?, ?, ?, 1, 'thao', ?, ?, ?, ?, ?, ?)",
        [f"t{n}", DAY.isoformat(), n, str(1000 + n), state, n, f"token-{n}", issued.isoformat(),
         called.isoformat(), called.isoformat(), called.isoformat(),
         finished.isoformat() if finished else None, rating])


@pytest.fixture
def conn(tmp_path):
    store = Store.open(tmp_path / "hours.db")
    store.close()
    conn = sqlite3.connect(tmp_path / "hours.db")
    tz = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
    local = datetime(2026, 11, 25, tzinfo=tz)
    # local 00:00:00, 00:00:01, 06:59:59 (= 23:59:59 UTC the day before), 07:00, 12:30,
    # 23:59:59 (served after midnight), 23:30 with a microsecond fraction
    times = [local, local + timedelta(seconds=1), local + timedelta(hours=6, minutes=59, seconds=59),
             local + timedelta(hours=7), local + timedelta(hours=12, minutes=30),
             local + timedelta(hours=23, minutes=59, seconds=59),
             local + timedelta(hours=23, minutes=30, microseconds=123456)]
    for n, when in enumerate(times, start=1):
        _insert(conn, n, when.astimezone(UTC), wait_s=37 * n, service_s=90 * n, rating=1 + n % 4)
    conn.commit()
    yield conn
    conn.close()


def _both(conn, config, groups=("hour",)):
    fast = stats.ReportJob(config, "giavien", DAY, DAY, groups).run(conn)
    slow = stats.ReportJob(config, "giavien", DAY, DAY, groups, hours_in_sql=False).run(conn)
    return fast, slow


def test_sql_hours_equal_the_zoneinfo_hours_around_midnight(conn):
    config = example_config()
    assert stats.fixed_offset(config.tz, DAY, DAY) == 7 * 3600
    (fast, fast_rows), (slow, slow_rows) = _both(conn, config, ("hour", "day", "service"))
    assert fast_rows == slow_rows
    assert fast.hourly == slow.hourly and fast.summary == slow.summary
    assert [r["key"] for r in fast_rows["hour"]] == [0, 6, 7, 12, 23]
    served = {h["hour"]: h["served"] for h in fast.hourly}
    # 00:00:00 and 00:00:01 finish before 01:00; 23:59:59 finishes at 00:12 the next day
    assert served[0] == 3 and served[23] == 1 and sum(served.values()) == 7


def test_a_zone_with_daylight_saving_uses_the_helper(conn):
    config = msgspec.structs.replace(example_config(), timezone="Europe/Berlin")
    assert stats.fixed_offset(config.tz, date(2026, 3, 1), date(2026, 4, 30)) is None  # 29 March
    assert stats.fixed_offset(config.tz, DAY, DAY) == 3600  # winter time all around 25/11
    (fast, fast_rows), (slow, slow_rows) = _both(conn, config)
    assert fast_rows == slow_rows and fast.hourly == slow.hourly
