"""Statistics on a fixed, hand-checked dataset: two mornings at the Gia Viễn commune centre.

The tickets are made by the real pure rules with explicit times and committed with
Store.commit, exactly as the server records them. Every expected figure below is worked
out by hand from this timeline (local time, Asia/Ho_Chi_Minh):

Wed 25/11/2026 (target wait: 30 minutes for every service)
  1001 HT  issued 07:30  called 07:35 c1 (thao)  started 07:36  done 07:46   rated 4 (phone)
  1002 HT  issued 07:32  called 07:46 c1         started 07:47  done 07:53   rated 3 (counter)
  2001 DD  issued 07:40  called 07:45 c2 (ha)    started 07:45  done 08:05   rated 1 (counter)
  1003 HT  issued 07:50  called 08:05 c2         absent 08:07   (expires next morning)
  3001 XH  issued 07:55  cancelled 08:40, never called (gave up after 45 min)
  1004 HT  issued 08:10  called 08:50 c1, started 08:50, transferred to DD 08:52;
                         called 08:55 c2, started 08:56, done 09:06
  2002 DD  issued 10:20  never called; expires at the next morning's first command (08:00)
Thu 26/11/2026
  1001 HT  issued 08:00  called 08:02 c1 (thao)  started 08:03  done 08:11   rated 4 (phone)
  1002 HT  issued 08:30  called 09:00 c1         started 09:01  done 09:05   rated 2 (counter)
  3001 XH  issued 09:10  still waiting

Waits (issued → first called), minutes: 5, 14, 5, 15, 40 | 2, 30  → sorted 2 5 5 14 15 30 40
Service times (started → finished) of done tickets: 10, 6, 20, 10 | 8, 4 → sorted 4 6 8 10 10 20
"""

from __future__ import annotations

from datetime import UTC, date

import pytest

from server import stats
from server.core import commands as c
from server.core.model import SiteRules, new_site_state
from server.core.rules import handle
from server.store import Store
from server.web.live import live
from tests.helpers import example_config, local_time

WED, THU = date(2026, 11, 25), date(2026, 11, 26)


class Recorder:
    """Applies commands to the giavien site at explicit local times and commits each."""

    def __init__(self, store: Store, config) -> None:
        site = config.site("giavien")
        rules = SiteRules(site=site, queue=config.queue, tz=config.tz,
                          rating_values=frozenset(r.value for r in config.rating))
        self.store, self.state, self.day = store, new_site_state(rules, WED), WED
        self.tokens = 0

    def at(self, day: date, hhmm: str, command: c.Command):
        hour, minute = map(int, hhmm.split(":"))
        now = local_time(day.year, day.month, day.day, hour, minute).astimezone(UTC)
        self.state, events = handle(self.state, command, now)
        self.store.commit([(self.state, events)])
        return self

    def issue(self, day: date, hhmm: str, service: str):
        self.tokens += 1
        return self.at(day, hhmm, c.IssueTicket(actor="kiosk-giavien", device="kiosk-giavien",
                                                service=service, token=f"token-{self.tokens:04d}"))

    def ticket(self, day: date, number: str) -> str:
        return next(t.id for t in self.state.tickets.values() if t.number == number and t.day == day)


def counter(n: int, clerk: str) -> dict:
    return {"actor": clerk, "counter": n}


def record_two_mornings(store: Store, config) -> None:
    """The timeline of the module docstring, committed to ``store``."""
    r = Recorder(store, config)
    c1, c2 = counter(1, "thao"), counter(2, "ha")
    r.at(WED, "07:25", c.OpenCounter(**c1)).at(WED, "07:25", c.OpenCounter(**c2))
    r.issue(WED, "07:30", "HT").issue(WED, "07:32", "HT")
    r.at(WED, "07:35", c.CallNext(**c1)).at(WED, "07:36", c.StartService(**c1))
    r.issue(WED, "07:40", "DD")
    r.at(WED, "07:45", c.CallNext(**c2)).at(WED, "07:45", c.StartService(**c2))
    r.at(WED, "07:46", c.Finish(**c1, outcome="received"))
    r.at(WED, "07:46", c.CallNext(**c1)).at(WED, "07:47", c.StartService(**c1))
    r.at(WED, "07:50", c.RateTicket(actor="watcher", ticket_id=r.ticket(WED, "1001"), value=4))
    r.issue(WED, "07:50", "HT")
    r.at(WED, "07:53", c.Finish(**c1, outcome="guided"))
    r.at(WED, "07:54", c.RateTicket(actor="thao", ticket_id=r.ticket(WED, "1002"), value=3))
    r.issue(WED, "07:55", "XH")
    r.at(WED, "08:05", c.Finish(**c2, outcome="received"))
    r.at(WED, "08:05", c.CallNext(**c2))
    r.at(WED, "08:06", c.RateTicket(actor="ha", ticket_id=r.ticket(WED, "2001"), value=1))
    r.at(WED, "08:07", c.MarkAbsent(**c2))
    r.issue(WED, "08:10", "HT")
    r.at(WED, "08:40", c.CancelTicket(actor="quanly.giavien", number="3001", reason="Về trước"))
    r.at(WED, "08:50", c.CallNext(**c1)).at(WED, "08:50", c.StartService(**c1))
    r.at(WED, "08:52", c.Transfer(**c1, service="DD"))
    r.at(WED, "08:55", c.CallNext(**c2)).at(WED, "08:56", c.StartService(**c2))
    r.at(WED, "09:06", c.Finish(**c2, outcome="received"))
    r.issue(WED, "10:20", "DD")
    r.issue(THU, "08:00", "HT")  # rolls the day over first: 1003 and 2002 expire
    r.at(THU, "08:01", c.OpenCounter(**c1))
    r.at(THU, "08:02", c.CallNext(**c1)).at(THU, "08:03", c.StartService(**c1))
    r.at(THU, "08:11", c.Finish(**c1, outcome="returned"))
    r.at(THU, "08:12", c.RateTicket(actor="watcher", ticket_id=r.ticket(THU, "1001"), value=4))
    r.issue(THU, "08:30", "HT")
    r.at(THU, "09:00", c.CallNext(**c1)).at(THU, "09:01", c.StartService(**c1))
    r.at(THU, "09:05", c.Finish(**c1, outcome="received"))
    r.at(THU, "09:06", c.RateTicket(actor="thao", ticket_id=r.ticket(THU, "1002"), value=2))
    r.issue(THU, "09:10", "XH")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    config = example_config()
    store = Store.open(tmp_path_factory.mktemp("stats") / "stats.db")
    record_two_mornings(store, config)
    yield store, config
    store.close()


def _report(db, start=WED, end=THU, group="service"):
    store, config = db
    return stats.report(store.db.conn, config, "giavien", start, end, group)


def test_summary_counts(db):
    s = _report(db).summary
    assert s["issued"] == 10       # 7 on Wednesday + 3 on Thursday
    assert s["served"] == 6        # W: 1001 1002 2001 1004; T: 1001 1002
    assert s["absent"] == 1        # 1003 (left absent, then expired)
    assert s["transferred"] == 1   # 1004
    assert s["cancelled"] == 1     # W 3001
    assert s["expired"] == 1       # 2002: never called (1003 counts as absent, not here)
    assert s["in_progress"] == 1   # T 3001 still waiting
    assert s["called"] == 7


def test_summary_waiting_times(db):
    s = _report(db).summary
    # waits 2 5 5 14 15 30 40
    assert s["wait_mean"] == pytest.approx(111 / 7)   # 2+5+5+14+15+30+40 = 111
    assert s["wait_median"] == pytest.approx(14)      # the 4th of 7
    assert s["wait_p90"] == pytest.approx(34)         # rank (7-1)*0.9 = 5.4: 30 + 0.4*(40-30)
    assert s["wait_max"] == pytest.approx(40)


def test_summary_service_times(db):
    s = _report(db).summary
    # service times 4 6 8 10 10 20 (1004's clock restarts after its transfer: 08:56 → 09:06)
    assert s["timed"] == 6
    assert s["service_mean"] == pytest.approx(58 / 6)   # 4+6+8+10+10+20 = 58
    assert s["service_median"] == pytest.approx(9)      # rank 2.5: 8 + 0.5*(10-8)
    assert s["service_p90"] == pytest.approx(15)        # rank 4.5: 10 + 0.5*(20-10)
    assert s["service_max"] == pytest.approx(20)


def test_summary_target_and_satisfaction(db):
    s = _report(db).summary
    # within 30 min: 2 5 5 14 15 30 (30 counts) = 6; assessed = 7 called + 2 who gave up
    # after more than 30 min (3001 cancelled after 45; 2002 expired after 21 h 40)
    assert s["within_target"] == 6
    assert s["gave_up_late"] == 2
    assert s["within_target_share"] == pytest.approx(6 / 9)
    # ratings 4 3 1 4 2: mean 14/5; satisfied (above 2.5 on the 1-4 scale): 4 3 4
    assert s["rated"] == 5
    assert s["rating_mean"] == pytest.approx(2.8)
    assert s["satisfied"] == 3
    assert s["satisfied_share"] == pytest.approx(0.6)
    assert s["ratings"] == {4: 2, 3: 1, 2: 1, 1: 1}


def test_per_service(db):
    rows = {r["key"]: r for r in _report(db).rows}
    assert list(rows) == ["HT", "DD", "XH"]  # in the configuration's order
    ht, dd, xh = rows["HT"], rows["DD"], rows["XH"]
    # HT (by the service chosen at the kiosk, so 1004 stays here): 6 issued
    assert (ht["issued"], ht["served"], ht["absent"], ht["transferred"]) == (6, 5, 1, 1)
    assert ht["wait_mean"] == pytest.approx(106 / 6)     # 5+14+15+40+2+30
    assert ht["wait_median"] == pytest.approx(14.5)      # sorted 2 5 14 15 30 40: rank 2.5
    assert ht["wait_p90"] == pytest.approx(35)           # rank 4.5: 30 + 0.5*10
    assert ht["service_mean"] == pytest.approx(38 / 5)   # 10+6+10+8+4
    assert ht["within_target_share"] == pytest.approx(5 / 6)
    assert ht["ratings"] == {4: 2, 3: 1, 2: 1}
    # DD: 2001 served (wait 5, service 20), 2002 expired after waiting > 30
    assert (dd["issued"], dd["served"], dd["expired"]) == (2, 1, 1)
    assert dd["wait_mean"] == pytest.approx(5)
    assert dd["service_mean"] == pytest.approx(20)
    assert dd["within_target_share"] == pytest.approx(1 / 2)
    # XH: one cancelled after 45 min, one still waiting; nobody called
    assert (xh["issued"], xh["cancelled"], xh["in_progress"], xh["called"]) == (2, 1, 1, 0)
    assert xh["wait_mean"] is None
    assert xh["within_target_share"] == pytest.approx(0.0)   # 0 of 1 assessed
    assert xh["satisfied_share"] is None


def test_per_counter_and_clerk(db):
    by_counter = {r["key"]: r for r in _report(db, group="counter").rows}
    assert list(by_counter) == [1, 2, None]  # None: tickets no counter ever called
    c1, c2, nobody = by_counter[1], by_counter[2], by_counter[None]
    assert (c1["issued"], c1["served"]) == (4, 4)           # W 1001 1002, T 1001 1002
    assert c1["wait_mean"] == pytest.approx(51 / 4)         # 5+14+2+30
    assert c1["service_mean"] == pytest.approx(7)           # (10+6+8+4)/4
    assert c1["rating_mean"] == pytest.approx(13 / 4)       # 4+3+4+2
    assert (c2["issued"], c2["served"], c2["absent"]) == (3, 2, 1)  # 2001, 1003, 1004
    assert c2["wait_mean"] == pytest.approx(20)             # (5+15+40)/3
    assert c2["service_mean"] == pytest.approx(15)          # (20+10)/2
    assert nobody["issued"] == 3                            # W 3001, 2002; T 3001
    by_clerk = {r["key"]: r for r in _report(db, group="clerk").rows}
    assert by_clerk["thao"]["served"] == 4 and by_clerk["ha"]["served"] == 2


def test_per_hour_and_day(db):
    report = _report(db, group="hour")
    hours = {r["key"]: r["issued"] for r in report.rows}
    # local issue hours: W 07:30 07:32 07:40 07:50 07:55 | W 08:10, T 08:00 08:30 | T 09:10 | W 10:20
    assert hours == {7: 5, 8: 3, 9: 1, 10: 1}
    # served by the hour they finished: 07:46 07:53 | 08:05 08:11 | 09:06 09:05
    assert [(h["hour"], h["arrivals"], h["served"]) for h in report.hourly] == [
        (7, 5, 2), (8, 3, 2), (9, 1, 2), (10, 1, 0)]
    assert [h["hour"] for h in report.busiest_hours] == [7, 8, 9]
    days = {r["key"]: r for r in _report(db, group="day").rows}
    assert (days["2026-11-25"]["issued"], days["2026-11-26"]["issued"]) == (7, 3)
    assert days["2026-11-26"]["wait_mean"] == pytest.approx(16)  # (2+30)/2
    assert report.days == 2


def test_histogram_and_rating_channels(db):
    report = _report(db)
    # waits 2 | 5 5 | 14 | 15 | - | 30 40 | - | -
    assert [b["count"] for b in report.histogram] == [1, 2, 1, 1, 0, 2, 0, 0]
    assert (report.histogram[0]["low"], report.histogram[-1]["high"]) == (0, None)
    assert report.channels == {"phone": 2, "counter": 3}


def test_a_date_range_selects_local_days(db):
    thursday = _report(db, start=THU, end=THU).summary
    assert (thursday["issued"], thursday["served"], thursday["wait_mean"]) == (3, 2, 16)
    empty = _report(db, start=date(2026, 12, 1), end=date(2026, 12, 31))
    assert empty.summary["issued"] == 0 and empty.summary["wait_mean"] is None
    assert empty.rows == [] and empty.hourly == [] and empty.days == 0


def test_groupings_come_only_from_the_fixed_table(db):
    store, config = db
    with pytest.raises(KeyError):
        stats.figures(store.db.conn, config, "giavien", WED, THU, "service; drop table tickets")
    with pytest.raises(ValueError):
        stats.figures(store.db.conn, config, "nowhere", WED, THU, "service")


def test_all_groups_for_the_exports(db):
    store, config = db
    base, groups = stats.all_groups(store.db.conn, config, "giavien", WED, THU)
    assert set(groups) == set(stats.GROUPS)
    assert sum(r["issued"] for r in groups["day"]) == base.summary["issued"] == 10


def test_percentile_matches_excel_percentile_inc():
    assert stats.percentile([], 0.5) is None
    assert stats.percentile([7], 0.9) == 7
    assert stats.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert stats.percentile([15, 20, 35, 40, 50], 0.9) == pytest.approx(46)  # 40 + 0.6*10


def test_live_picture(tmp_path):
    config = example_config()
    r = Recorder(Store.open(tmp_path / "live.db"), config)
    c3 = counter(3, "thao")
    r.at(THU, "09:00", c.OpenCounter(**c3))
    r.issue(THU, "09:00", "XH").issue(THU, "09:05", "XH").issue(THU, "09:20", "HT")
    r.at(THU, "09:21", c.CallNext(**c3))  # 3001, XH first at counter 3
    now = local_time(2026, 11, 26, 9, 30)
    picture = live(config, r.state, now)
    assert picture["waiting"] == 2                      # 3002 (09:05) and 1001 (09:20)
    assert picture["longest"] == {"number": "3002", "service": "XH", "minutes": 25.0}
    services = {s["code"]: s for s in picture["services"]}
    assert (services["XH"]["waiting"], services["XH"]["longest_wait"]) == (1, 25.0)
    assert services["HT"]["counters"] == [1, 2, 3] and services["HT"]["counters_open"] == 1
    desks = {d["number"]: d for d in picture["counters"]}
    assert desks[3]["status"] == "open" and desks[3]["active_number"] == "3001"
    assert desks[3]["clerk_name"] == "Vũ Phương Thảo"
    assert desks[1]["status"] == "closed"
