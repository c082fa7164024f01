"""Counters' English names: configuration, protocol, the server's views and the web pages.

The GUI side (board, counter display, counter app after switching language) is in
tests/test_counter_names_en_gui.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from common import protocol as p
from common.assets import asset_path
from common.config import COUNTER_NAME_EN_MAX, ConfigError, parse_config
from server import wire
from tests.helpers import DISPLAY_TOKEN, example_config
from tests.test_web_pages import get, manager_cookie

COUNTER_ONE = 'number = 1\nname = "Tư pháp 1"\nname_en = "Justice desk 1"\n'


def example_with(counter_one: str) -> str:
    """The example configuration with the first counter's lines replaced."""
    text = Path(asset_path("config", "example.toml")).read_text(encoding="utf-8")
    assert text.count(COUNTER_ONE) == 1
    return text.replace(COUNTER_ONE, counter_one)


# -- configuration ---------------------------------------------------------------------------


def test_every_example_counter_has_its_own_english_name():
    for site in example_config().sites:
        for counter in site.counters:
            assert counter.name_en and counter.name_en != counter.name, counter
            assert counter.english_name == counter.name_en
    assert example_config().site("giavien").counter(2).english_name == "Land – Construction"


def test_without_name_en_a_counter_shows_its_vietnamese_name():
    config = parse_config(example_with('number = 1\nname = "Tư pháp 1"\n'))
    counter = config.site("tinh").counter(1)
    assert counter.name_en is None and counter.english_name == "Tư pháp 1"


@pytest.mark.parametrize(("value", "problem"), [
    ('""', "must not be empty"),
    ('"   "', "must not be empty"),
    (f'"{"x" * (COUNTER_NAME_EN_MAX + 1)}"', f"{COUNTER_NAME_EN_MAX + 1} characters; at most 40"),
])
def test_an_empty_or_too_long_english_name_is_refused(value, problem):
    with pytest.raises(ConfigError) as caught:
        parse_config(example_with(f'number = 1\nname = "Tư pháp 1"\nname_en = {value}\n'), "centre.toml")
    error = caught.value
    assert (error.file, error.key) == ("centre.toml", "sites[0].counters[0].name_en")
    assert problem in error.problem


def test_an_english_name_of_exactly_the_limit_is_accepted():
    name = "y" * COUNTER_NAME_EN_MAX
    config = parse_config(example_with(f'number = 1\nname = "Tư pháp 1"\nname_en = "{name}"\n'))
    assert config.site("tinh").counter(1).english_name == name


# -- protocol --------------------------------------------------------------------------------


def test_counter_view_round_trips_with_its_english_name():
    view = p.CounterView(number=3, name="Tài chính", name_en="Finance desk", services=["DN"], status="open")
    back = msgspec.json.decode(p.encode(view), type=p.CounterView)
    assert back == view and back.name_in("en") == "Finance desk" and back.name_in("vi") == "Tài chính"


def test_call_view_round_trips_inside_an_update():
    call = p.CallView(seq=7, ticket_id="tinh:2026-11-25:B001", number="B001", service="DN", counter=3,
                      counter_name="Tài chính", counter_name_en="Finance desk", reason="next",
                      at=datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    message = p.decode_server(p.encode(p.Update(site="tinh", calls=[call])))
    assert isinstance(message, p.Update) and message.calls == [call]
    assert message.calls[0].counter_name_in("en") == "Finance desk"
    assert message.calls[0].counter_name_in("vi") == "Tài chính"


def test_a_server_that_sends_no_english_names_still_decodes_and_shows_the_vietnamese_ones():
    old = (b'{"type": "update", "site": "tinh",'
           b' "counters": [{"number": 3, "name": "T\\u00e0i ch\\u00ednh", "services": ["DN"],'
           b' "status": "open"}],'
           b' "calls": [{"seq": 1, "ticket_id": "x", "number": "B001", "service": "DN", "counter": 3,'
           b' "counter_name": "T\\u00e0i ch\\u00ednh", "reason": "next", "at": "2026-11-25T01:00:00Z"}]}')
    message = p.decode_server(old)
    assert isinstance(message, p.Update)
    assert message.counters[0].name_en == "" and message.counters[0].name_in("en") == "Tài chính"
    assert message.calls[0].counter_name_en == "" and message.calls[0].counter_name_in("en") == "Tài chính"


# -- the server ------------------------------------------------------------------------------


async def test_the_server_sends_english_names_in_counters_and_calls(harness):
    display = await harness.client()
    await display.request({"type": "login_device", "v": 1, "token": DISPLAY_TOKEN}, expect="welcome")
    snapshot = await display.next_of("snapshot")
    names = {c["number"]: (c["name"], c["name_en"]) for c in snapshot["counters"]}
    assert names[1] == ("Tư pháp 1", "Justice desk 1")
    assert names[7] == ("Y tế – Công Thương", "Health – Industry & Trade")
    kiosk = await harness.kiosk()
    await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "english-0001"})
    clerk = await harness.clerk("lan", 1)
    called = await clerk.request({"type": "call_next"})
    assert called["counter"]["name_en"] == "Justice desk 1"
    update = await display.next_of("update")
    while not update["calls"]:
        update = await display.next_of("update")
    assert (update["calls"][0]["counter_name"], update["calls"][0]["counter_name_en"]) == (
        "Tư pháp 1", "Justice desk 1")
    for client in (display, kiosk, clerk):
        await client.close()


async def test_calls_restored_after_a_restart_keep_their_english_names(harness):
    kiosk = await harness.kiosk()
    await kiosk.request({"type": "issue_ticket", "service": "DN", "idempotency_key": "english-0002"})
    clerk = await harness.clerk("hung", 3)
    await clerk.request({"type": "call_next"})
    await kiosk.close()
    await clerk.close()
    server = await harness.restart()
    calls = list(server.fanout.recent_calls["tinh"])
    assert [(c.counter, c.counter_name_en) for c in calls] == [(3, "Finance desk")]


async def test_counter_view_takes_the_configured_english_name(harness):
    server = harness.server
    state = server.states["tinh"]
    view = wire.counter_view(server.config, state, state.counters[13])
    assert (view.name, view.name_en) == ("Điện lực – Văn hóa", "Electricity – Culture")


# -- web pages -------------------------------------------------------------------------------


async def test_the_ticket_page_carries_the_english_counter_names_for_its_toggle(harness):
    kiosk = await harness.kiosk()
    issued = await kiosk.request({"type": "issue_ticket", "service": "YT", "idempotency_key": "english-0003"})
    await kiosk.close()
    page = await get(harness, f"/t/{issued['url'].rsplit('/', 1)[1]}")
    found = re.search(r'<script type="application/json" id="ticket-data">(.*?)</script>', page.text, re.S)
    assert found, page.text
    names = json.loads(found.group(1))["counter_names_en"]
    assert names["7"] == "Health – Industry & Trade" and len(names) == 14


async def test_manager_pages_in_english_show_english_counter_names(harness):
    cookie = await manager_cookie(harness)
    data = json.loads((await get(harness, "/manager/api/overview?site=tinh", cookie=cookie)).body)
    assert {c["number"]: c["name_en"] for c in data["counters"]}[11] == "Social insurance desk"
    english = await get(harness, "/manager/live?site=tinh&lang=en", cookie=cookie)
    vietnamese = await get(harness, "/manager/live?site=tinh&lang=vi", cookie=cookie)
    assert "Social insurance desk" in english.text and "Bảo hiểm xã hội</p>" not in english.text
    assert "Bảo hiểm xã hội</p>" in vietnamese.text and "Social insurance desk" not in vietnamese.text


def test_report_labels_name_counters_in_the_page_language():
    from common.i18n import Translator
    from server.web.labels import group_label

    config = example_config()
    assert group_label(config, "tinh", "counter", 12, Translator("web", "en")) == "Counter 12 · Tax desk"
    assert group_label(config, "tinh", "counter", 12, Translator("web", "vi")) == "Quầy 12 · Thuế"
