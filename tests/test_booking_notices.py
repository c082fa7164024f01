"""Appointments reach the outside (issues 14 and 16): the booking events as webhooks, and the
booking's confirmation and the day-before reminder to its phone by Zalo or SMS.

Real server (tests/helpers.ServerHarness) with the booking handlers, a public page booking
over a real websocket, real receivers on 127.0.0.1 (tests/notify_receivers.py,
tests/webhook_receiver.py); the consumer "notify" fed the committed events as the outbox
process feeds it (tests/test_notify_flow.Outbox), its ``tick`` called at chosen moments of
the fake clock; the webhooks through the real outbox process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec

from common.config import Config
from common.notify_config import Notifications, SmsSettings, ZaloSettings, ZaloTemplate
from common.webhook_config import WEBHOOK_EVENTS, Webhook, webhook_problems
from server import booking_store, event_export
from server.outbox import booking_notices, process
from server.outbox.consumer import OutboxContext
from tests.helpers import FakeClock, RawClient, ServerHarness
from tests.notify_receivers import Receivers
from tests.test_booking_server import bookable_config
from tests.test_notify_flow import Outbox
from tests.test_webhooks import SECRET, doc_verify, started_outbox, until
from tests.webhook_receiver import Receiver

replace = msgspec.structs.replace
PHONE = "0912345678"
NAME = "Nguyễn Văn An"
CCCDS = ["037085001234", "001190004321", "001200000001", "079095000777", "048188000555"]


def with_phone_channels(receivers: Receivers) -> Config:
    notifications = Notifications(
        zalo=ZaloSettings(
            enabled=True,
            endpoint=f"{receivers.base}/zalo",
            access_token=receivers.zalo_token,
            templates=[
                ZaloTemplate(
                    message="booking_confirmed",
                    template_id="z-booked",
                    params={"ma": "code", "gio": "time", "ngay": "day", "tu": "checkin_opens"},
                ),
                ZaloTemplate(
                    message="booking_reminder", template_id="z-remind", params={"ma": "code", "gio": "time"}
                ),
            ],
        ),
        sms=SmsSettings(
            enabled=True, gateway_url=f"{receivers.base}/sms", body='{"to": "{phone}", "text": "{text}"}'
        ),
    )
    return replace(bookable_config(), notifications=notifications)


def book(start: str, cccd: str, phone: str = PHONE) -> dict[str, Any]:
    return {
        "type": "book",
        "site": "tinh",
        "service": "TP",
        "start": start,
        "name": NAME,
        "phone": phone,
        "cccd": cccd,
    }


async def public(h: ServerHarness) -> RawClient:
    return await RawClient.open(f"ws://127.0.0.1:{h.port}/ws/public")


def dashed(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def log(outbox: Outbox) -> list[tuple[str, str, str, str | None]]:
    return [
        (r["code"], r["message"], r["state"], r["channel"]) for r in booking_notices.sent_log(outbox.conn)
    ]


def sms_texts(receivers: Receivers) -> list[tuple[str, str]]:
    return [(b["to"], b["text"]) for b in (msgspec.json.decode(s["body"]) for s in receivers.sms)]


async def test_a_booking_made_or_moved_is_confirmed_once_and_a_cancelled_one_is_not(
    tmp_path: Path, clock: FakeClock, receivers: Receivers
):
    config = with_phone_channels(receivers)
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    outbox = Outbox(h.db, clock, config)
    page = await public(h)
    try:
        made = await page.request(
            book("2026-11-26T09:00:00+07:00", CCCDS[0], "+84 912 345 678"), expect="booking"
        )
        code = made["code"]
        await outbox.deliver()
        assert [(z["template_id"], z["phone"], z["template_data"]) for z in receivers.zalo] == [
            (
                "z-booked",
                "84912345678",
                {"ma": dashed(code), "gio": "09:00", "ngay": "26/11/2026", "tu": "08:30"},
            )
        ]
        await page.request(
            {"type": "booking_move", "code": code, "start": "2026-11-27T13:15:00+07:00"}, expect="booking"
        )
        await outbox.deliver()  # the new time is confirmed
        assert [z["template_data"]["gio"] for z in receivers.zalo] == ["09:00", "13:15"]
        await page.request({"type": "booking_cancel", "code": code}, expect="booking")
        await outbox.deliver()
        assert len(receivers.zalo) == 2 and receivers.sms == []
        outbox.cursor = 0  # the same events again (a crash before the cursor moved)
        await outbox.deliver()
        assert len(receivers.zalo) == 2
        assert log(outbox) == [(code, "booking_confirmed", "sent", "zalo")] * 2
        # Nothing personal was written to outbox.sqlite.
        dump = "\n".join(outbox.conn.iterdump())
        assert PHONE not in dump and "912345678" not in dump and NAME not in dump and CCCDS[0] not in dump
    finally:
        await page.close()
        await outbox.close()
        await h.stop()


async def test_a_confirmation_claimed_for_a_booking_cancelled_meanwhile_is_not_sent(
    tmp_path: Path, clock: FakeClock, receivers: Receivers
):
    config = with_phone_channels(receivers)
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    outbox = Outbox(h.db, clock, config)
    page = await public(h)
    try:
        made = await page.request(book("2026-11-26T09:00:00+07:00", CCCDS[0]), expect="booking")
        lines = list(event_export.events(outbox.main, 0))
        booking_notices.claim(outbox.conn, booking_notices.confirmations(lines), clock())
        # ... the process died here; the citizen cancelled before it came back
        await page.request({"type": "booking_cancel", "code": made["code"]}, expect="booking")
        await outbox.notify.handle([])
        assert receivers.zalo == [] and receivers.sms == []
        assert log(outbox) == [(made["code"], "booking_confirmed", "skipped", None)]
    finally:
        await page.close()
        await outbox.close()
        await h.stop()


async def test_the_reminder_goes_the_day_before_at_17_once_and_not_for_cancelled_or_late_bookings(
    tmp_path: Path, clock: FakeClock, receivers: Receivers
):
    config = with_phone_channels(receivers)
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    outbox = Outbox(h.db, clock, config)
    page = await public(h)
    try:
        a = (await page.request(book("2026-11-26T09:00:00+07:00", CCCDS[0]), expect="booking"))["code"]
        b = (await page.request(book("2026-11-26T10:00:00+07:00", CCCDS[1], "0389012345"), expect="booking"))[
            "code"
        ]
        c = (await page.request(book("2026-11-27T09:00:00+07:00", CCCDS[2], "0389012346"), expect="booking"))[
            "code"
        ]
        await page.request({"type": "booking_cancel", "code": b}, expect="booking")
        await outbox.deliver()
        assert [z["template_data"]["ma"] for z in receivers.zalo] == [
            dashed(a),
            dashed(c),
        ]  # b: cancelled first
        assert [z["phone"] for z in receivers.zalo] == ["84912345678", "84389012346"]

        clock.set_local(2026, 11, 25, 16, 59)
        await outbox.notify.tick()
        assert len(receivers.zalo) == 2 and receivers.sms == []  # not yet

        clock.set_local(2026, 11, 25, 17, 0)
        receivers.zalo_token = "revoked"  # Zalo refuses now: the SMS gateway carries it
        await outbox.notify.tick()
        await outbox.notify.tick()  # once only
        assert len(receivers.zalo) == 2
        [(to, text)] = sms_texts(receivers)
        assert to == "84912345678"
        assert text.startswith("Nhắc lịch hẹn: Lý lịch tư pháp") and "lúc 09:00 ngày 26/11/2026" in text
        assert f"mã {dashed(a)}" in text and "từ 08:30" in text
        assert text.endswith(f"{config.server.public_url}/book/{a}")

        # Booked after 17:00 for tomorrow: the confirmation, no reminder.
        clock.set_local(2026, 11, 25, 18, 0)
        receivers.zalo_token = config.notifications.zalo.access_token
        d = (await page.request(book("2026-11-26T08:00:00+07:00", CCCDS[3], "0389012347"), expect="booking"))[
            "code"
        ]
        await outbox.deliver()
        await outbox.notify.tick()
        assert len(receivers.zalo) == 3 and len(receivers.sms) == 1

        # The outbox process was down from 17:00 on the 26th: C is reminded at its first look after.
        clock.set_local(2026, 11, 27, 7, 30)
        await outbox.notify.tick()
        assert [(z["template_id"], z["template_data"]) for z in receivers.zalo[3:]] == [
            ("z-remind", {"ma": dashed(c), "gio": "09:00"})
        ]
        assert len(receivers.sms) == 1
        reminders = [(r[0], r[2], r[3]) for r in log(outbox) if r[1] == "booking_reminder"]
        assert reminders == [(a, "sent", "sms"), (c, "sent", "zalo")]
        assert b not in {r[0] for r in log(outbox) if r[1] == "booking_reminder"}
        assert d not in {r[0] for r in log(outbox) if r[1] == "booking_reminder"}
    finally:
        await page.close()
        await outbox.close()
        await h.stop()


def test_the_reminder_moment_is_17_local_the_day_before():
    config = bookable_config()
    from datetime import UTC, date, datetime

    assert booking_notices.reminder_moment(date(2026, 11, 26), config) == datetime(
        2026, 11, 25, 10, 0, tzinfo=UTC
    )


class _Ticker:
    key = "ticker"

    def __init__(self, context: OutboxContext) -> None:
        self.ticks = 0
        self.busy = False
        self.overlapped = False

    def configure(self, config: Config) -> None:
        pass

    async def handle(self, lines: list[dict[str, Any]]) -> int:
        self.busy = True
        await asyncio.sleep(0)
        self.busy = False
        return len(lines)

    async def tick(self) -> None:
        self.overlapped |= self.busy
        self.ticks += 1


async def test_the_outbox_process_ticks_its_consumers_without_events(harness, monkeypatch):
    monkeypatch.setattr(process, "TICK", 0.02)
    made: list[_Ticker] = []

    def factory(context: OutboxContext) -> _Ticker:
        made.append(_Ticker(context))
        return made[0]

    outbox = process.Outbox(harness.db, fixed=(factory,))
    task = asyncio.create_task(outbox.run())
    try:
        await until(lambda: bool(made) and made[0].ticks >= 3, timeout=20)
        assert not made[0].overlapped
    finally:
        outbox.stopping.set()
        await task


# -- webhooks ---------------------------------------------------------------------------------


def test_every_booking_event_is_a_webhook_event_type():
    assert set(booking_store.BOOKING_EVENTS) <= set(WEBHOOK_EVENTS)
    hook = Webhook(
        id="lich",
        url="https://motcua.example.vn/hook",
        secret=SECRET,
        events=["booking_made", "booking_no_show"],
    )
    assert list(webhook_problems([hook], {"tinh"})) == []
    assert hook.wants("booking_made", "tinh") and not hook.wants("booking_cancelled", "tinh")


async def test_booking_events_are_delivered_signed_and_without_personal_data(
    tmp_path: Path, clock: FakeClock
):
    receiver = await Receiver().start()
    config = replace(bookable_config(), webhooks=[Webhook(id="lich", url=receiver.url, secret=SECRET)])
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    outbox = await started_outbox(h.db, "lich")
    page = await public(h)
    try:
        kept = await page.request(book("2026-11-25T09:00:00+07:00", CCCDS[0]), expect="booking")
        other = await page.request(
            book("2026-11-26T09:00:00+07:00", CCCDS[1], "0389012345"), expect="booking"
        )
        await page.request(
            {"type": "booking_move", "code": other["code"], "start": "2026-11-26T10:00:00+07:00"},
            expect="booking",
        )
        await page.request({"type": "booking_cancel", "code": other["code"]}, expect="booking")
        clock.set_local(2026, 11, 25, 8, 45)
        kiosk = await h.kiosk()
        checked = await kiosk.request(
            {"type": "checkin", "code": kept["code"], "idempotency_key": "hook-checkin-1"}
        )
        await receiver.wait_for(
            lambda: "booking_checked_in" in [d.event["type"] for d in receiver.deliveries]
        )
        booking_events = [d for d in receiver.unique.values() if d.event["type"].startswith("booking_")]
        assert [d.event["type"] for d in booking_events] == [
            "booking_made",
            "booking_made",
            "booking_moved",
            "booking_cancelled",
            "booking_checked_in",
        ]
        made, other_made, moved, cancelled, checked_in = (d.event for d in booking_events)
        # The code is a credential (it shows the name and moves or cancels the booking): the
        # receiver gets a keyed reference instead, the same for every event of one booking.
        key = booking_store.cccd_key(h.db)
        assert made["data"] == {
            "ref": booking_store.booking_ref(key, kept["code"]),
            "service": "TP",
            "slot_start": "2026-11-25T02:00:00+00:00",
            "channel": "web",
        }
        assert made["site"] == "tinh" and "ticket" not in made
        assert moved["data"]["slot_start"] == "2026-11-26T03:00:00+00:00"
        assert moved["data"]["from_slot_start"] == "2026-11-26T02:00:00+00:00"
        assert cancelled["data"]["ref"] == moved["data"]["ref"] == other_made["data"]["ref"]
        assert checked_in["data"]["ref"] == made["data"]["ref"] != cancelled["data"]["ref"]
        assert checked_in["data"]["ticket_id"] == checked["ticket"]["id"]
        assert checked_in["data"]["number"] == checked["ticket"]["number"]
        verify = doc_verify()
        for delivery in booking_events:
            assert verify(SECRET, delivery.headers, delivery.body)
            body = delivery.body.decode()
            for personal in (NAME, "Nguyễn", PHONE, "0389012345", "912345678", *CCCDS[:2],
                             kept["code"].replace("-", ""), other["code"].replace("-", "")):
                assert personal not in body
        await kiosk.close()
    finally:
        await page.close()
        outbox.stop()
        await h.stop()
        await receiver.stop()
