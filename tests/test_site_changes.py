"""A site's configuration changed while the day runs (server/core/changes.py): the pure rule,
fed real states built through the queue rules."""

from __future__ import annotations

import zoneinfo
from dataclasses import replace

import msgspec
import pytest

from common.config import Counter, Site
from common.errors import Rejected
from server.core import commands as c
from server.core.changes import change_rules
from server.core.model import CounterStatus, SiteRules, SiteState, TicketState
from tests.test_rules import call_next, fresh, issue, open_counter, run, site_rules


def edited(state: SiteState, **fields: object) -> SiteRules:
    return replace(state.rules, site=msgspec.structs.replace(state.rules.site, **fields))


def without_service(site: Site, code: str) -> dict[str, object]:
    return {"services": [s for s in site.services if s.code != code],
            "counters": [msgspec.structs.replace(k, services=[x for x in k.services if x != code])
                         for k in site.counters if [x for x in k.services if x != code]]}


def refused(state: SiteState, rules: SiteRules) -> Rejected:
    with pytest.raises(Rejected) as info:
        change_rules(state, rules)
    return info.value


def test_a_renamed_service_and_a_new_notice_apply_at_once():
    state, _ = issue(fresh(), "TP")
    site = state.rules.site
    services = [msgspec.structs.replace(s, name_vi="Tư pháp – Hộ tịch") if s.code == "TP" else s
                for s in site.services]
    changed = change_rules(state, edited(state, services=services, notice="Nghỉ trưa 11:30–13:30"))
    assert changed.rules.site.service("TP").name_vi == "Tư pháp – Hộ tịch"  # type: ignore[union-attr]
    assert changed.rules.site.notice == "Nghỉ trưa 11:30–13:30"
    assert changed.tickets == state.tickets and changed.counters == state.counters


def test_a_service_with_people_in_the_hall_cannot_be_removed_until_they_are_served():
    state, number = issue(fresh(), "KQ")
    error = refused(state, edited(state, **without_service(state.rules.site, "KQ")))
    assert (error.code, error.params) == ("service_in_use", {"service": "KQ", "count": 1})
    assert "còn 1 phiếu chưa xong" in error.message_vi
    state = open_counter(state, 14)
    state, called = call_next(state, 14)
    state, _ = run(state, c.Finish(actor="lan", counter=14, outcome="received"))
    assert refused(state, edited(state, **without_service(state.rules.site, "KQ"))).code == "counter_in_use"
    state, _ = run(state, c.CloseCounter(actor="lan", counter=14))
    assert called == number and state.tickets[next(iter(state.tickets))].state is TicketState.DONE
    changed = change_rules(state, edited(state, **without_service(state.rules.site, "KQ")))
    assert changed.rules.site.service("KQ") is None
    assert 14 not in changed.counters  # KQ was counter 14's only service: the counter went too


def test_waiting_people_keep_at_least_one_counter():
    state, _ = issue(fresh(), "GPLX")
    site = state.rules.site
    counters = [msgspec.structs.replace(k, services=["TP"]) if "GPLX" in k.services else k
                for k in site.counters]
    error = refused(state, edited(state, counters=counters))
    assert (error.code, error.params) == ("service_unserved", {"service": "GPLX", "count": 1})
    moved = [msgspec.structs.replace(k, services=["TP"]) if k.number == 9 else k for k in site.counters]
    assert change_rules(state, edited(state, counters=moved)).rules.site.counter(9).services == ["TP"]  # type: ignore[union-attr]


def test_numbering_changes_only_before_a_service_s_first_number_of_the_day():
    state = fresh()
    site = state.rules.site

    def renumbered(code: str) -> SiteRules:
        return edited(state, services=[
            msgspec.structs.replace(s, numbering=msgspec.structs.replace(s.numbering, prefix="Z"))
            if s.code == code else s for s in site.services])

    assert change_rules(state, renumbered("TP")).rules.site.service("TP").numbering.prefix == "Z"  # type: ignore[union-attr]
    state, _ = issue(state, "TP")
    error = refused(state, renumbered("TP"))
    assert (error.code, error.params) == ("numbering_in_use", {"service": "TP"})
    assert change_rules(state, renumbered("DN")).rules.site.service("DN").numbering.prefix == "Z"  # type: ignore[union-attr]


def test_an_open_counter_is_closed_before_it_is_removed_and_a_new_one_starts_closed():
    state = open_counter(fresh(), 13)
    site = state.rules.site
    fewer = [k for k in site.counters if k.number != 13]
    assert refused(state, edited(state, counters=fewer)).code == "counter_in_use"
    state, _ = run(state, c.CloseCounter(actor="lan", counter=13))
    more = [*fewer, Counter(number=21, name="Quầy 21", services=["TP"])]
    changed = change_rules(state, edited(state, counters=more))
    assert 13 not in changed.counters and changed.counters[21].status is CounterStatus.CLOSED
    state2 = open_counter(changed, 21, clerk="hung")
    state2, _ = call_next(issue(state2, "TP")[0], 21)
    assert state2.tickets[next(iter(state2.tickets))].counter == 21


def test_a_counter_s_new_services_apply_from_its_next_call_and_its_citizen_is_served_to_the_end():
    state, tp = issue(fresh(), "TP")
    state, dn = issue(state, "DN")
    state = open_counter(state, 1)
    state, called = call_next(state, 1)
    assert called == tp
    site = state.rules.site
    to_dn = [msgspec.structs.replace(k, services=["DN"]) if k.number == 1 else k for k in site.counters]
    state = change_rules(state, edited(state, counters=to_dn))
    state, _ = run(state, c.Finish(actor="lan", counter=1, outcome="received"))  # served to the end
    state, called = call_next(state, 1)
    assert called == dn


def test_a_site_s_code_and_zone_are_fixed():
    state = fresh()
    assert refused(state, edited(state, code="khac")).code == "site_identity_fixed"
    bangkok = replace(state.rules, tz=zoneinfo.ZoneInfo("Asia/Bangkok"))
    assert refused(state, bangkok).code == "site_identity_fixed"
    assert change_rules(state, site_rules()).rules == state.rules
