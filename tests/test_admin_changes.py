"""One settings change applied to a configuration (server/admin_changes.py): pure, no server."""

from __future__ import annotations

import msgspec
import pytest

from common import protocol as p
from common.config import Service
from common.errors import Rejected
from server.admin_changes import apply_change, fingerprints, public_view
from tests.helpers import example_config

CONFIG = example_config()
BOSS = CONFIG.user("giamdoc")
LOCAL = CONFIG.user("quanly.giavien")
PRINTS = fingerprints(CONFIG)


def hashed(password: str) -> str:
    return CONFIG.user("lan").password_hash  # type: ignore[union-attr]  # any valid hash


def refused(change: p.Change, base: str | None, by=BOSS) -> Rejected:
    with pytest.raises(Rejected) as info:
        apply_change(CONFIG, change, base, by, hashed)
    return info.value


def test_a_change_needs_the_fingerprint_of_what_the_page_showed():
    notice = p.NoticeChange(site="tinh", notice="Mới")
    assert refused(notice, None).code == "stale_edit"  # it exists: null base means "new"
    assert refused(notice, "0" * 16).code == "stale_edit"
    new, entries = apply_change(CONFIG, notice, PRINTS["site:tinh"], BOSS, hashed)
    assert new.site("tinh").notice == "Mới" and entries[0].action == "site.notice"  # type: ignore[union-attr]
    assert fingerprints(new)["site:tinh"] != PRINTS["site:tinh"]
    assert fingerprints(new)["site:giavien"] == PRINTS["site:giavien"]  # others untouched


def test_the_new_configuration_passes_the_file_s_validation():
    tp = CONFIG.site("tinh").service("TP")  # type: ignore[union-attr]
    clash = msgspec.structs.replace(tp, numbering=msgspec.structs.replace(tp.numbering, prefix="B"))  # DN's
    error = refused(p.ServiceChange(site="tinh", service=clash), PRINTS["service:tinh:TP"])
    assert error.code == "invalid_settings" and "would both print" in error.params["problem_en"]
    assert error.params["check"] == "shared_number" and error.params["key"] == "sites[0].services"
    assert error.message_vi.startswith("Thiết lập không hợp lệ (Điểm «Trung tâm Phục vụ hành chính công "
                                       "tỉnh» › dịch vụ): hai dịch vụ 'TP' và 'DN' đều có thể in số 'B001'")
    assert error.message_en.startswith("Invalid settings (Site “Trung tâm Phục vụ hành chính công tỉnh” "
                                       "› services): services 'TP' and 'DN' would both print number 'B001'")
    orphan = Service(code="MOI", name_vi="Mới", name_en="New", agency="UBND",
                     numbering=msgspec.structs.replace(tp.numbering, prefix="Z"))
    error = refused(p.ServiceChange(site="tinh", service=orphan), None)
    assert error.code == "invalid_settings" and "no counter serves" in error.params["problem_en"]
    assert error.params["where_vi"].endswith(" › dịch vụ MOI")
    assert error.params["problem_vi"] == "chưa có quầy nào phục vụ dịch vụ 'MOI'"


def test_users_need_a_first_password_of_eight_characters_and_nobody_locks_themselves_out():
    new = p.UserChange(username="moi", full_name="Người mới", role="clerk", sites=["tinh"])
    assert refused(new, None).code == "password_required"
    short = msgspec.structs.replace(new, password="1234567")
    assert refused(short, None).params == {"minimum": 8}
    me = p.UserChange(username="giamdoc", full_name="Giám đốc", role="manager", disabled=True)
    assert refused(me, PRINTS["user:giamdoc"]).code == "forbidden"
    first = msgspec.structs.replace(new, password="12345678")
    config, entries = apply_change(CONFIG, first, None, BOSS, hashed)
    user = config.user("moi")
    assert user is not None and user.must_change_password and entries[0].after["password_hash"] == "•••"


def test_a_site_manager_sees_and_changes_their_site_only():
    view = public_view(CONFIG, LOCAL)  # type: ignore[arg-type]
    assert [s["code"] for s in view["sites"]] == ["giavien"]
    assert all("password_hash" not in u for u in view["users"])
    assert all("token" not in d for s in view["sites"] for d in [*s["kiosks"], *s["displays"]])
    assert refused(p.NoticeChange(site="tinh", notice="x"), PRINTS["site:tinh"], LOCAL).code == "forbidden"
    assert refused(p.SiteChange(site="giavien", name="Gia Viễn", hours={}), PRINTS["site:giavien"],
                   LOCAL).code == "forbidden"  # hours and holidays: the administrator's
    clerk = p.UserChange(username="moi", full_name="Mới", role="clerk", sites=["tinh"], password="12345678")
    assert refused(clerk, None, LOCAL).code == "forbidden"  # another site's clerk


def test_a_new_service_comes_with_the_counters_that_serve_it():
    tp = CONFIG.site("tinh").service("TP")  # type: ignore[union-attr]
    new = Service(code="MOI", name_vi="Mới", name_en="New", agency="UBND",
                  numbering=msgspec.structs.replace(tp.numbering, prefix="Z"))
    config, entries = apply_change(CONFIG, p.ServiceChange(site="tinh", service=new, counters=[2, 13]), None,
                                   BOSS, hashed)
    site = config.site("tinh")
    assert site.counters_serving("MOI") == (2, 13)  # type: ignore[union-attr]
    assert site.counter(2).services[-1] == "MOI"  # type: ignore[union-attr]
    assert [(e.action, e.target) for e in entries] == [("service.add", "MOI"), ("counter.update", "2"),
                                                       ("counter.update", "13")]
    moved, entries = apply_change(config, p.ServiceChange(site="tinh", service=new, counters=[13]),
                                  fingerprints(config)["service:tinh:MOI"], BOSS, hashed)
    assert moved.site("tinh").counters_serving("MOI") == (13,)  # type: ignore[union-attr]
    assert [e.target for e in entries] == ["MOI", "2"]
    error = refused(p.ServiceChange(site="tinh", service=new, counters=[998]), None)
    assert error.code == "unknown_counter"


def test_a_removed_service_leaves_its_counters_and_displays():
    site = CONFIG.site("tinh")
    serving = site.counters_serving("THUE")  # type: ignore[union-attr]
    removal = p.ServiceRemoval(site="tinh", code="THUE")
    config, entries = apply_change(CONFIG, removal, PRINTS["service:tinh:THUE"], BOSS, hashed)
    after = config.site("tinh")
    assert after.service("THUE") is None and after.counters_serving("THUE") == ()  # type: ignore[union-attr]
    assert [e.action for e in entries] == ["service.remove"] + ["counter.update"] * len(serving)
    shown = [d.services for d in after.displays if d.services]  # type: ignore[union-attr]
    assert shown and all("THUE" not in s for s in shown)


def test_removing_what_is_not_there_is_refused():
    assert refused(p.CounterRemoval(site="tinh", number=99), None).code == "unknown_counter"
    assert refused(p.ServiceRemoval(site="tinh", code="NOPE"), None).code == "unknown_service"
    assert refused(p.DeviceRevocation(site="tinh", id="nope"), None).code == "unknown_device"



def test_the_shared_rules_and_new_sites_are_the_administrator_s():
    rules = p.CentreChange(queue=msgspec.structs.replace(CONFIG.queue, late_window_minutes=20),
                           announcement=CONFIG.announcement, rating=CONFIG.rating)
    assert refused(rules, PRINTS["centre"], LOCAL).code == "forbidden"
    assert "centre" not in fingerprints(CONFIG, LOCAL)  # type: ignore[arg-type]
    config, entries = apply_change(CONFIG, rules, PRINTS["centre"], BOSS, hashed)
    assert config.queue.late_window_minutes == 20 and entries[0].action == "centre.update"
    bad = msgspec.structs.replace(rules, queue=msgspec.structs.replace(CONFIG.queue, late_window_minutes=-1))
    assert refused(bad, PRINTS["centre"]).code == "invalid_settings"
    giavien = CONFIG.site("giavien")
    commune = msgspec.structs.replace(giavien, code="xa-moi", name="UBND xã Mới")  # type: ignore[union-attr]
    assert refused(p.SiteAddition(site=commune), None, LOCAL).code == "forbidden"
    config, entries = apply_change(CONFIG, p.SiteAddition(site=commune), None, BOSS, hashed)
    added = config.site("xa-moi")
    assert added is not None and added.kiosks == [] and added.displays == []  # devices pair
    assert entries[0].action == "site.add"
    assert refused(p.SiteAddition(site=giavien), None).code == "stale_edit"  # type: ignore[arg-type]
