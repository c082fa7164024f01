"""Rating a ticket of an earlier day from its page (after midnight, the next morning, after a
restart): accepted once for a finished ticket within PAST_RATING_DAYS, recorded as a rating
of today would be (tickets.rating and a ``ticket_rated`` event), and counted for its own day.
A real server on 127.0.0.1 with a fake clock; phones and clerks are real websocket clients."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from datetime import date, timedelta

import msgspec
import pytest

from server import stats
from server.core.rules import PAST_RATING_DAYS
from tests.test_web_pages import get

pytestmark = pytest.mark.asyncio
DAY = date(2026, 11, 25)  # the fixture clock's day


async def issue_and_serve(harness, count: int, served: int) -> list[dict]:
    """Issue ``count`` TP tickets; counter 1 calls, serves and finishes the first ``served``."""
    kiosk = await harness.kiosk()
    issued = [
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": f"past-{i:04d}"})
        for i in range(count)]
    clerk = await harness.clerk("lan", 1)
    for _ in range(served):
        harness.clock.advance(minutes=3)
        await clerk.request({"type": "call_next"})
        await clerk.request({"type": "start_service"})
        harness.clock.advance(minutes=5)
        await clerk.request({"type": "finish", "outcome": "received"})
    await kiosk.close()
    await clerk.close()
    return issued


def token_of(issued: dict) -> str:
    return issued["url"].rsplit("/", 1)[1]


async def watch(harness, token: str):
    phone = await harness.client()
    await phone.request({"type": "watch_ticket", "v": 1, "token": token}, expect="welcome")
    return phone, await phone.next_of("ticket_status")


async def roll_over_to(harness, *local: int) -> None:
    """Move the clock to a later local time and let the server roll the day over (the ticker's job)."""
    harness.clock.set_local(*local)
    await harness.server.tick()
    assert harness.server.states["tinh"].day == date(*local[:3])


async def stored(harness, ticket_id: str) -> tuple:
    server = harness.server
    return tuple(await server.run_db(lambda: server.store.db.execute(
        "select rating, (select count(*) from events where type = 'ticket_rated' and ticket_id = ?) "
        "from tickets where id = ?", [ticket_id, ticket_id]).fetchone()))


async def report_of(harness, day: date) -> stats.Report:
    server = harness.server
    return await server.read_db(stats.report, server.config, "tinh", day, day)


async def test_yesterdays_ticket_is_rated_once_after_the_rollover_and_counted_for_its_day(harness):
    issued = await issue_and_serve(harness, 2, served=1)
    done, unserved = issued[0], issued[1]
    await roll_over_to(harness, 2026, 11, 26, 0, 20)
    assert token_of(done) not in harness.server.writer.tokens  # only the database knows it now

    threads: list[str] = []  # the past rating is written on the server's database thread
    store = harness.server.store
    original = store.rate_past_ticket

    def recording(*args):
        threads.append(threading.current_thread().name)
        return original(*args)

    store.rate_past_ticket = recording  # type: ignore[method-assign]
    phone, status = await watch(harness, token_of(done))
    assert status["ticket"]["state"] == "done" and status["ticket"]["rating"] is None
    assert [r["value"] for r in status["rating"]] == [4, 3, 2, 1]
    rated = await phone.request({"type": "rate", "value": 3, "ticket_id": done["ticket"]["id"]})
    assert rated["ticket"]["rating"] == 3 and rated["ticket"]["id"] == done["ticket"]["id"]
    assert threads and all(name.startswith("db") for name in threads)
    assert (await phone.error({"type": "rate", "value": 4}))["code"] == "already_rated"
    other, status = await watch(harness, token_of(done))  # another phone sees the rating
    assert status["ticket"]["rating"] == 3
    assert (await other.error({"type": "rate", "value": 1}))["code"] == "already_rated"

    expired, status = await watch(harness, token_of(unserved))
    assert status["ticket"]["state"] == "expired"
    assert (await expired.error({"type": "rate", "value": 4}))["code"] == "not_rateable"

    assert await stored(harness, done["ticket"]["id"]) == (3, 1)
    assert await stored(harness, unserved["ticket"]["id"]) == (None, 0)
    server = harness.server
    event = await server.run_db(lambda: server.store.db.execute(
        "select actor, counter, data from events where type = 'ticket_rated'").fetchone())
    assert event[0] == "watcher" and event[1] == 1  # as a rating of today: the phone, the counter
    assert json.loads(event[2]) == {"rating": 3}  # the event keeps what it set (server/event_rows.py)
    report = await report_of(harness, DAY)
    assert report.summary["rated"] == 1 and report.summary["ratings"] == {3: 1}
    assert report.channels == {"phone": 1, "counter": 0}
    assert (await report_of(harness, DAY + timedelta(days=1))).summary["rated"] == 0
    for client in (phone, other, expired):
        await client.close()

    await harness.restart()  # durable: the rating, its event and the figures survive
    assert await stored(harness, done["ticket"]["id"]) == (3, 1)
    assert (await report_of(harness, DAY)).summary["ratings"] == {3: 1}
    phone, status = await watch(harness, token_of(done))
    assert status["ticket"]["rating"] == 3
    assert (await phone.error({"type": "rate", "value": 2}))["code"] == "already_rated"
    await phone.close()


async def test_a_page_left_open_over_midnight_rates_before_the_ticker_rolls_over(harness):
    (done,) = await issue_and_serve(harness, 1, served=1)
    phone, status = await watch(harness, token_of(done))  # today's ticket, followed live
    assert status["ticket"]["state"] == "done"
    harness.clock.set_local(2026, 11, 26, 0, 1)  # midnight passed; no tick has run yet
    rated = await phone.request({"type": "rate", "value": 4})
    assert rated["ticket"]["rating"] == 4
    assert harness.server.states["tinh"].day == date(2026, 11, 26)  # rolled over first
    assert done["ticket"]["id"] not in harness.server.states["tinh"].tickets
    assert await stored(harness, done["ticket"]["id"]) == (4, 1)
    assert (await phone.error({"type": "rate", "value": 1}))["code"] == "already_rated"
    await phone.close()


async def test_a_ticket_can_be_rated_for_a_limited_number_of_days(harness):
    first, second = await issue_and_serve(harness, 2, served=2)
    last = DAY + timedelta(days=PAST_RATING_DAYS)
    await roll_over_to(harness, last.year, last.month, last.day, 23, 50)
    phone, status = await watch(harness, token_of(first))
    assert len(status["rating"]) == 4
    assert (await phone.request({"type": "rate", "value": 2}))["ticket"]["rating"] == 2
    await phone.close()

    too_late = last + timedelta(days=1)
    await roll_over_to(harness, too_late.year, too_late.month, too_late.day, 0, 10)
    phone, status = await watch(harness, token_of(second))
    assert status["ticket"]["state"] == "done" and status["rating"] == []  # no scale offered
    assert (await phone.error({"type": "rate", "value": 4}))["code"] == "not_rateable"
    await phone.close()
    assert await stored(harness, second["ticket"]["id"]) == (None, 0)
    phone, status = await watch(harness, token_of(first))  # a rated one still names its level
    assert status["ticket"]["rating"] == 2 and len(status["rating"]) == 4
    await phone.close()


async def test_two_phones_rating_a_past_ticket_at_once_record_one_rating(harness):
    (done,) = await issue_and_serve(harness, 1, served=1)
    await roll_over_to(harness, 2026, 11, 26, 7, 0)
    phones = [(await watch(harness, token_of(done)))[0] for _ in range(2)]

    async def rate(phone, value: int) -> dict:
        await phone.ws.send(json.dumps({"type": "rate", "id": "r", "value": value}))
        while True:  # the reply, past any other message
            message = json.loads(await asyncio.wait_for(phone.ws.recv(), 5))
            if message.get("re") == "r":
                return message

    replies = await asyncio.gather(rate(phones[0], 4), rate(phones[1], 1))
    # which one wins is the database thread's order; exactly one does
    assert sorted(r["type"] for r in replies) == ["error", "result"]
    assert next(r for r in replies if r["type"] == "error")["code"] == "already_rated"
    rating, events = await stored(harness, done["ticket"]["id"])
    assert rating in (4, 1) and events == 1
    for phone in phones:
        await phone.close()


async def test_past_tickets_stay_read_only_otherwise(harness):
    (done,) = await issue_and_serve(harness, 1, served=1)
    await roll_over_to(harness, 2026, 11, 26, 8, 0)
    clerk = await harness.clerk("lan", 1)  # the counter's rating window: today's tickets only
    refused = await clerk.error({"type": "rate", "value": 4, "ticket_id": done["ticket"]["id"]})
    assert refused["code"] == "not_rateable"
    phone, _ = await watch(harness, token_of(done))
    assert (await phone.error({"type": "rate", "value": 4, "ticket_id": "tinh:2026-11-25:TP:9"}))["code"] \
        == "forbidden"
    assert (await phone.error({"type": "rate", "value": 9}))["code"] == "invalid_rating"
    assert (await phone.error({"type": "call_next"}))["code"] == "forbidden"
    assert await stored(harness, done["ticket"]["id"]) == (None, 0)
    unknown = await harness.client()
    missing = await unknown.error({"type": "watch_ticket", "v": 1, "token": "AAAAAAAAAAAAAAAAAAAAAA"})
    assert missing["code"] == "ticket_not_found"
    for client in (clerk, phone, unknown):
        await client.close()


def page_status(text: str) -> dict:
    found = re.search(r'<script type="application/json" id="ticket-data">(.*?)</script>', text, re.S)
    assert found is not None
    return msgspec.json.decode(found.group(1).replace("<\\/", "</"))["status"]


async def test_the_ticket_page_after_a_restart_offers_the_scale_until_rated(harness):
    (done,) = await issue_and_serve(harness, 1, served=1)
    harness.clock.set_local(2026, 11, 26, 9, 0)
    await harness.restart()  # the new day: yesterday's token is only in the database
    page = await get(harness, f"/t/{token_of(done)}")
    assert page.status == 200 and "ticket.js" in page.text and "25/11/2026, đã hết hiệu lực" in page.text
    status = page_status(page.text)
    assert status["ticket"]["state"] == "done" and status["ticket"]["rating"] is None
    assert [r["value"] for r in status["rating"]] == [4, 3, 2, 1]
    phone, _ = await watch(harness, token_of(done))
    await phone.request({"type": "rate", "value": 3})
    await phone.close()
    assert page_status((await get(harness, f"/t/{token_of(done)}")).text)["ticket"]["rating"] == 3
