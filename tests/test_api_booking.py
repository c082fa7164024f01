"""The integration API's appointment and check-in routes (scope ``book``): a real server with
booking turned on (tests/booking_fixtures.py) and its API on 127.0.0.1, a real aiohttp client.
The rules are the websocket's (server/handlers/booking.py): the same refusals with the same
codes, as HTTP statuses; the channel is "api" and the actor "api:<key id>"; every response
validates against the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import msgspec
import pytest

from server.api.openapi import document
from server.api.routes import ROUTES
from tests.booking_fixtures import booking_config
from tests.test_api import Api, create_key
from tests.test_api_openapi import problems

pytestmark = pytest.mark.asyncio
DOC = document(ROUTES)
CCCD = "037085001234"
OTHER = "001190004321"
SLOTS = "/api/v1/sites/tinh/services/TP/slots"


@pytest.fixture
def config():
    base = booking_config()
    return msgspec.structs.replace(base, server=msgspec.structs.replace(base.server, api_port=0))


class Checked(Api):
    """Every answer checked against the documented schema of its route and status."""

    async def call(self, method: str, path: str, key: str | None = None, **kw: Any) -> tuple[int, Any, Any]:
        status, value, headers = await super().call(method, path, key, **kw)
        route = next(r for r in ROUTES if r.method == method
                     and re.fullmatch(re.sub(r"{\w+}", r"[^/]+", r.path), path.split("?")[0]))
        documented = DOC["paths"][route.path][method.lower()]["responses"]
        assert str(status) in documented, (method, path, status, value)
        assert problems(value, documented[str(status)]["content"]["application/json"]["schema"]) == [], value
        return status, value, headers


@pytest.fixture
async def api(harness):
    async with aiohttp.ClientSession() as session:
        yield Checked(harness, session)


def booking(start: str, cccd: str = CCCD, **changes: str) -> dict[str, str]:
    return {"service": "TP", "start": start, "name": "Nguyễn Văn An", "phone": "+84 912 345 678",
            "cccd": cccd, **changes}


async def book_key(harness, ident: str = "letan", sites: list[str] | None = None) -> str:
    return await create_key(harness, ident, ["book"], sites, burst=500, rate_per_second=100.0)


async def test_slots_book_look_up_and_cancel_as_the_booking_page_does(harness, api):
    key = await book_key(harness)
    status, slots, _ = await api.call("GET", f"{SLOTS}?day=2026-11-26", key)
    assert status == 200 and (slots["slots"][0]["start"], slots["slots"][0]["left"]) == (
        "2026-11-26T07:00:00+07:00", 2)
    status, made, _ = await api.call("POST", "/api/v1/sites/tinh/bookings", key,
                                     body=booking("2026-11-26T07:00:00+07:00"))
    assert status == 201 and made["status"] == "booked"
    assert (made["phone_masked"], made["cccd_last4"]) == ("091•••••78", "1234")
    assert made["checkin_opens"] == "2026-11-26T06:30:00+07:00"
    code = made["code"]
    _, slots, _ = await api.call("GET", f"{SLOTS}?day=2026-11-26", key)
    assert slots["slots"][0]["left"] == 1
    dashed = f"{code[:4]}-{code[4:]}".lower()
    status, found, _ = await api.call("GET", f"/api/v1/sites/tinh/bookings/{dashed}", key)
    assert status == 200 and found == made
    status, cancelled, _ = await api.call("DELETE", f"/api/v1/sites/tinh/bookings/{code}", key)
    assert status == 200 and cancelled["status"] == "cancelled"
    status, again, _ = await api.call("DELETE", f"/api/v1/sites/tinh/bookings/{code}", key)
    assert status == 200 and again["status"] == "cancelled"
    _, slots, _ = await api.call("GET", f"{SLOTS}?day=2026-11-26", key)
    assert slots["slots"][0]["left"] == 2
    conn = harness.server.store.db.conn
    assert conn.execute("select channel from bookings where code = ?", [code]).fetchone() == ("api",)
    events = conn.execute(
        "select type, actor, data from events where type like 'booking_%' order by seq").fetchall()
    assert [(t, a) for t, a, _ in events] == [("booking_made", "api:letan"),
                                              ("booking_cancelled", "api:letan")]
    assert all(CCCD not in d and "Nguyễn" not in d for _, _, d in events)


async def test_the_booking_rules_refuse_with_the_websockets_codes(harness, api):
    key = await book_key(harness)

    async def refused(method: str, path: str, body: Any = None) -> tuple[int, str, dict[str, Any]]:
        status, value, _ = await api.call(method, path, key, body=body)
        return status, value["error"]["code"], value["error"]["details"]

    start = "2026-11-26T08:00:00+07:00"
    post = "/api/v1/sites/tinh/bookings"
    assert (await api.call("POST", post, key, body=booking(start)))[0] == 201
    assert (await api.call("POST", post, key, body=booking(start, OTHER)))[0] == 201
    full = await refused("POST", post, booking(start, "001200000001"))
    assert full == (409, "slot_full", {"start": "08:00"})
    assert (await api.call("POST", post, key, body=booking("2026-11-26T09:00:00+07:00")))[0] == 201
    limit = await refused("POST", post, booking("2026-11-26T10:00:00+07:00"))
    assert limit == (409, "person_limit", {"limit": 2})
    for changes, expected in (({"cccd": "123456789012"}, (400, "invalid_cccd")),
                              ({"phone": "0212345678"}, (400, "invalid_phone")),
                              ({"name": "An1"}, (400, "invalid_name")),
                              ({"start": "2026-11-26T08:10:00+07:00"}, (400, "no_such_slot")),
                              ({"start": "2026-11-25T07:30:00+07:00"}, (409, "slot_past")),
                              ({"start": "2026-12-09T08:00:00+07:00"}, (409, "day_out_of_range")),
                              ({"service": "GPLX"}, (409, "not_bookable")),
                              ({"service": "NOPE"}, (400, "unknown_service"))):
        answer = await refused("POST", post, {**booking(start, "001200000002"), **changes})
        assert answer[:2] == expected, changes
    assert (await refused("POST", post, {"service": "TP"}))[:2] == (400, "bad_field")
    assert (await refused("POST", post, {**booking(start), "start": "8 giờ"}))[:2] == (400, "bad_field")
    assert (await refused("GET", f"{SLOTS}?day=26-11-2026"))[:2] == (400, "bad_parameter")
    assert (await refused("GET", SLOTS))[:2] == (400, "bad_parameter")
    assert (await refused("GET", f"{SLOTS}?day=2026-12-09"))[:2] == (409, "day_out_of_range")
    assert (await refused("GET", "/api/v1/sites/tinh/services/GPLX/slots?day=2026-11-26"))[:2] == (
        409, "not_bookable")
    for code in ("AAAA-AAAA", "hello"):  # unknown and malformed alike: nothing to enumerate
        for method in ("GET", "DELETE"):
            answer = await refused(method, f"/api/v1/sites/tinh/bookings/{code}")
            assert answer[:2] == (404, "booking_not_found"), (method, code)


async def test_attempts_for_one_cccd_are_paced_as_on_the_booking_page(harness, api):
    key = await book_key(harness)
    answers = []
    for _ in range(12):  # a slot that is not one: refused before the database, counted all the same
        status, _, headers = await api.call("POST", "/api/v1/sites/tinh/bookings", key,
                                            body=booking("2026-11-26T08:10:00+07:00"))
        answers.append((status, headers.get("Retry-After")))
    assert answers[:10] == [(400, None)] * 10 and answers[10:] == [(429, "180")] * 2
    status, _, _ = await api.call("POST", "/api/v1/sites/tinh/bookings", key,
                                  body=booking("2026-11-26T08:00:00+07:00", OTHER))
    assert status == 201  # another person is not held back


async def test_scopes_and_sites(harness, api):
    tinh = await book_key(harness, "tinh", ["tinh"])
    both = await book_key(harness, "hai", ["tinh", "giavien"])
    reader = await create_key(harness, "doc", ["read", "issue"])
    _, made, _ = await api.call("POST", "/api/v1/sites/tinh/bookings", tinh,
                                body=booking("2026-11-26T07:00:00+07:00"))
    code = made["code"]
    status, value, _ = await api.call("GET", f"/api/v1/sites/tinh/bookings/{code}", reader)
    assert (status, value["error"]["code"]) == (403, "scope_missing")
    status, value, _ = await api.call("GET", f"/api/v1/sites/giavien/bookings/{code}", tinh)
    assert (status, value["error"]["code"]) == (403, "site_not_allowed")
    status, value, _ = await api.call("GET", f"/api/v1/sites/giavien/bookings/{code}", both)
    assert (status, value["error"]["code"]) == (404, "booking_not_found")  # another site's: not found
    status, value, _ = await api.call("DELETE", f"/api/v1/sites/giavien/bookings/{code}", both)
    assert (status, value["error"]["code"]) == (404, "booking_not_found")
    assert (await api.call("GET", f"/api/v1/sites/tinh/bookings/{code}", both))[1]["status"] == "booked"
    giavien = await book_key(harness, "giavien", ["giavien"])
    status, value, _ = await api.call("POST", "/api/v1/sites/giavien/check-ins", giavien,
                                      body={"code": code})
    assert (status, value["error"]["code"]) == (404, "booking_not_found")


async def test_check_in_by_code_and_by_cccd_issues_the_appointment_ticket(harness, api, clock):
    key = await book_key(harness)
    post = "/api/v1/sites/tinh/bookings"
    _, first, _ = await api.call("POST", post, key, body=booking("2026-11-25T09:00:00+07:00"))
    _, second, _ = await api.call("POST", post, key, body=booking("2026-11-25T10:00:00+07:00", OTHER,
                                                                    name="Trần Thị Bình"))
    checkin = "/api/v1/sites/tinh/check-ins"
    status, early, _ = await api.call("POST", checkin, key, body={"code": first["code"]})
    assert (status, early["error"]["code"], early["error"]["details"]["opens"]) == (409, "checkin_too_early",
                                                                                   "08:30")
    for body in ({}, {"code": first["code"], "cccd": CCCD},
                 {"code": first["code"], "idempotency_key": "ngan"}):
        status, value, _ = await api.call("POST", checkin, key, body=body)
        assert (status, value["error"]["code"]) == (400, "bad_message"), body
    clock.set_local(2026, 11, 25, 8, 45)
    status, done, _ = await api.call("POST", checkin, key, body={"code": first["code"].lower()})
    assert status == 201 and (done["booking"], done["late"]) == (first["code"], False)
    ticket = done["ticket"]
    assert (ticket["appointment_at"], ticket["booking"], ticket["issued_by"], ticket["state"]) == (
        "2026-11-25T02:00:00Z", first["code"], "api:letan", "waiting")
    assert done["url"].endswith("/t/" + harness.server.states["tinh"].tickets[ticket["id"]].token)
    status, again, _ = await api.call("POST", checkin, key, body={"code": first["code"]})
    assert status == 200 and again["ticket"]["id"] == ticket["id"]
    clock.set_local(2026, 11, 25, 9, 55)
    status, by_card, _ = await api.call("POST", checkin, key,
                                        body={"cccd": OTHER, "idempotency_key": "quay-le-tan"})
    assert status == 201 and by_card["booking"] == second["code"]
    assert by_card["ticket"]["appointment_at"] == "2026-11-25T03:00:00Z"
    status, looked, _ = await api.call("GET", f"/api/v1/sites/tinh/bookings/{second['code']}", key)
    assert looked["status"] == "checked_in"
    status, value, _ = await api.call("DELETE", f"/api/v1/sites/tinh/bookings/{second['code']}", key)
    assert (status, value["error"]["code"]) == (409, "booking_checked_in")
    status, none, _ = await api.call("POST", checkin, key, body={"cccd": OTHER})
    assert (status, none["error"]["code"]) == (404, "booking_not_found")  # nothing open any more today
    status, ticket_now, _ = await api.call("GET", f"/api/v1/sites/tinh/bookings/{first['code']}", key)
    assert ticket_now["status"] == "checked_in"


async def test_a_late_arrival_gets_an_ordinary_number_marked_late(harness, api, clock):
    key = await book_key(harness)
    _, made, _ = await api.call("POST", "/api/v1/sites/tinh/bookings", key,
                                body=booking("2026-11-25T09:00:00+07:00"))
    clock.set_local(2026, 11, 25, 9, 20)  # the window closed at 09:10; the rule: a walk-in number
    status, done, _ = await api.call("POST", "/api/v1/sites/tinh/check-ins", key, body={"code": made["code"]})
    assert status == 201 and done["late"] is True
    assert (done["ticket"]["appointment_at"], done["ticket"]["booking"]) == (None, made["code"])


async def test_a_booking_moves_to_another_slot_under_the_booking_rules(harness, api, clock):
    key = await book_key(harness)
    post = "/api/v1/sites/tinh/bookings"
    _, made, _ = await api.call("POST", post, key, body=booking("2026-11-26T07:00:00+07:00"))
    code = made["code"]
    move = f"/api/v1/sites/tinh/bookings/{code[:4]}-{code[4:]}/move"
    status, moved, _ = await api.call("POST", move, key, body={"start": "2026-11-27T09:00:00+07:00"})
    assert status == 200 and (moved["code"], moved["status"], moved["start"], moved["end"]) == (
        code, "booked", "2026-11-27T09:00:00+07:00", "2026-11-27T09:30:00+07:00")
    assert moved["checkin_opens"] == "2026-11-27T08:30:00+07:00"
    _, slots, _ = await api.call("GET", f"{SLOTS}?day=2026-11-26", key)
    assert slots["slots"][0]["left"] == 2  # the old place is free again
    _, slots, _ = await api.call("GET", f"{SLOTS}?day=2026-11-27", key)
    assert next(s["left"] for s in slots["slots"] if s["start"] == "2026-11-27T09:00:00+07:00") == 1
    assert (await api.call("GET", f"{post}/{code}", key))[1] == moved
    conn = harness.server.store.db.conn
    events = conn.execute(
        "select type, actor, data from events where type like 'booking_%' order by seq").fetchall()
    assert [(t, a) for t, a, _ in events] == [("booking_made", "api:letan"), ("booking_moved", "api:letan")]
    assert '"from_slot_start":"2026-11-26T00:00:00+00:00"' in events[1][2].replace(" ", "")

    async def refused(path: str, body: Any, with_key: str = key) -> tuple[int, str]:
        status, value, _ = await api.call("POST", path, with_key, body=body)
        return status, value["error"]["code"]

    for other in (OTHER, "001200000001"):  # fill 08:00 (two places bookable)
        assert (await api.call("POST", post, key, body=booking("2026-11-27T08:00:00+07:00", other)))[0] == 201
    for body, expected in (({"start": "2026-11-27T08:00:00+07:00"}, (409, "slot_full")),
                           ({"start": "2026-11-27T08:10:00+07:00"}, (400, "no_such_slot")),
                           ({"start": "2026-11-25T07:30:00+07:00"}, (409, "slot_past")),
                           ({"start": "2026-12-09T08:00:00+07:00"}, (409, "day_out_of_range")),
                           ({"start": "mai"}, (400, "bad_field")),
                           ({}, (400, "bad_field")),
                           ({"start": "2026-11-27T10:00:00+07:00", "service": "DD"}, (400, "bad_field"))):
        assert await refused(move, body) == expected, body
    assert await refused("/api/v1/sites/tinh/bookings/AAAA-AAAA/move",
                         {"start": "2026-11-27T10:00:00+07:00"}) == (404, "booking_not_found")
    both = await book_key(harness, "hai", ["tinh", "giavien"])
    elsewhere = f"/api/v1/sites/giavien/bookings/{code}/move"  # another site's booking: not found
    later = {"start": "2026-11-27T10:00:00+07:00"}
    assert await refused(elsewhere, later, both) == (404, "booking_not_found")
    reader = await create_key(harness, "doc", ["read", "issue"])
    assert await refused(move, {"start": "2026-11-27T10:00:00+07:00"}, reader) == (403, "scope_missing")
    _, cancelled, _ = await api.call("POST", post, key, body=booking("2026-11-26T09:00:00+07:00", OTHER))
    await api.call("DELETE", f"{post}/{cancelled['code']}", key)
    assert await refused(f"{post}/{cancelled['code']}/move", {"start": "2026-11-27T10:00:00+07:00"}) == (
        409, "booking_cancelled")
    _, today, _ = await api.call("POST", post, key, body=booking("2026-11-25T09:00:00+07:00", "001200000003"))
    clock.set_local(2026, 11, 25, 8, 45)
    checkin = {"code": today["code"]}
    assert (await api.call("POST", "/api/v1/sites/tinh/check-ins", key, body=checkin))[0] == 201
    assert await refused(f"{post}/{today['code']}/move", {"start": "2026-11-27T10:00:00+07:00"}) == (
        409, "booking_checked_in")
    assert (await api.call("GET", f"{post}/{code}", key))[1]["start"] == "2026-11-27T09:00:00+07:00"


async def test_a_remote_number_for_today_is_a_waiting_ticket_of_channel_api(harness, api):
    key = await book_key(harness)
    remote = "/api/v1/sites/tinh/remote-tickets"
    body = {"service": "TP", "name": "Lê Thị Cúc", "phone": "0912345678", "cccd": CCCD}
    status, taken, _ = await api.call("POST", remote, key, body=body)
    assert status == 201
    ticket = taken["ticket"]
    assert (ticket["site"], ticket["service"], ticket["state"], ticket["issued_by"]) == (
        "tinh", "TP", "waiting", "api:letan")
    assert ticket["ahead"] == 0 and ticket["booking"] is None
    token = harness.server.states["tinh"].tickets[ticket["id"]].token
    assert taken["url"].endswith(f"/t/{token}")
    status, again, _ = await api.call("GET", f"/api/v1/sites/tinh/tickets/{ticket['number']}",
                                      await create_key(harness, "doc", ["read"]))
    assert status == 200 and again["id"] == ticket["id"]
    conn = harness.server.store.db.conn
    assert conn.execute("select kind, channel, status, ticket_id from bookings").fetchall() == [
        ("remote", "api", "checked_in", ticket["id"])]
    status, second, _ = await api.call("POST", remote, key, body={**body, "service": "GPLX"})
    assert status == 201 and second["ticket"]["service"] == "GPLX"

    async def refused(changes: dict[str, str]) -> tuple[int, str]:
        status, value, _ = await api.call("POST", remote, key, body={**body, **changes})
        return status, value["error"]["code"]

    assert await refused({}) == (409, "person_limit")  # two numbers today for this CCCD already
    for changes, expected in (({"service": "DD", "cccd": OTHER}, (409, "remote_not_offered")),
                              ({"service": "NOPE", "cccd": OTHER}, (400, "unknown_service")),
                              ({"cccd": "123456789012"}, (400, "invalid_cccd")),
                              ({"phone": "12345", "cccd": OTHER}, (400, "invalid_phone")),
                              ({"name": "X", "cccd": OTHER}, (400, "invalid_name"))):
        assert await refused(changes) == expected, changes
    status, value, _ = await api.call("POST", remote, key, body={"service": "TP"})
    assert (status, value["error"]["code"]) == (400, "bad_field")
    tinh = await book_key(harness, "tinh", ["tinh"])
    status, value, _ = await api.call("POST", "/api/v1/sites/giavien/remote-tickets", tinh,
                                      body={**body, "cccd": OTHER})
    assert (status, value["error"]["code"]) == (403, "site_not_allowed")
    assert conn.execute("select count(*) from bookings where kind = 'remote'").fetchone() == (2,)
