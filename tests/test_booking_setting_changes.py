"""A service's appointment settings changed by a manager while bookings exist (the services
page's "Đặt lịch hẹn" section sends them as a ``service`` change): a real server, real
websockets. A settings change never cancels or moves a booking (docs/booking.md, "When a
manager changes the settings"): fewer places leave the bookings as they are and the slot full;
a new slot length counts the bookings whose time falls in each new slot; bookings turned off
refuse new ones while those made still stand."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from server import booking_store as bs
from tests.helpers import PASSWORD, RawClient
from tests.test_booking_server import CCCD, OTHER, book, bookable_config, public

pytestmark = pytest.mark.asyncio
THIRD = "001190007777"
DAY = "2026-11-26"  # the harness's clock is at 08:00 on 25/11/2026


@pytest.fixture
def config():
    return bookable_config(places_per_slot=4, walk_in_share=0.5)  # 2 bookable places a slot


async def set_booking(harness, **fields: object) -> dict[str, Any]:
    """TP's booking settings changed as the services page sends them: the whole service."""
    manager: RawClient = await harness.client()
    await manager.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD},
                          expect="welcome")
    shown = await manager.request({"type": "read_settings"}, expect="settings")
    service = next(s for s in shown["config"]["sites"][0]["services"] if s["code"] == "TP")
    service["booking"] |= fields
    return await manager.request({"type": "admin_change", "base": shown["fingerprints"]["service:tinh:TP"],
                                  "change": {"kind": "service", "site": "tinh", "service": service}})


async def left(page: RawClient) -> dict[str, int]:
    slots = await page.request({"type": "booking_slots", "site": "tinh", "service": "TP", "day": DAY},
                               expect="booking_slots")
    return {s["start"][11:16]: s["left"] for s in slots["slots"]}


def statuses(harness, codes: list[str]) -> list[str]:
    return [b.status for b in (bs.get(harness.server.store.db.conn, code) for code in codes) if b]


async def test_fewer_places_keep_the_bookings_and_fill_the_slot(harness):
    page = await public(harness)
    codes = [(await page.request(book(f"{DAY}T07:00:00+07:00", cccd), expect="booking"))["code"]
                     for cccd in (CCCD, OTHER)]
    await set_booking(harness, places_per_slot=2)  # 1 bookable place now, 2 booked
    assert harness.server.config.site("tinh").service("TP").booking.bookable_places == 1
    assert statuses(harness, codes) == ["booked", "booked"]
    assert (await left(page))["07:00"] == 0 and (await left(page))["07:30"] == 1
    full = await page.error(book(f"{DAY}T07:00:00+07:00", THIRD))
    assert full["code"] == "slot_full"
    await page.request({"type": "booking_cancel", "code": codes[0]}, expect="booking")
    assert (await left(page))["07:00"] == 0  # one booking still holds the one place


async def test_a_longer_slot_counts_the_bookings_made_for_the_shorter_ones(harness):
    page = await public(harness)
    codes = [(await page.request(book(f"{DAY}T{at}:00+07:00", cccd), expect="booking"))["code"]
                     for at, cccd in (("07:00", CCCD), ("07:30", OTHER))]
    await set_booking(harness, slot_minutes=60)  # 07:00-08:00 now holds both
    after = await left(page)
    assert "07:30" not in after and after["07:00"] == 0 and after["08:00"] == 2
    assert (await page.error(book(f"{DAY}T07:00:00+07:00", THIRD)))["code"] == "slot_full"
    moved = await page.request({"type": "booking_move", "code": codes[1],
                                "start": f"{DAY}T07:00:00+07:00"}, expect="booking")
    assert moved["start"] == f"{DAY}T07:00:00+07:00"  # its own place in that slot: no overbooking
    assert statuses(harness, codes) == ["booked", "booked"]


async def test_bookings_turned_off_refuse_new_ones_and_keep_those_made(harness):
    page = await public(harness)
    codes = [(await page.request(book(f"{DAY}T09:00:00+07:00"), expect="booking"))["code"]]
    await set_booking(harness, bookable=False)
    assert (await page.error(book(f"{DAY}T09:30:00+07:00", OTHER)))["code"] == "not_bookable"
    found = await page.request({"type": "booking_lookup", "code": codes[0]}, expect="booking")
    assert found["status"] == "booked"
    stored = msgspec.to_builtins(harness.server.config.site("tinh").service("TP").booking)
    assert stored["bookable"] is False and stored["places_per_slot"] == 4
