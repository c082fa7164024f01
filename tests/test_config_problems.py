"""Every configuration problem is said in Vietnamese and English (issue 13: "every form
validates and explains errors in Vietnamese"): each check of common/config.py is triggered
here on a broken copy of the example centre, and its texts (assets/translations/config.toml)
have both languages with every placeholder filled; the key is said with names
(common/config_places.py); msgspec's decoding errors and the file's own problems get codes too.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from common.api_key_config import ApiKey
from common.assets import asset_path
from common.config import (
    Booking,
    Config,
    ConfigError,
    Numbering,
    Service,
    config_problems,
    load_config,
    parse_config,
    validation_problems,
)
from common.config_places import SEPARATOR, explained, place
from common.config_problem import ConfigProblem, decoding_problem
from common.i18n import LANGUAGES, catalogue
from common.notify_config import ZaloTemplate
from common.webhook_config import Webhook
from tests.helpers import example_config

CONFIG = example_config()
TINH = CONFIG.sites[0]
EXAMPLE_TEXT = Path(asset_path("config", "example.toml")).read_text(encoding="utf-8")
PLACES = ("item_", "day_", "field_")  # config.toml's names of places, not problems
PROBLEM_CODES = {key for key in catalogue("config") if not key.startswith(PLACES)}
TINH_NAME = "Trung tâm Phục vụ hành chính công tỉnh"

replace = msgspec.structs.replace


def centre(**changes: Any) -> Config:
    return replace(CONFIG, **changes)


def server(**changes: Any) -> Config:
    return centre(server=replace(CONFIG.server, **changes))


def queue(**changes: Any) -> Config:
    return centre(queue=replace(CONFIG.queue, **changes))


def announcement(**changes: Any) -> Config:
    return centre(announcement=replace(CONFIG.announcement, **changes))


def site(**changes: Any) -> Config:
    """The example with its first site (tinh) changed."""
    return centre(sites=[replace(TINH, **changes), *CONFIG.sites[1:]])


def service(index: int, **changes: Any) -> Config:
    services = list(TINH.services)
    services[index] = replace(services[index], **changes)
    return site(services=services)


def numbering(index: int, **changes: Any) -> Config:
    return service(index, numbering=replace(TINH.services[index].numbering, **changes))


def counter(index: int, **changes: Any) -> Config:
    counters = list(TINH.counters)
    counters[index] = replace(counters[index], **changes)
    return site(counters=counters)


def kiosk(**changes: Any) -> Config:
    return site(kiosks=[replace(TINH.kiosks[0], **changes), *TINH.kiosks[1:]])


def display(**changes: Any) -> Config:
    return site(displays=[replace(TINH.displays[0], **changes), *TINH.displays[1:]])


def user(index: int, **changes: Any) -> Config:
    users = list(CONFIG.users)
    users[index] = replace(users[index], **changes)
    return centre(users=users)


API_KEY = ApiKey(id="motcua", name="Một cửa tỉnh", key_hash="a" * 64, scopes=["read"])


def api_keys(*keys: ApiKey) -> Config:
    return centre(api_keys=list(keys))


def notifications(**changes: Any) -> Config:
    """The example with citizen notifications changed; a part given as a dict replaces fields of it."""
    n = CONFIG.notifications
    parts = {k: replace(getattr(n, k), **v) if isinstance(v, dict) else v for k, v in changes.items()}
    return centre(notifications=replace(n, **parts))


ZALO_ON = {"enabled": True, "access_token": "zalo-oa-token"}
SMS_ON = {"enabled": True, "gateway_url": "https://sms.example.vn/send",
          "body": '{"to": "{phone}", "text": "{text}"}'}
NEAR_TEMPLATE = ZaloTemplate(message="near", template_id="101", params={"so": "number"})


NOBODY_SERVES = Service(code="MOI", name_vi="Mới", name_en="New", agency="UBND",
                        numbering=Numbering(prefix="Z"))
GIAVIEN_KIOSK = CONFIG.sites[1].kiosks[0]

HOOK = Webhook(id="motcua", url="https://motcua.example/xephang", secret="s" * 43)


def webhooks(*hooks: Webhook) -> Config:
    return centre(webhooks=list(hooks))


# check → (a broken configuration, the key it is found at)
CASES: dict[str, tuple[Callable[[], Config], str]] = {
    "unknown_time_zone": (lambda: centre(timezone="Asia/Hanoi"), "timezone"),
    "no_sites": (lambda: centre(sites=[]), "sites"),
    "duplicate_rating": (lambda: centre(rating=[*CONFIG.rating, CONFIG.rating[0]]), "rating"),
    "duplicate_site": (lambda: centre(sites=[*CONFIG.sites, CONFIG.sites[1]]), "sites"),
    "shared_token": (lambda: kiosk(token=GIAVIEN_KIOSK.token), "sites"),
    "not_a_port": (lambda: server(port=70000), "server.port"),
    "bad_public_url": (lambda: server(public_url="ftp://10.0.0.5"), "server.public_url"),
    "tls_pair": (lambda: server(tls_key="server.key"), "server.tls_cert"),
    "not_between": (lambda: server(max_message_bytes=10), "server.max_message_bytes"),
    "events_months_range": (lambda: server(keep_events_months=1), "server.keep_events_months"),
    "tickets_months_range": (lambda: server(keep_tickets_months=5000), "server.keep_tickets_months"),
    "not_ip_address": (lambda: server(trusted_proxies=["10.0.0.1", "proxy"]), "server.trusted_proxies[1]"),
    "bad_code": (lambda: site(code="tỉnh"), "sites[0].code"),
    "duplicate_code": (lambda: queue(outcomes=[*CONFIG.queue.outcomes, CONFIG.queue.outcomes[0]]),
                       "queue.outcomes"),
    "no_outcomes": (lambda: queue(outcomes=[]), "queue.outcomes"),
    "template_fields_missing": (lambda: announcement(template="Mời đến quầy {counter}"),
                                "announcement.template"),
    "template_fields_unknown": (lambda: announcement(template="{number} {counter} {name}"),
                                "announcement.template"),
    "rate_range": (lambda: announcement(rate=10), "announcement.rate"),
    "unknown_weekday": (lambda: site(hours={**TINH.hours, "t2": ["07:00-11:00"]}), "sites[0].hours.t2"),
    "bad_span": (lambda: site(hours={**TINH.hours, "sat": ["7h-11h"]}), "sites[0].hours.sat"),
    "span_backwards": (lambda: service(1, hours={"mon": ["11:00-07:00"]}), "sites[0].services[1].hours.mon"),
    "duplicate_service": (lambda: site(services=[*TINH.services, TINH.services[1]]), "sites[0].services"),
    "shared_number": (lambda: numbering(0, prefix="B"), "sites[0].services"),
    "no_services": (lambda: site(services=[]), "sites[0].services"),
    "bad_prefix": (lambda: numbering(0, prefix="a"), "sites[0].services[0].numbering.prefix"),
    "negative": (lambda: numbering(0, start=-1), "sites[0].services[0].numbering.start"),
    "end_not_after_start": (lambda: numbering(0, style="block", start=500, end=100),
                            "sites[0].services[0].numbering.end"),
    "daily_cap_range": (lambda: service(0, daily_cap=5000), "sites[0].services[0].daily_cap"),
    "unserved_service": (lambda: site(services=[*TINH.services, NOBODY_SERVES]), "sites[0].services[14]"),
    "duplicate_counter": (lambda: site(counters=[*TINH.counters, TINH.counters[0]]), "sites[0].counters"),
    "unknown_service": (lambda: counter(1, services=["TP", "GDX"]), "sites[0].counters[1].services"),
    "counter_without_services": (lambda: counter(1, services=[]), "sites[0].counters[1].services"),
    "name_en_empty": (lambda: counter(1, name_en="  "), "sites[0].counters[1].name_en"),
    "name_en_too_long": (lambda: counter(1, name_en="x" * 41), "sites[0].counters[1].name_en"),
    "duplicate_device": (lambda: kiosk(id=TINH.displays[0].id), "sites[0]"),
    "bad_printer": (lambda: kiosk(printer="fax://1"), "sites[0].kiosks[0].printer"),
    "short_token": (lambda: display(token="ngan"), "sites[0].displays[0].token"),
    "unknown_counter": (lambda: display(counters=[1, 998]), "sites[0].displays[0].counters"),
    "duplicate_username": (lambda: centre(users=[*CONFIG.users, CONFIG.users[0]]), "users"),
    "bad_username": (lambda: user(0, username="Lan"), "users[0].username"),
    "not_password_hash": (lambda: user(0, password_hash="xephang"), "users[0].password_hash"),
    "unknown_site": (lambda: user(0, sites=["tinh", "hanoi"]), "users[0].sites"),
    "user_counter_unknown": (lambda: user(0, counters=[998]), "users[0].counters"),
    "share_range": (lambda: service(0, booking=Booking(walk_in_share=1.0)),
                    "sites[0].services[0].booking.walk_in_share"),
    "unknown_priority_class": (lambda: queue(elderly_priority_class="vip"), "queue.elderly_priority_class"),
    "notify_bad_subject": (lambda: notifications(webpush={"enabled": True, "subject": "admin"}),
                           "notifications.webpush.subject"),
    "notify_bad_url": (lambda: notifications(zalo={**ZALO_ON, "endpoint": "zalo.me"}),
                       "notifications.zalo.endpoint"),
    "notify_token_missing": (lambda: notifications(zalo={**ZALO_ON, "access_token": " "}),
                             "notifications.zalo.access_token"),
    "notify_duplicate_template": (lambda: notifications(zalo={"templates": [NEAR_TEMPLATE, NEAR_TEMPLATE]}),
                                  "notifications.zalo.templates"),
    "notify_unknown_fields": (lambda: notifications(
                                  zalo={"templates": [replace(NEAR_TEMPLATE, params={"x": "cccd"})]}),
                              "notifications.zalo.templates[0].params"),
    "notify_sms_fields_missing": (lambda: notifications(sms={**SMS_ON, "body": '{"text": "{text}"}'}),
                                  "notifications.sms.body"),
    "notify_bad_header": (lambda: notifications(sms={**SMS_ON, "headers": {"X-Key": "a\nb"}}),
                          "notifications.sms.headers"),
    "duplicate_webhook": (lambda: webhooks(HOOK, HOOK), "webhooks[1].id"),
    "bad_webhook_id": (lambda: webhooks(replace(HOOK, id="Một cửa")), "webhooks[0].id"),
    "bad_webhook_url": (lambda: webhooks(replace(HOOK, url="ftp://motcua.example")), "webhooks[0].url"),
    "webhook_without_events": (lambda: webhooks(replace(HOOK, events=[])), "webhooks[0].events"),
    "unknown_webhook_event": (lambda: webhooks(replace(HOOK, events=["ticket_eaten"])), "webhooks[0].events"),
    "short_webhook_secret": (lambda: webhooks(replace(HOOK, secret="ngan")), "webhooks[0].secret"),
    "too_long": (lambda: webhooks(replace(HOOK, description="x" * 201)), "webhooks[0].description"),
    "api_port_taken": (lambda: server(api_port=CONFIG.server.port), "server.api_port"),
    "duplicate_api_key": (lambda: api_keys(API_KEY, replace(API_KEY, key_hash="b" * 64)), "api_keys[1].id"),
    "bad_api_key_id": (lambda: api_keys(replace(API_KEY, id="Một cửa")), "api_keys[0].id"),
    "bad_api_key_name": (lambda: api_keys(replace(API_KEY, name=" ")), "api_keys[0].name"),
    "not_key_hash": (lambda: api_keys(replace(API_KEY, key_hash="xk_plain")), "api_keys[0].key_hash"),
    "shared_api_key": (lambda: api_keys(API_KEY, replace(API_KEY, id="khac")), "api_keys[1].key_hash"),
    "api_key_without_scopes": (lambda: api_keys(replace(API_KEY, scopes=[])), "api_keys[0].scopes"),
    "unknown_scope": (lambda: api_keys(replace(API_KEY, scopes=["read", "write"])), "api_keys[0].scopes"),
}

# What is found while reading a file (common/config.py's parse_config): code → (the example's
# text changed from → to, the key, the English as msgspec or Python says it)
READING: dict[str, tuple[tuple[str, str], str, str]] = {
    "wrong_type": (("port = 8765", 'port = "tám"'), "server.port", "Expected `int`, got `str`"),
    "missing_field": (('province = "Tỉnh Ninh Bình"\n', ""), "", "Object missing required field `province`"),
    "unknown_field": (("port = 8765", "port = 8765\ncolour = 1"), "server",
                      "Object contains unknown field `colour`"),
    "invalid_choice": (("paper_width_mm = 80", "paper_width_mm = 60"), "sites[0].kiosks[0].paper_width_mm",
                       "Invalid enum value 60"),
    "not_toml": (("port = 8765", "port = 87 65"), "", "not valid TOML: "),
}
ELSEWHERE = {"cannot_read", "not_utf8", "invalid_value"}  # each has its own test below


def placeholders(template: str) -> set[str]:
    return {name for _text, name, _spec, _conversion in string.Formatter().parse(template) if name}


def assert_said_in_both_languages(found: ConfigProblem) -> None:
    entry = catalogue("config")[found.code]
    for language in LANGUAGES:
        assert placeholders(entry[language]) == set(found.params), (found, language)
        text = found.text(language)
        assert text.strip() and "{" not in text.replace("{number}", "").replace("{counter}", ""), text
    assert found.text("vi") != found.text("en")


def test_every_problem_is_tested():
    assert set(CASES) | set(READING) | ELSEWHERE == PROBLEM_CODES


@pytest.mark.parametrize("code", list(CASES))
def test_each_check_finds_its_problem_and_says_it_in_both_languages(code: str):
    broken, key = CASES[code]
    found = [p for p in validation_problems(broken()) if p.code == code]
    assert found, f"{code}: not found in {validation_problems(broken())}"
    assert key in [p.key for p in found]
    for problem in found:
        assert_said_in_both_languages(problem)
        for language in LANGUAGES:
            assert place(problem.key, broken(), language)


def test_the_example_has_no_problem():
    assert validation_problems(CONFIG) == [] and config_problems(CONFIG) == []


def test_the_english_is_as_the_file_check_says_it():
    """config_problems keeps the (key, English) pairs of `xephang config check` and the server."""
    pairs = config_problems(counter(1, services=["TP", "GDX"]))
    assert pairs == [("sites[0].counters[1].services", "unknown service 'GDX'")]
    pairs = config_problems(numbering(0, prefix="B"))
    assert pairs == [("sites[0].services", "services 'TP' and 'DN' would both print number 'B001'")]
    assert config_problems(server(keep_tickets_months=5000)) == [
        ("server.keep_tickets_months", "must be between keep_events_months and 1200")]
    assert config_problems(site(hours={**TINH.hours, "t2": []})) == [
        ("sites[0].hours.t2", "unknown weekday; use mon, tue, wed, thu, fri, sat, sun")]


def test_the_vietnamese_names_the_values():
    (found,) = validation_problems(counter(1, services=["TP", "GDX"]))
    assert found.text("vi") == "không có dịch vụ 'GDX'"
    (found,) = validation_problems(announcement(template="{number} {counter} {name}"))
    assert found.text("vi") == "có chỗ điền không hợp lệ ['name']"
    (found,) = validation_problems(counter(1, name_en="x" * 41))
    assert found.text("vi") == (
        "41 ký tự; màn hình chỉ hiện vừa tối đa 40 ký tự (ví dụ 'Land registration desk')")
    (found,) = validation_problems(server(max_message_bytes=10))
    assert (found.text("vi"), found.text("en")) == (
        "phải từ 1024 đến 1048576", "must be between 1024 and 1048576")


# -- reading a file --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(READING))
def test_a_file_that_does_not_read_says_why_in_both_languages(code: str):
    (old, new), key, english = READING[code]
    assert EXAMPLE_TEXT.count(old) >= 1, old
    with pytest.raises(ConfigError) as caught:
        parse_config(EXAMPLE_TEXT.replace(old, new, 1), "centre.toml")
    error = caught.value
    assert error.found is not None and error.found.code == code
    assert (error.key, error.found.key) == (key, key)
    assert error.problem.startswith(english) and str(error).startswith("centre.toml: ")
    assert error.problem == error.found.text("en")
    assert_said_in_both_languages(error.found)


def test_a_file_that_is_not_utf8_or_not_there(tmp_path):
    with pytest.raises(ConfigError) as caught:
        parse_config(EXAMPLE_TEXT.encode("utf-16"), "centre.toml")
    assert caught.value.found is not None and caught.value.found.code == "not_utf8"
    assert caught.value.problem == "not UTF-8 text (byte 0); save the file as UTF-8"
    assert_said_in_both_languages(caught.value.found)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "none.toml")
    assert caught.value.found is not None and caught.value.found.code == "cannot_read"
    assert caught.value.problem == "cannot read file (No such file or directory)"
    assert caught.value.found.text("vi") == "không đọc được tệp (No such file or directory)"


def test_a_decoding_message_of_another_kind_is_kept_whole():
    found = decoding_problem("Expected `int` >= 1 - at `$.sites[0].services[2].digits`")
    assert (found.key, found.code, found.text("en")) == (
        "sites[0].services[2].digits", "invalid_value", "Expected `int` >= 1")
    assert found.text("vi") == "giá trị không hợp lệ: Expected `int` >= 1"
    assert decoding_problem("Object missing required field `name`").key == ""


def test_the_validation_finds_the_first_problem_of_a_file_too():
    text = EXAMPLE_TEXT.replace('services = ["TP", "GD"]', 'services = ["TP", "GDX"]', 1)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "centre.toml")
    assert caught.value.found == validation_problems(parse_config_unchecked(text))[0]
    assert str(caught.value) == "centre.toml: sites[0].counters[1].services: unknown service 'GDX'"


def parse_config_unchecked(text: str) -> Config:
    return msgspec.toml.decode(text, type=Config)


# -- the places ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "vi", "en"), [
    ("sites[0].counters[1].services", f"Điểm «{TINH_NAME}» › quầy 2 › dịch vụ",
     f"Site “{TINH_NAME}” › counter 2 › services"),
    ("sites[0].services[1].numbering.prefix", f"Điểm «{TINH_NAME}» › dịch vụ DN › cách đánh số › chữ đầu",
     f"Site “{TINH_NAME}” › service DN › numbering › prefix"),
    ("sites[0].hours.sat", f"Điểm «{TINH_NAME}» › giờ cấp số › thứ Bảy",
     f"Site “{TINH_NAME}” › issuing hours › Saturday"),
    ("sites[0].kiosks[0].printer", f"Điểm «{TINH_NAME}» › kiosk «{TINH.kiosks[0].name}» › máy in",
     f"Site “{TINH_NAME}” › kiosk “{TINH.kiosks[0].name}” › printer"),
    ("sites[0].displays[0].counters", f"Điểm «{TINH_NAME}» › màn hình «{TINH.displays[0].name}» › quầy",
     f"Site “{TINH_NAME}” › display “{TINH.displays[0].name}” › counters"),
    ("users[0].counters", "Người dùng lan › quầy", "User lan › counters"),
    ("queue.outcomes[0].code", "Quy tắc hàng chờ › kết quả received › mã",
     "Queue rules › outcome received › code"),
    ("rating[0].value", "Mức đánh giá 4 › giá trị", "Rating 4 › value"),
    ("server.trusted_proxies[0]", "Máy chủ › proxy tin cậy thứ 1", "Server › trusted proxies #1"),
    ("timezone", "Múi giờ", "Time zone"),
    ("sites", "Điểm phục vụ", "Sites"),
    ("sites[0].hours.t2", f"Điểm «{TINH_NAME}» › giờ cấp số › t2",
     f"Site “{TINH_NAME}” › issuing hours › t2"),
    ("", "", ""),
])
def test_a_key_is_said_with_the_names_of_the_configuration(key: str, vi: str, en: str):
    assert (place(key, CONFIG, "vi"), place(key, CONFIG, "en")) == (vi, en)


def test_without_a_configuration_items_are_counted():
    """A file that did not read has no names to give: the n-th item of its list."""
    assert place("sites[1].services[2].daily_cap", None, "vi") == (
        "Điểm phục vụ thứ 2 › dịch vụ thứ 3 › giới hạn số mỗi ngày")
    assert place("sites[1].services[2].daily_cap", None, "en") == "Sites #2 › services #3 › daily cap"
    assert place("sites[9].counters[0]", CONFIG, "vi") == "Điểm phục vụ thứ 10 › quầy thứ 1"  # past the end


def _struct_fields(struct: type, seen: set[type]) -> set[str]:
    if struct in seen:
        return set()
    seen.add(struct)
    names = set()
    for info in msgspec.structs.fields(struct):
        names.add(info.encode_name)
        for inner in _inner_structs(info.type):
            names |= _struct_fields(inner, seen)
    return names


def _inner_structs(annotation: Any) -> list[type]:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return [annotation]
    return [s for arg in getattr(annotation, "__args__", ()) for s in _inner_structs(arg)]


def test_every_key_of_the_file_has_a_name_in_both_languages():
    names = _struct_fields(Config, set())
    assert {"port", "numbering", "prefix", "paper_width_mm", "must_change_password"} <= names
    labels = catalogue("config")
    missing = sorted(name for name in names if f"field_{name}" not in labels)
    assert not missing, f"config.toml lacks field_ texts for {missing}"
    unused = sorted(key for key in labels if key.startswith("field_") and key[6:] not in names)
    assert not unused, f"config.toml names keys the configuration does not have: {unused}"


def test_a_rejected_change_carries_both_languages():
    broken = counter(1, services=[])
    (found,) = validation_problems(broken)
    said = explained(found, broken)
    assert said == {
        "key": "sites[0].counters[1].services", "check": "counter_without_services",
        "where_vi": f"Điểm «{TINH_NAME}» › quầy 2 › dịch vụ",
        "where_en": f"Site “{TINH_NAME}” › counter 2 › services",
        "problem_vi": "mỗi quầy phải phục vụ ít nhất một dịch vụ",
        "problem_en": "a counter must serve at least one service",
    }
    assert SEPARATOR in said["where_vi"]


# -- the booking settings (issue 14): each range is checked at its own key, named in both languages --


@pytest.mark.parametrize(("broken", "key", "bounds"), [
    (lambda: service(0, booking=Booking(slot_minutes=4)), "sites[0].services[0].booking.slot_minutes",
     (5, 240)),
    (lambda: service(0, booking=Booking(slot_minutes=241)), "sites[0].services[0].booking.slot_minutes",
     (5, 240)),
    (lambda: service(0, booking=Booking(places_per_slot=0)), "sites[0].services[0].booking.places_per_slot",
     (1, 500)),
    (lambda: service(0, booking=Booking(days_ahead=61)), "sites[0].services[0].booking.days_ahead", (0, 60)),
    (lambda: service(0, booking=Booking(per_person_per_day=11)),
     "sites[0].services[0].booking.per_person_per_day", (1, 10)),
    (lambda: service(0, booking=Booking(checkin_early_minutes=-1)),
     "sites[0].services[0].booking.checkin_early_minutes", (0, 240)),
    (lambda: service(0, booking=Booking(checkin_late_minutes=241)),
     "sites[0].services[0].booking.checkin_late_minutes", (0, 240)),
    (lambda: queue(appointments_in_row=0), "queue.appointments_in_row", (1, 50)),
    (lambda: queue(walk_in_wait_limit_minutes=481), "queue.walk_in_wait_limit_minutes", (1, 480)),
    (lambda: queue(elderly_age=39), "queue.elderly_age", (40, 120)),
    (lambda: queue(booking_personal_data_days=0), "queue.booking_personal_data_days", (1, 3650)),
])
def test_each_booking_setting_out_of_its_range_is_said_at_its_key(broken: Callable[[], Config], key: str,
                                                                   bounds: tuple[int, int]):
    config = broken()
    found = [p for p in validation_problems(config) if p.key == key]
    assert [(p.code, p.params) for p in found] == [("not_between", {"low": bounds[0], "high": bounds[1]})]
    assert_said_in_both_languages(found[0])
    field_name = key.rsplit(".", 1)[1]
    for language in LANGUAGES:
        assert place(key, config, language).endswith(catalogue("config")[f"field_{field_name}"][language])


def test_a_negative_walk_in_share_and_an_unknown_late_arrival_rule_are_refused():
    (found,) = [p for p in validation_problems(service(0, booking=Booking(walk_in_share=-0.1)))
                if p.key.endswith("walk_in_share")]
    assert found.code == "share_range"
    text = EXAMPLE_TEXT + '\n[sites.services.booking]\nlate_arrival = "maybe"\n'
    with pytest.raises(ConfigError, match=r"booking\.late_arrival: Invalid enum value 'maybe'"):
        parse_config(text)
