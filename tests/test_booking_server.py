"""Appointments and remote numbers over real websockets (server/handlers/booking.py): book,
look up, move, cancel, check in at the kiosk, the per-person limit, no-shows, retention."""

from __future__ import annotations

import msgspec
import pytest

from common.config import Booking
from server import booking_store as bs
from tests.helpers import PASSWORD, example_config, local_time

CCCD = "037085001234"  # Ninh Bình, a man born 1985
OTHER = "001190004321"


def bookable_config(**booking: object):
    config = example_config()
    site = config.sites[0]
    services = [
        msgspec.structs.replace(s, booking=Booking(bookable=True, remote_today=True, **booking))
        if s.code == "TP"
        else s
        for s in site.services
    ]
    return msgspec.structs.replace(
        config, sites=[msgspec.structs.replace(site, services=services), *config.sites[1:]]
    )


@pytest.fixture
def config():
    return bookable_config(places_per_slot=4, walk_in_share=0.5)


def book(start: str, cccd: str = CCCD, name: str = "Nguyễn Văn An") -> dict:
    return {
        "type": "book",
        "site": "tinh",
        "service": "TP",
        "start": start,
        "name": name,
        "phone": "+84 912 345 678",
        "cccd": cccd,
    }


async def public(harness):
    from tests.helpers import RawClient

    return await RawClient.open(f"ws://127.0.0.1:{harness.port}/ws/public")


async def test_book_look_up_move_and_cancel(harness):
    page = await public(harness)
    options = await page.request({"type": "booking_options"}, expect="booking_options")
    assert options["sites"][0]["services"][0]["code"] == "TP"
    slots = await page.request(
        {"type": "booking_slots", "site": "tinh", "service": "TP", "day": "2026-11-26"},
        expect="booking_slots",
    )
    assert slots["slots"][0]["start"] == "2026-11-26T07:00:00+07:00" and slots["slots"][0]["left"] == 2
    made = await page.request(book("2026-11-26T07:00:00+07:00"), expect="booking")
    assert (
        made["status"] == "booked" and made["phone_masked"] == "091•••••78" and made["cccd_last4"] == "1234"
    )
    assert made["checkin_opens"] == "2026-11-26T06:30:00+07:00"
    code = made["code"]
    dashed = f"{code[:4]}-{code[4:]}".lower()
    assert (await page.request({"type": "booking_lookup", "code": dashed}, expect="booking"))["code"] == code
    moved = await page.request(
        {"type": "booking_move", "code": code, "start": "2026-11-27T13:15:00+07:00"}, expect="booking"
    )
    assert moved["start"] == "2026-11-27T13:15:00+07:00"
    cancelled = await page.request({"type": "booking_cancel", "code": code}, expect="booking")
    assert cancelled["status"] == "cancelled"
    unknown = await page.error({"type": "booking_lookup", "code": "AAAA-AAAA"})
    malformed = await page.error({"type": "booking_lookup", "code": "hello"})
    assert unknown["code"] == malformed["code"] == "booking_not_found"
    rows = harness.server.store.db.conn.execute(
        "select type, data from events where type like 'booking_%'"
    ).fetchall()
    assert [r[0] for r in rows] == ["booking_made", "booking_moved", "booking_cancelled"]
    assert all("Nguyễn" not in r[1] and CCCD not in r[1] and "0912" not in r[1] for r in rows)
    await page.close()


async def test_slots_fill_and_the_per_person_limit_holds(harness):
    page = await public(harness)
    start = "2026-11-26T08:00:00+07:00"
    await page.request(book(start), expect="booking")
    await page.request(book(start, cccd=OTHER), expect="booking")
    full = await page.error(book(start, cccd="001200000001"))
    assert full["code"] == "slot_full" and full["details"]["start"] == "08:00"
    await page.request(book("2026-11-26T09:00:00+07:00"), expect="booking")
    limit = await page.error(book("2026-11-26T10:00:00+07:00"))
    assert limit["code"] == "person_limit" and limit["details"]["limit"] == 2
    for bad, code in (
        ({"cccd": "123456789012"}, "invalid_cccd"),
        ({"phone": "0212345678"}, "invalid_phone"),
        ({"name": "An1"}, "invalid_name"),
        ({"start": "2026-11-26T08:10:00+07:00"}, "no_such_slot"),
        ({"start": "2026-11-25T07:30:00+07:00"}, "slot_past"),
        ({"start": "2026-12-09T08:00:00+07:00"}, "day_out_of_range"),
    ):
        assert (await page.error({**book(start), **bad}))["code"] == code, bad
    await page.close()


async def test_check_in_at_the_kiosk_by_code_and_by_cccd(harness, clock):
    page = await public(harness)
    first = await page.request(book("2026-11-25T09:00:00+07:00"), expect="booking")
    second = await page.request(
        book("2026-11-25T10:00:00+07:00", cccd=OTHER, name="Trần Thị Bình"), expect="booking"
    )
    kiosk = await harness.kiosk()
    early = await kiosk.error({"type": "checkin", "code": first["code"], "idempotency_key": "checkin-0001"})
    assert early["code"] == "checkin_too_early" and early["details"]["opens"] == "08:30"
    clock.set_local(2026, 11, 25, 8, 45)
    done = await kiosk.request({"type": "checkin", "code": first["code"], "idempotency_key": "checkin-0002"})
    assert done["ticket"]["appointment_at"] == "2026-11-25T02:00:00Z" and done["details"] == {}
    again = await kiosk.request({"type": "checkin", "code": first["code"], "idempotency_key": "checkin-0003"})
    assert again["ticket"]["id"] == done["ticket"]["id"]
    clock.set_local(2026, 11, 25, 9, 55)
    by_card = await kiosk.request({"type": "checkin", "cccd": OTHER, "idempotency_key": "checkin-0004"})
    assert by_card["ticket"]["appointment_at"] == "2026-11-25T03:00:00Z"
    assert (await page.request({"type": "booking_lookup", "code": second["code"]}, expect="booking"))[
        "status"
    ] == "checked_in"
    await kiosk.close()
    await page.close()


async def test_a_kiosk_trying_codes_is_paced_like_its_issuing(tmp_path, clock):
    """A stolen kiosk token cannot try booking codes quickly: check-ins count against the
    kiosk's issuing pace (its burst, then a few a minute), and wrong codes get the same
    answer as unknown ones until then."""
    from tests.helpers import ServerHarness

    config = bookable_config()
    burst = 4
    paced = msgspec.structs.replace(config.server, kiosk_issue_burst=burst, kiosk_issues_per_minute=1)
    harness = ServerHarness(msgspec.structs.replace(config, server=paced), tmp_path / "x.db", clock)
    await harness.start()
    kiosk = await harness.kiosk()
    answers = []
    for i, c in enumerate("KLMNPQRTUVWXY"[: burst + 2]):
        probe = {"type": "checkin", "code": f"ACDEFHJ{c}", "idempotency_key": f"probe-{i:04d}"}
        answers.append((await kiosk.error(probe))["code"])
    assert answers[:burst] == ["booking_not_found"] * burst
    assert answers[burst:] == ["issuing_too_fast"] * 2
    await kiosk.close()
    await harness.stop()


async def test_late_arrival_becomes_a_walk_in_and_no_shows_are_marked(harness, clock):
    page = await public(harness)
    late = await page.request(book("2026-11-25T09:00:00+07:00"), expect="booking")
    absent = await page.request(book("2026-11-25T09:00:00+07:00", cccd=OTHER), expect="booking")
    clock.set_local(2026, 11, 25, 9, 20)
    kiosk = await harness.kiosk()
    walk_in = await kiosk.request(
        {"type": "checkin", "code": late["code"], "idempotency_key": "checkin-0005"}
    )
    assert walk_in["details"] == {"late": True} and walk_in["ticket"]["appointment_at"] is None
    await harness.server.tick()
    shown = await page.request({"type": "booking_lookup", "code": absent["code"]}, expect="booking")
    assert shown["status"] == "no_show"
    # Under late_arrival = "walk_in" a no-show who comes after all gets an ordinary number.
    after_all = await kiosk.request(
        {"type": "checkin", "code": absent["code"], "idempotency_key": "checkin-0006"}
    )
    assert after_all["details"] == {"late": True} and after_all["ticket"]["appointment_at"] is None
    await kiosk.close()
    await page.close()


async def test_names_and_phones_are_deleted_after_the_retention(harness, clock):
    page = await public(harness)
    made = await page.request(book("2026-11-26T08:00:00+07:00"), expect="booking")
    clock.set_local(2026, 12, 27, 8, 0)  # 31 days after the booked day
    await harness.server.tick()
    conn = harness.server.store.db.conn
    assert conn.execute("select name, phone from bookings where code = ?", [made["code"]]).fetchone() == (
        None,
        None,
    )
    await page.close()


async def test_a_remote_number_for_today_counts_for_the_person(harness):
    page = await public(harness)
    taken = await page.request(
        {
            "type": "take_remote",
            "site": "tinh",
            "service": "TP",
            "name": "Lê Văn Cường",
            "phone": "0987654321",
            "cccd": CCCD,
        },
        expect="remote_ticket",
    )
    assert taken["number"].startswith("A")
    await page.request(book("2026-11-25T10:00:00+07:00"), expect="booking")
    limit = await page.error(book("2026-11-25T10:30:00+07:00"))
    assert limit["code"] == "person_limit"
    await page.close()


async def test_a_reception_desk_books_and_checks_in(harness, clock):
    desk = await harness.client()
    await desk.request({"type": "login", "v": 1, "username": "lan", "password": PASSWORD}, expect="welcome")
    made = await desk.request(book("2026-11-25T09:00:00+07:00"), expect="booking")
    clock.set_local(2026, 11, 25, 8, 50)
    done = await desk.request(
        {"type": "checkin", "code": made["code"], "site": "tinh", "idempotency_key": "desk-checkin-1"}
    )
    assert done["ticket"]["appointment_at"] is not None
    row = harness.server.store.db.conn.execute("select channel from bookings").fetchone()
    assert row == ("desk",)
    await desk.close()


def test_the_cccd_key_is_made_once_and_private(tmp_path):
    key = bs.cccd_key(tmp_path / "x.db")
    assert len(key) == 32 and bs.cccd_key(tmp_path / "x.db") == key
    assert (tmp_path / "cccd.key").stat().st_mode & 0o777 == 0o600
    assert local_time(2026, 1, 1, 0, 0).year == 2026


async def test_a_refused_late_arrival(tmp_path, clock):
    from tests.helpers import ServerHarness

    harness = ServerHarness(bookable_config(late_arrival="refuse"), tmp_path / "x.db", clock)
    await harness.start()
    page = await public(harness)
    made = await page.request(book("2026-11-25T09:00:00+07:00"), expect="booking")
    clock.set_local(2026, 11, 25, 9, 11)
    kiosk = await harness.kiosk()
    refused = await kiosk.error({"type": "checkin", "code": made["code"], "idempotency_key": "checkin-0007"})
    assert refused["code"] == "checkin_too_late"
    await kiosk.close()
    await page.close()
    await harness.stop()


async def test_a_day_mixing_appointments_and_walk_ins_calls_in_the_rule_order(tmp_path, clock):
    """Walk-ins before an appointment's slot; once it begins, appointments first, but at most
    appointments_in_row (2) in a row while a walk-in has waited over 20 minutes."""
    from tests.helpers import ServerHarness

    config = bookable_config(places_per_slot=8, walk_in_share=0.0)
    config = msgspec.structs.replace(config, queue=msgspec.structs.replace(
        config.queue, appointments_in_row=2, walk_in_wait_limit_minutes=20))
    harness = ServerHarness(config, tmp_path / "day.db", clock)
    await harness.start()
    kiosk = await harness.kiosk()
    walk_ins = [(await kiosk.request({"type": "issue_ticket", "service": "TP",
                                      "idempotency_key": f"walk-in-000{i}"}))["ticket"]["number"]
                for i in range(2)]
    desk = await harness.client()
    await desk.request({"type": "login", "v": 1, "username": "lan", "password": PASSWORD}, expect="welcome")
    people = ["037085001234", "001190004321", "001200000001", "036301000077"]
    codes = [(await desk.request(book("2026-11-25T09:00:00+07:00", cccd=cccd), expect="booking"))["code"]
             for cccd in people]
    clock.set_local(2026, 11, 25, 8, 40)
    appointments = [(await kiosk.request({"type": "checkin", "code": code, "idempotency_key": f"in-{code}"}))[
        "ticket"]["number"] for code in codes]
    clerk = await harness.clerk("lan", 1)
    called = []

    async def call_and_finish() -> None:
        result = await clerk.request({"type": "call_next"})
        called.append(result["ticket"]["number"])
        await clerk.request({"type": "finish", "outcome": "received"})

    clock.set_local(2026, 11, 25, 8, 45)
    await call_and_finish()  # before 09:00: the appointments wait, a walk-in is called
    clock.set_local(2026, 11, 25, 9, 5)
    for _ in range(5):
        await call_and_finish()
    a1, a2, a3, a4 = appointments
    assert called == [walk_ins[0], a1, a2, walk_ins[1], a3, a4]
    for client in (kiosk, desk, clerk):
        await client.close()
    await harness.stop()


async def test_the_counter_sees_the_citizen_and_the_board_does_not(harness, clock):
    from tests.helpers import DISPLAY_TOKEN

    page = await public(harness)
    made = await page.request(book("2026-11-25T08:30:00+07:00"), expect="booking")
    clerk = await harness.clerk("lan", 1)
    board = await harness.client()
    await board.request({"type": "login_device", "v": 1, "token": DISPLAY_TOKEN}, expect="welcome")
    await board.next_of("snapshot")
    kiosk = await harness.kiosk()
    await kiosk.request({"type": "checkin", "code": made["code"], "idempotency_key": "checkin-0008"})
    seen = await clerk.next_of("update")
    assert seen["tickets"][0]["citizen"] == "Nguyễn Văn An · ••••••••1234"
    shown = await board.next_of("update")
    assert all(t["citizen"] is None for t in shown["tickets"])
    for client in (page, clerk, board, kiosk):
        await client.close()
    await harness.restart()  # the names come back from the bookings after a restart
    assert harness.server.fanout.citizens == {made["code"]: "Nguyễn Văn An · ••••••••1234"}
