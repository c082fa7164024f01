"""The administration pages rendered by a real server over HTTP (no browser): who may see
which page, the site manager's narrower view, escaping of what managers typed (names with
``<script>``), the forms' fingerprints, the audit log's entries and paging, and the
templates' texts (all in assets/translations/web.toml). The browser side, sending the
changes, is tests/test_admin_browser.py."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import msgspec

from common.config import WEEKDAYS
from common.i18n import catalogue
from server.admin_changes import fingerprints
from tests.test_admin_live import change, manager
from tests.test_no_text_in_code import VIETNAMESE
from tests.test_web_pages import get, manager_cookie

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "assets" / "templates" / "admin"
PAGES = ("users", "services", "hours", "devices", "audit")


def forms(text: str) -> list[dict]:
    """Every administration form of a page: its change (data-change) and base (data-base)."""
    found = re.findall(
        r"""<form class="admin-form ([^"]*)" data-base="([^"]*)" data-change='([^']*)'""", text)
    return [{"class": cls.split()[0], "base": base, "change": json.loads(html.unescape(raw))}
            for cls, base, raw in found]


async def test_the_pages_need_a_manager_s_session(harness):
    for page in PAGES:
        answer = await get(harness, f"/manager/admin/{page}")
        assert answer.status == 303 and answer.headers["Location"].startswith("/manager/login?next="), page
    forged = await get(harness, "/manager/admin/users", cookie="xephang_manager=not-a-session")
    assert forged.status == 303
    cookie = await manager_cookie(harness)
    root = await get(harness, "/manager/admin", cookie)
    assert root.status == 303 and root.headers["Location"] == "/manager/admin/users"
    for page in PAGES:
        answer = await get(harness, f"/manager/admin/{page}", cookie)
        assert answer.status == 200, page
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert '<a href="/manager/admin/users" aria-current="page">Quản trị</a>' in answer.text
        assert '<script src="/web/admin.js" defer></script>' in answer.text
        assert "<script>" not in answer.text  # no inline script: the data is a JSON block
    overview = await get(harness, "/manager/", cookie)
    assert '<a href="/manager/admin/users">Quản trị</a>' in overview.text  # the top bar's entry
    english = await get(harness, "/manager/admin/hours?site=tinh&lang=en", cookie)
    assert "<h1>Hours, holidays and notice</h1>" in english.text
    assert "xephang_lang=en" in english.headers["Set-Cookie"]
    assert (await get(harness, "/manager/admin/nothing", cookie)).status == 404


async def test_the_administrator_sees_everyone_and_every_form(harness):
    cookie = await manager_cookie(harness)
    users = (await get(harness, "/manager/admin/users", cookie)).text
    for username in ("giamdoc", "quanly.giavien", "nga"):
        assert f'data-user="{username}"' in users
    assert 'name="role"' in users  # roles are the administrator's to change
    found = forms(users)
    prints = fingerprints(harness.server.config)
    lan = next(f for f in found if f["class"] == "user-edit" and f["change"]["username"] == "lan")
    assert lan["base"] == prints["user:lan"]
    assert lan["change"] == {"kind": "user", "username": "lan", "full_name": "Nguyễn Thị Lan",
                             "role": "clerk", "sites": ["tinh"], "counters": [1, 2], "disabled": False,
                             "password": None}
    toggles = [f["change"]["username"] for f in found if f["class"] == "user-toggle"]
    assert "giamdoc" not in toggles and "lan" in toggles  # nobody disables themselves
    assert "password_hash" not in users and "scrypt$" not in users
    hours = (await get(harness, "/manager/admin/hours?site=tinh", cookie)).text
    kinds = [f["class"] for f in forms(hours)]
    assert {"notice-edit", "site-edit", "holiday-add", "holiday-remove"} <= set(kinds)
    removal = next(f for f in forms(hours) if f["class"] == "holiday-remove")
    site = harness.server.config.site("tinh")
    assert len(removal["change"]["holidays"]) == len(site.holidays) - 1
    devices = (await get(harness, "/manager/admin/devices?site=tinh", cookie)).text
    assert 'data-device="kiosk-sanh-1"' in devices and 'data-device="tv-sanh"' in devices
    assert all(d.token not in devices for d in [*site.kiosks, *site.displays])
    pair = next(f for f in forms(devices) if f["class"] == "device-pair")
    assert pair["base"] == ""
    assert (pair["change"]["kind"], pair["change"]["site"]) == ("device_approve", "tinh")
    services = (await get(harness, "/manager/admin/services?site=tinh", cookie)).text
    tp = next(f for f in forms(services)
              if f["class"] == "service-edit" and f["change"]["service"]["code"] == "TP")
    assert tp["base"] == prints["service:tinh:TP"] and tp["change"]["counters"] is None


async def test_a_site_manager_sees_their_site_and_its_clerks_only(harness):
    cookie = await manager_cookie(harness, "quanly.giavien")
    users = (await get(harness, "/manager/admin/users", cookie)).text
    shown = set(re.findall(r'data-user="([^"]+)"', users))
    assert shown == {"nga", "thao"}
    assert 'name="role"' not in users  # a site manager adds and edits clerks only
    adding = next(f for f in forms(users) if f["class"] == "user-add")
    assert adding["change"]["sites"] == ["giavien"] and adding["change"]["role"] == "clerk"
    for page in ("services", "hours", "devices"):
        answer = await get(harness, f"/manager/admin/{page}", cookie)
        assert answer.status == 200
        assert 'id="admin-site">Trung tâm Phục vụ hành chính công xã Gia Viễn<' in answer.text
        assert "Tư pháp 1" not in answer.text  # the provincial site's counter
        refused = await get(harness, f"/manager/admin/{page}?site=tinh", cookie)
        assert refused.status == 403, page
    assert (await get(harness, "/manager/admin/services?site=nowhere", cookie)).status == 400
    hours = (await get(harness, "/manager/admin/hours", cookie)).text
    kinds = {f["class"] for f in forms(hours)}
    assert kinds == {"notice-edit"}  # hours and holidays: shown, changed by the administrator
    assert 'id="hours-table"' in hours
    assert (await get(harness, "/manager/admin/audit?site=tinh", cookie)).status == 403


async def test_what_managers_typed_is_escaped_everywhere(harness):
    boss = await manager(harness)
    evil = "<script>alert('x')</script> & \"Lan\""
    await change(boss, None, {"kind": "user", "username": "evil", "full_name": evil, "role": "clerk",
                              "sites": ["tinh"], "counters": [1], "password": "mat-khau-tam-1"})
    await change(boss, "site:tinh", {"kind": "notice", "site": "tinh",
                                     "notice": "</textarea><script>x()</script>"})
    cookie = await manager_cookie(harness)
    users = (await get(harness, "/manager/admin/users", cookie)).text
    assert "<script>alert" not in users and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in users
    edit = next(f for f in forms(users) if f["class"] == "user-edit" and f["change"]["username"] == "evil")
    assert edit["change"]["full_name"] == evil  # the attribute's JSON gives the name back exactly
    hours = (await get(harness, "/manager/admin/hours?site=tinh", cookie)).text
    assert "</textarea><script>" not in hours and "&lt;/textarea&gt;&lt;script&gt;x()" in hours
    log = (await get(harness, "/manager/admin/audit", cookie)).text
    assert "<script>" not in log and "&lt;script&gt;alert" in log


async def test_the_audit_log_shows_who_what_and_before_after_newest_first(harness):
    boss = await manager(harness)
    await change(boss, "site:tinh", {"kind": "notice", "site": "tinh", "notice": "Thông báo mới"})
    await change(boss, None, {"kind": "user", "username": "thu", "full_name": "Trần Thị Thu", "role": "clerk",
                              "sites": ["giavien"], "counters": [1], "password": "tam-thoi-2026"})
    cookie = await manager_cookie(harness)
    log = (await get(harness, "/manager/admin/audit", cookie)).text
    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', log)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 3  # and the seed
    first = log.index(f'data-seq="{seqs[0]}"')
    entry = log[first:log.index("</li>", first)]
    assert "Thêm người dùng" in entry and '<span class="code">thu</span>' in entry and "(giamdoc)" in entry
    assert "•••" in entry and "scrypt" not in entry
    assert ('<th scope="row">Họ và tên</th><td class="before">–</td>'
            '<td class="after">Trần Thị Thu</td>') in entry
    notice = log[log.index(f'data-seq="{seqs[1]}"'):]
    assert '<td class="after">Thông báo mới</td>' in notice
    assert re.search(r"25/11/2026 08:00:\d\d", log)  # the centre's local time
    local = await manager_cookie(harness, "quanly.giavien")
    theirs = (await get(harness, "/manager/admin/audit", local)).text
    assert "Thông báo mới" not in theirs and "Trần Thị Thu" in theirs  # tinh's notice is not theirs
    narrowed = (await get(harness, "/manager/admin/audit?site=giavien", cookie)).text
    assert "Thông báo mới" not in narrowed
    older = (await get(harness, f"/manager/admin/audit?before={seqs[0]}", cookie)).text
    assert re.findall(r'data-seq="(\d+)"', older) == [str(s) for s in seqs[1:]]
    bad = await get(harness, "/manager/admin/audit?before=x1", cookie)
    assert bad.status == 400 and "x1" in bad.text


async def test_the_audit_log_pages_by_fifty(harness):
    def write(server) -> None:  # 51 entries as a change writes them, without 51 fsyncs
        server.store.db.conn.executemany(
            "insert into audit_log (at, actor, version, action, site, target, before, after) "
            "values ('2026-11-25T01:00:00+00:00', 'giamdoc', 1, 'site.notice', 'giavien', 'giavien', ?, ?)",
            [(json.dumps({"notice": f"{i}"}), json.dumps({"notice": f"{i + 1}"})) for i in range(51)])
        server.store.db.conn.commit()

    await harness.server.run_db(write, harness.server)
    cookie = await manager_cookie(harness)
    first = (await get(harness, "/manager/admin/audit", cookie)).text
    assert len(re.findall(r'data-seq="', first)) == 50
    older = re.search(r'id="audit-older" href="\?before=(\d+)"', first)
    assert older is not None
    rest = (await get(harness, f"/manager/admin/audit?before={older.group(1)}", cookie)).text
    assert len(re.findall(r'data-seq="', rest)) == 2 and 'id="audit-older"' not in rest


def test_the_templates_hold_no_text_and_ask_only_for_known_keys():
    entries = catalogue("web")
    used: set[str] = set()
    for path in [*TEMPLATES.glob("*.html"), *(ROOT / "server" / "web" / "admin").glob("*.py")]:
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            without_comments = re.sub(r"{#.*?#}", "", source, flags=re.S)
            assert not VIETNAMESE.search(without_comments), f"{path.name}: text belongs in web.toml"
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']""", source))
        used |= set(re.findall(r"""["']((?:adm|login)_[a-z0-9_]+)["']""", source))
    used = {k for k in used if not k.endswith("_")}
    assert len(used) > 120
    assert sorted(k for k in used if k not in entries) == []
    dynamic = [f"adm_tab_{p}" for p in PAGES] + [f"adm_day_{d}" for d in WEEKDAYS]
    dynamic += ["adm_role_clerk", "adm_role_manager", "adm_qr_raster", "adm_qr_native",
                "adm_order_preference", "adm_order_arrival"]
    from server.web.admin.audit import ACTIONS

    dynamic += ["adm_action_" + a.replace(".", "_") for a in ACTIONS]
    assert [k for k in dynamic if k not in entries] == []
    script = (ROOT / "assets" / "web" / "admin.js").read_text(encoding="utf-8")
    assert not VIETNAMESE.search(script)
    for key in set(re.findall(r"""text\("(adm_js_[a-z_]+)""", script)):
        assert key in entries, key


async def test_the_shared_rules_page_is_the_administrator_s(harness):
    cookie = await manager_cookie(harness)
    page = await get(harness, "/manager/admin/rules", cookie)
    assert page.status == 200
    assert '<a href="/manager/admin/rules" aria-current="page">Quy tắc chung</a>' in page.text
    (rules,) = [f for f in forms(page.text) if f["class"] == "centre-edit"]
    config = harness.server.config
    assert rules["base"] == fingerprints(config)["centre"]
    assert rules["change"] == {"kind": "centre", "queue": msgspec.to_builtins(config.queue),
                               "announcement": msgspec.to_builtins(config.announcement),
                               "rating": msgspec.to_builtins(config.rating)}
    outcomes = re.search(r'data-rows="queue.outcomes" data-min="1" data-unique="code">(.*?)</fieldset>',
                         page.text, re.S)
    assert outcomes is not None
    assert re.findall(r'data-field="code" data-type="text" value="([^"]+)" readonly', outcomes.group(1)) == [
        o.code for o in config.queue.outcomes]  # a stored code is shown, not changed
    assert '<template data-row-template><li class="row-item">' in outcomes.group(1)
    assert 'data-placeholders="counter number"' in page.text
    assert "{number} được thay bằng số thứ tự, {counter} bằng số quầy" in page.text
    assert '<option value="ngàn">ngàn</option>' in page.text and 'value="nghìn" selected' in page.text
    english = await get(harness, "/manager/admin/rules?lang=en", cookie)
    assert "<h1>Shared rules</h1>" in english.text and "Interleaved with normal tickets" in english.text
    local = await manager_cookie(harness, "quanly.giavien")
    refused = await get(harness, "/manager/admin/rules", local)
    assert refused.status == 403 and "Chỉ quản trị toàn tỉnh" in refused.text
    for path in ("users", "services?site=giavien", "audit"):
        theirs = (await get(harness, f"/manager/admin/{path}", local)).text
        assert "/manager/admin/rules" not in theirs  # no tab for a page they may not open


async def test_the_administrator_adds_a_site_from_the_hours_page(harness):
    cookie = await manager_cookie(harness)
    hours = (await get(harness, "/manager/admin/hours?site=giavien", cookie)).text
    (adding,) = [f for f in forms(hours) if f["class"] == "site-add"]
    assert adding["base"] == "" and adding["change"]["kind"] == "site_add"
    assert adding["change"]["site"]["services"] == [] and adding["change"]["site"]["kiosks"] == []
    assert 'data-then-site="site.code"' in hours and 'data-not-in="tinh giavien"' in hours
    copy = re.search(r'<select [^>]*name="copy-from"[^>]*>(.*?)</select>', hours, re.S)
    assert copy is not None and 'data-copy-into="site"' in copy.group(0)
    options = re.findall(r'<option value="([^"]+)"( selected)?', copy.group(1))
    assert options == [("tinh", ""), ("giavien", " selected")]
    local = await manager_cookie(harness, "quanly.giavien")
    theirs = (await get(harness, "/manager/admin/hours", local)).text
    assert 'id="add-site"' not in theirs and "site-add" not in theirs


async def test_the_shared_rules_and_a_new_site_are_escaped(harness):
    boss = await manager(harness)
    config = harness.server.config
    evil = "<script>alert('x')</script> & \"o\""
    outcomes = [{**msgspec.to_builtins(o), "name_vi": evil} if o.code == "guided" else msgspec.to_builtins(o)
                for o in config.queue.outcomes]
    await change(boss, "centre", {"kind": "centre", "queue": {**msgspec.to_builtins(config.queue),
                                                              "outcomes": outcomes,
                                                              "pause_reasons": ["</textarea><b>x</b>"]},
                                  "announcement": msgspec.to_builtins(config.announcement),
                                  "rating": msgspec.to_builtins(config.rating)})
    giavien = msgspec.to_builtins(config.site("giavien"))
    await change(boss, None, {"kind": "site_add", "site": {**giavien, "code": "xa-moi", "name": evil}})
    cookie = await manager_cookie(harness)
    rules = (await get(harness, "/manager/admin/rules", cookie)).text
    assert "<script>alert" not in rules and "<b>x</b>" not in rules
    assert 'value="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;o&#34;"' in rules
    (edit,) = [f for f in forms(rules) if f["class"] == "centre-edit"]
    assert next(o for o in edit["change"]["queue"]["outcomes"] if o["code"] == "guided")["name_vi"] == evil
    hours = (await get(harness, "/manager/admin/hours?site=xa-moi", cookie)).text
    assert "<script>alert" not in hours and "&lt;script&gt;alert" in hours  # the chip and the copy choice
    assert 'data-not-in="tinh giavien xa-moi"' in hours
    log = (await get(harness, "/manager/admin/audit", cookie)).text
    assert "<script>" not in log and "Sửa quy tắc chung" in log and "Thêm điểm phục vụ" in log
    assert "Quy tắc xếp hàng · Kết quả phục vụ" in log  # the changed field, named for people


def test_the_new_forms_texts_are_in_the_catalogue():
    from server.web.admin.rules import NAMED_CHOICES, choices

    entries = catalogue("web")
    wanted = ["adm_tab_rules", "adm_action_centre_update", "adm_action_site_add"]
    wanted += [f"adm_{name}_{value}" for name, owner in NAMED_CHOICES.items()
               for value in choices(owner, name)]
    assert [k for k in wanted if k not in entries] == []
