"""The staffing forecast (server/forecast.py, server/staffing.py, server/forecast_data.py):
on a synthetic history whose effects are known, the model finds them; closed days are
zero; the counters-needed search meets the target in its simulation and never asks for
fewer counters when more people are expected."""

from __future__ import annotations

import itertools
import random
import sqlite3
from datetime import date, timedelta

import pytest

from server import forecast as f
from server.forecast_data import (
    next_working_day,
    read_handling,
    read_history,
    site_calendar,
    staffing_forecast,
)
from server.staffing import Demand, groups, plan
from tests.forecast_fixtures import TZ, Pattern, calendar, synthetic_history, write_history
from tests.helpers import example_config

START, TODAY = date(2025, 11, 3), date(2026, 11, 2)  # a year; TODAY is a Monday
WEDNESDAY, MONDAY = date(2026, 11, 11), date(2026, 11, 9)  # plain days: not month edges


def test_a_busier_weekday_is_found():
    pattern = Pattern(weekday=(1.3, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0))
    history = synthetic_history(pattern, START, TODAY)
    for method in f.Method:
        monday = f.forecast_day(history, calendar(pattern), MONDAY, TODAY, method)
        wednesday = f.forecast_day(history, calendar(pattern), WEDNESDAY, TODAY, method)
        assert monday.total / wednesday.total == pytest.approx(1.3, abs=0.08), method
        assert wednesday.total == pytest.approx(pattern.base, rel=0.08)
        # the hours and services keep the history's shares
        assert wednesday.per_hour()[8] / wednesday.total == pytest.approx(1.6 / 8.6, rel=0.1)
        assert wednesday.per_service()["GPLX"] / wednesday.total == pytest.approx(0.4, rel=0.1)


def test_the_month_start_effect_is_found_and_beats_the_plain_mean():
    pattern = Pattern(month_start=1.4)
    history = synthetic_history(pattern, START, TODAY)
    cal = calendar(pattern)
    model = f.fit(history, f.learned_calendar(history, cal, START, TODAY), TODAY)
    assert model.effects["month_start_1"] == pytest.approx(1.4, abs=0.12)
    assert model.effects["month_start_2"] == pytest.approx(1.4, abs=0.12)
    assert model.effects["month_start_4"] == pytest.approx(1.0, abs=0.1)
    assert model.effects["month_end_1"] == pytest.approx(1.0, abs=0.1)
    first = date(2026, 12, 1)  # a Tuesday, the first working day of December
    plain_tuesday = date(2026, 11, 10)
    ratio = model.forecast(first).total / model.forecast(plain_tuesday).total
    assert ratio == pytest.approx(1.4, abs=0.12)
    assert model.forecast(first).effects == {"month_start_1": model.effects["month_start_1"]}

    effects = f.backtest(history, cal, TODAY, weeks=12, method=f.Method.EFFECTS)
    plain = f.backtest(history, cal, TODAY, weeks=12, method=f.Method.PLAIN)
    assert effects.days == plain.days == 12 * 6
    assert effects.day_wape < plain.day_wape
    assert abs(effects.day_bias) < 0.03
    assert effects.day_wape < 0.08  # Poisson noise alone: ~4 % a day at ~300 tickets


def test_closed_days_are_forecast_as_zero():
    holiday = date(2026, 11, 20)  # a Friday, configured as a holiday
    pattern = Pattern(holidays=frozenset({date(2026, 9, 2), date(2026, 10, 14)}))
    history = synthetic_history(pattern, START, TODAY)
    cal = f.Calendar(frozenset(range(6)), frozenset({holiday}))  # 2/9 and 14/10 not configured
    assert f.forecast_day(history, cal, holiday, TODAY).closed
    assert f.forecast_day(history, cal, holiday, TODAY).total == 0
    sunday = date(2026, 11, 8)
    assert f.forecast_day(history, cal, sunday, TODAY).total == 0
    learned = f.learned_calendar(history, cal, START, TODAY)
    assert {date(2026, 9, 2), date(2026, 10, 14)} <= learned.closed  # seen closed in the history
    # the Wednesday the history shows closed does not pull the Wednesday baseline down
    assert f.forecast_day(history, cal, WEDNESDAY, TODAY).total == pytest.approx(pattern.base, rel=0.08)
    # a weekday the site never opens on, whatever the configuration says, is closed too
    sunday_open = f.Calendar(frozenset(range(7)), frozenset())
    assert f.forecast_day(history, sunday_open, sunday, TODAY).closed


def test_the_days_before_a_long_break_are_busier_when_the_history_says_so():
    tet = {date(2025, 1, 27) + timedelta(days=i) for i in range(9)}  # closed days before START
    tet |= {date(2026, 2, 14) + timedelta(days=i) for i in range(9)}
    pattern = Pattern(holidays=frozenset(tet))
    history = synthetic_history(pattern, date(2025, 11, 3), date(2026, 4, 1))
    busy = {d: c for d, c in history.items()}
    for day in (date(2026, 2, 11), date(2026, 2, 12), date(2026, 2, 13)):  # the last 3 working days
        busy[day] = f.DayCounts({k: v * 2 for k, v in history[day].cells.items()})
    cal = f.Calendar(frozenset(range(6)), frozenset(tet))
    model = f.fit(busy, f.learned_calendar(busy, cal, START, date(2026, 4, 1)), date(2026, 4, 1))
    assert model.effects["before_holiday"] == pytest.approx(1.0 + 3 / 5 * 1.0, abs=0.15)  # shrunk: 3 days
    assert f.effects_of(date(2026, 2, 13), cal) == {"before_holiday"}
    assert f.effects_of(date(2026, 2, 10), cal) == {"weeks_before_break"}
    assert "after_holiday" in f.effects_of(date(2026, 2, 23), cal)


def test_the_history_read_from_the_database_keeps_local_days_and_hours(tmp_path):
    pattern = Pattern(base=60)
    history = synthetic_history(pattern, date(2026, 10, 1), date(2026, 11, 1))
    db = tmp_path / "x.db"
    written = write_history(db, "tinh", history)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    read = read_history(conn, "tinh", TZ, date(2026, 10, 1), date(2026, 11, 1))
    assert sum(c.total for c in read.values()) == written
    assert {d: dict(c.cells) for d, c in read.items()} == {d: dict(c.cells) for d, c in history.items()}
    assert read_history(conn, "giavien", TZ, date(2026, 10, 1), date(2026, 11, 1)) == {}
    handling = read_handling(conn, "tinh", date(2026, 10, 1), date(2026, 11, 1))
    assert set(handling) == set(pattern.services)
    assert all(v >= 0 for values in handling.values() for v in values)


# -- counters needed -------------------------------------------------------------------------------


def _demand(scale: float, day: date = date(2026, 11, 25), seed: int = 1) -> Demand:
    config = example_config()
    site = config.site("tinh")
    assert site is not None
    rng = random.Random(4)
    handling = {s.code: [rng.lognormvariate(1.8, 0.5) for _ in range(300)] for s in site.services}
    arrivals = {}
    weights = {s.code: 1.0 + (i % 4) for i, s in enumerate(site.services)}
    for (service, hour), share in Pattern(services=weights).expected(day).items():
        arrivals[(service, hour)] = share * scale
    return Demand(site=site, rules=config.queue, day=day, arrivals=arrivals, handling=handling,
                  priority_share={s: 0.08 for s in weights}, seed=seed)


@pytest.fixture(scope="module")
def plans():
    return {scale: plan(_demand(scale)) for scale in (0.5, 1.0, 2.0, 3.0)}


def test_more_arrivals_never_need_fewer_counters(plans):
    scales = sorted(plans)
    for smaller, larger in itertools.pairwise(scales):
        for hour in plans[larger].hours:
            assert plans[larger].needed(hour) >= plans[smaller].needed(hour), (smaller, larger, hour)
            for a, b in zip(plans[smaller].groups, plans[larger].groups, strict=True):
                assert b.needed.get(hour, 0) >= a.needed.get(hour, 0), (smaller, larger, hour, a.services)
    assert plans[3.0].needed(8) > plans[0.5].needed(8)


def test_the_plan_meets_the_target_in_its_simulation(plans):
    site = example_config().site("tinh")
    assert site is not None
    for result in plans.values():
        short = {(s, h) for g in result.groups for h, services in g.short.items() for s in services}
        for (service, hour), waits in result.waits.items():
            target = site.service(service).wait_target_minutes  # type: ignore[union-attr]
            if (service, hour) not in short and waits.tickets >= 1:
                assert waits.p90 is not None and waits.p90 <= target + 1e-9, (service, hour, waits)
        for group in result.groups:
            for hour, needed in group.needed.items():
                assert 0 <= needed <= len(group.counters)
                assert len(group.opened[hour]) == needed
                assert set(group.opened[hour]) <= set(group.counters)
    assert plans[1.0].needed(12) == 0  # lunch: nobody comes, nobody waits


def test_counters_only_serve_their_services_and_groups_follow_the_configuration():
    site = example_config().site("tinh")
    assert site is not None
    found = {services: tuple(c.number for c in counters) for services, counters in groups(site)}
    assert found[("GPLX",)] == (9, 10)
    assert found[("TP", "LD", "GD")] == (1, 2, 8)
    assert sum(len(c) for c in found.values()) == len(site.counters)


def test_the_plan_is_reproducible_and_a_closed_day_needs_nobody():
    assert plan(_demand(1.0)) == plan(_demand(1.0))
    holiday = date(2026, 9, 2)
    closed = plan(_demand(1.0, holiday))
    assert all(closed.needed(h) == 0 for h in closed.hours)


def test_the_whole_forecast_from_a_database(tmp_path):
    config = example_config()
    site = config.site("tinh")
    assert site is not None
    pattern = Pattern(base=200, services={s.code: 1.0 for s in site.services},
                      holidays=frozenset(site.holidays))
    db = tmp_path / "x.db"
    write_history(db, "tinh", synthetic_history(pattern, date(2026, 5, 1), date(2026, 11, 25)))
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    today = date(2026, 11, 25)
    day = next_working_day(site, today)
    assert day == date(2026, 11, 26)
    result = staffing_forecast(conn, site, config.queue, config.timezone, day, today)
    assert result.forecast.total == pytest.approx(200, rel=0.12)
    assert result.accuracy.weeks == 8 and result.accuracy.days == 8 * 6
    assert result.accuracy.day_wape is not None and result.accuracy.day_wape < 0.12
    assert max(result.plan.needed(h) for h in result.plan.hours) > 0
    assert set(result.handling) == {s.code for s in site.services}
    assert site_calendar(site).open_weekdays == frozenset(range(6))
    sunday = staffing_forecast(conn, site, config.queue, config.timezone, date(2026, 11, 29), today)
    assert sunday.forecast.closed and sunday.plan.hours == ()


def test_the_command_line_forecasts_backtests_and_refuses_bad_days(tmp_path, capsys):
    from server import forecast_cli

    site = example_config().site("tinh")
    assert site is not None
    services = {s.code: 1.0 for s in site.services}
    pattern = Pattern(base=150, services=services, holidays=frozenset(site.holidays))
    db = tmp_path / "x.db"
    write_history(db, "tinh", synthetic_history(pattern, date(2026, 5, 1), date(2026, 11, 25)))
    common = ["--db", str(db), "--site", "tinh", "--today", "2026-11-25"]
    assert forecast_cli.main([*common, "--backtest", "--weeks", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("method") and "effects     24" in out and "2026-10-26" in out
    assert forecast_cli.main([*common, "--day", "2026-11-26", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Day 26/11/2026" in out and "Counters needed" in out and "Last 8 weeks: off by" in out
    assert forecast_cli.main([*common, "--day", "2026-11-26", "--csv", str(tmp_path / "f.csv")]) == 0
    assert (tmp_path / "f.csv").read_bytes().startswith("\ufeffGiờ,".encode())
    assert forecast_cli.main([*common, "--day", "2026-11-25"]) == 2
    assert "must be from 2026-11-26 to 2026-12-09" in capsys.readouterr().err
    assert forecast_cli.main([*common[:2], "--site", "nowhere", "--backtest"]) == 2
    assert forecast_cli.main(["--db", str(tmp_path / "none.db"), "--site", "tinh", "--backtest"]) == 2
