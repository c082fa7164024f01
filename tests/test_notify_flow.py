"""Citizen notifications end to end (issue 16): a ticket page opts in over a real websocket
to a real server, a clerk calls at a real counter, the consumer "notify" reads the committed
events (server/event_export, as the outbox process hands them) and the ticket's phone gets
"your turn is near" and then "you are called, counter N" — once each, on every channel it
chose: a Web Push decrypted by the test push service, a Zalo template, an SMS."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import msgspec

from common.config import Config
from common.notify_config import Notifications, SmsSettings, WebPushSettings, ZaloSettings, ZaloTemplate
from server import event_export
from server.outbox import notify_store, vapid
from server.outbox.consumer import OutboxContext
from server.outbox.notify import Notify
from tests.helpers import KIOSK_TOKEN, PASSWORD, FakeClock, RawClient, ServerHarness, example_config
from tests.notify_receivers import Receivers

replace = msgspec.structs.replace


def with_notifications(receivers: Receivers, near_at: int = 2) -> Config:
    config = example_config()
    notifications = Notifications(
        near_at=near_at,
        webpush=WebPushSettings(enabled=True, subject="mailto:ops@xephang.example.vn",
                                push_services=["127.0.0.1"]),
        zalo=ZaloSettings(enabled=True, endpoint=f"{receivers.base}/zalo", access_token=receivers.zalo_token,
                          templates=[ZaloTemplate(message="near", template_id="z-near",
                                                  params={"so": "number", "con": "ahead"}),
                                     ZaloTemplate(message="called", template_id="z-called",
                                                  params={"so": "number", "quay": "counter_name"})]),
        sms=SmsSettings(enabled=True, gateway_url=f"{receivers.base}/sms",
                        body='{"to": "{phone}", "text": "{text}"}'))
    return replace(config, notifications=notifications)


class Outbox:
    """The consumer "notify" fed the committed events from a cursor, as the outbox process does."""

    def __init__(self, db: Path, clock: FakeClock, config: Config) -> None:
        self.conn = notify_store.open_notify(db.parent / "outbox.sqlite")
        self.notify = Notify(OutboxContext(data_dir=db.parent, main_db=db, outbox=self.conn), clock=clock)
        self.notify.configure(config)
        self.main = event_export.connect(db)
        self.cursor = 0

    async def deliver(self) -> list[dict[str, Any]]:
        lines = list(event_export.events(self.main, self.cursor))
        done = await self.notify.handle(lines)
        assert done == len(lines)
        if lines:
            self.cursor = lines[-1]["seq"]
        return lines

    def log(self) -> list[tuple[str, str, str]]:
        return [(r["message"], r["channel"], r["state"]) for r in notify_store.sent_log(self.conn)]

    async def close(self) -> None:
        await self.notify.close()
        self.main.close()
        self.conn.close()


async def login(h: ServerHarness, username: str, counter: int) -> RawClient:
    clerk = await h.client()
    await clerk.request({"type": "login", "v": 1, "username": username, "password": PASSWORD},
                        expect="welcome")
    await clerk.request({"type": "select_counter", "site": "tinh", "counter": counter})
    return clerk


async def issue(kiosk: RawClient, key: str) -> dict[str, Any]:
    return await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": key})


async def watch(h: ServerHarness, issued: dict[str, Any]) -> RawClient:
    """The ticket's page: its phone follows it (``watch_ticket`` with the token of its URL)."""
    phone = await h.client()
    await phone.request({"type": "watch_ticket", "v": 1, "token": token_of(issued)}, expect="welcome")
    return phone


def token_of(issued: dict[str, Any]) -> str:
    return str(issued["url"].rsplit("/", 1)[1])


async def serve_next(clerk: RawClient) -> dict[str, Any]:
    called = await clerk.request({"type": "call_next"})
    await clerk.request({"type": "finish", "outcome": "received"})
    return called


async def test_near_then_called_arrive_once_on_every_chosen_channel(tmp_path: Path, clock: FakeClock,
                                                                   receivers: Receivers):
    config = with_notifications(receivers, near_at=2)
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    outbox = Outbox(h.db, clock, config)
    try:
        receivers.server_key = vapid.public_key(tmp_path)
        kiosk = await h.kiosk(KIOSK_TOKEN)
        issued = [await issue(kiosk, f"notify-{i:04d}") for i in range(5)]
        mine = issued[4]  # four people ahead
        phone = await watch(h, mine)
        subscriber = receivers.subscriber("phone-5")
        await phone.request({"type": "notify_subscribe", "channel": "webpush",
                             "subscription": subscriber.subscription})
        await phone.request({"type": "notify_subscribe", "channel": "zalo", "phone": "0912 345 678"})
        await phone.request({"type": "notify_subscribe", "channel": "sms", "phone": "+84 389 012 345",
                             "language": "en"})
        await outbox.deliver()
        assert outbox.log() == []  # four ahead: not near yet

        clerk = await login(h, "lan", 1)
        await serve_next(clerk)
        await outbox.deliver()
        assert outbox.log() == []  # three ahead
        await serve_next(clerk)
        await outbox.deliver()  # two ahead: near
        assert sorted(outbox.log()) == [("near", c, "sent") for c in ("sms", "webpush", "zalo")]
        await serve_next(clerk)
        await serve_next(clerk)
        await outbox.deliver()  # nobody ahead now: near was said already
        assert len(outbox.log()) == 3
        called = await clerk.request({"type": "call_next"})
        assert called["ticket"]["number"] == mine["ticket"]["number"]
        await clerk.request({"type": "recall"})  # a recall says nothing new
        lines = await outbox.deliver()
        assert {line["type"] for line in lines} >= {"ticket_called"}

        assert receivers.push_problems == []
        assert [(p["message"], p["id"]) for p in receivers.pushes] == [("near", "phone-5"),
                                                                       ("called", "phone-5")]
        near, call = receivers.pushes
        number = mine["ticket"]["number"]
        assert number in near["title"] and "còn 2 người" in near["body"]
        assert "quầy 1" in call["title"] and "Tư pháp 1" in call["body"]
        assert near["url"] == call["url"] == f"{config.server.public_url}/t/{token_of(mine)}"
        assert [(z["template_id"], z["phone"], z["template_data"]) for z in receivers.zalo] == [
            ("z-near", "84912345678", {"so": number, "con": "2"}),
            ("z-called", "84912345678", {"so": number, "quay": "Tư pháp 1"})]
        assert [msgspec.json.decode(s["body"])["to"] for s in receivers.sms] == ["84389012345"] * 2
        sms_texts = [msgspec.json.decode(s["body"])["text"] for s in receivers.sms]
        assert "2 people ahead" in sms_texts[0] and "Justice desk 1" in sms_texts[1]  # English, as asked

        # The same events handed again (a crash before the cursor moved): nothing is sent twice.
        outbox.cursor = 0
        await outbox.deliver()
        assert len(receivers.pushes) == 2 and len(receivers.zalo) == 2 and len(receivers.sms) == 2
        assert sorted(outbox.log()) == sorted((m, c, "sent") for m in ("near", "called")
                                              for c in ("sms", "webpush", "zalo"))
    finally:
        await outbox.close()
        await h.stop()


async def test_a_claimed_message_is_sent_after_a_crash(tmp_path: Path, clock: FakeClock,
                                                       receivers: Receivers):
    """Claimed (written down) but the process died before sending: the next start sends it."""
    config = with_notifications(receivers, near_at=5)
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    outbox = Outbox(h.db, clock, config)
    try:
        kiosk = await h.kiosk(KIOSK_TOKEN)
        mine = await issue(kiosk, "crash-0001")
        phone = await watch(h, mine)
        await phone.request({"type": "notify_subscribe", "channel": "sms", "phone": "0912345678"})
        lines = list(event_export.events(outbox.main, 0))
        optins = notify_store.optins(outbox.conn, {"tinh"})
        notify_store.claim(outbox.conn, outbox.notify._decide(config, lines, optins, clock()), clock())
        assert outbox.log() == [("near", "sms", "pending")]  # ... and here the process was killed

        restarted = Outbox(h.db, clock, config)
        restarted.cursor = lines[-1]["seq"]
        await restarted.notify.handle([])  # nothing new: the pending message goes out anyway
        assert restarted.log() == [("near", "sms", "sent")] and len(receivers.sms) == 1
        await restarted.close()
    finally:
        await outbox.close()
        await h.stop()


async def test_the_opt_in_refuses_what_it_cannot_use(tmp_path: Path, clock: FakeClock, receivers: Receivers):
    config = with_notifications(receivers)
    config = replace(config, notifications=replace(config.notifications,
                                                   zalo=replace(config.notifications.zalo, enabled=False)))
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    try:
        kiosk = await h.kiosk(KIOSK_TOKEN)
        mine = await issue(kiosk, "refuse-0001")
        stranger = await h.client()
        assert (await stranger.error({"type": "notify_subscribe", "channel": "sms", "phone": "0912345678"}))[
            "code"] == "not_authenticated"
        phone = await watch(h, mine)
        good = receivers.subscriber("a").subscription
        cases: list[tuple[dict[str, Any], str, str | None]] = [
            ({"channel": "zalo", "phone": "0912345678"}, "notify_channel_off", None),
            ({"channel": "sms", "phone": "12345"}, "notify_bad_phone", None),
            ({"channel": "sms"}, "notify_bad_phone", None),
            ({"channel": "webpush"}, "notify_bad_subscription", "subscription"),
            ({"channel": "webpush", "subscription": {**good, "endpoint": "https://10.0.0.5/x"}},
             "notify_bad_subscription", "endpoint"),
            ({"channel": "webpush", "subscription": {**good, "keys": {**good["keys"], "p256dh": "AAAA"}}},
             "notify_bad_subscription", "p256dh"),
            ({"channel": "webpush", "subscription": {**good, "keys": {**good["keys"], "auth": "!!"}}},
             "notify_bad_subscription", "auth"),
            ({"channel": "fax", "phone": "0912345678"}, "bad_message", None),
        ]
        for payload, code, detail in cases:
            error = await phone.error({"type": "notify_subscribe", **payload})
            assert error["code"] == code, (payload, error)
            assert error["message_vi"] and error["message_en"]
            if detail:
                assert error["details"]["detail"] == detail
        await phone.request({"type": "notify_subscribe", "channel": "sms", "phone": "0912345678"})
        await phone.request({"type": "notify_subscribe", "channel": "webpush", "subscription": good})
        conn = notify_store.open_notify(tmp_path / "outbox.sqlite")
        ticket_id = mine["ticket"]["id"]
        assert notify_store.channels_of(conn, ticket_id) == ["sms", "webpush"]
        await phone.request({"type": "notify_unsubscribe", "channel": "sms"})
        assert notify_store.channels_of(conn, ticket_id) == ["webpush"]
        await phone.request({"type": "notify_unsubscribe"})
        assert notify_store.channels_of(conn, ticket_id) == []
        conn.close()
    finally:
        await h.stop()


async def test_opt_ins_are_forgotten_when_their_day_is_over(tmp_path: Path, clock: FakeClock,
                                                             receivers: Receivers):
    config = with_notifications(receivers)
    h = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await h.start()
    outbox = Outbox(h.db, clock, config)
    try:
        kiosk = await h.kiosk(KIOSK_TOKEN)
        mine = await issue(kiosk, "forget-0001")
        phone = await watch(h, mine)
        await phone.request({"type": "notify_subscribe", "channel": "sms", "phone": "0912345678"})
        await outbox.deliver()
        clock.advance(days=1)
        await outbox.notify.handle([])
        conn = sqlite3.connect(tmp_path / "outbox.sqlite")
        rows = conn.execute("select count(*) from notify_optins").fetchone()
        conn.close()
        assert rows == (0,)  # the phone number is gone
    finally:
        await outbox.close()
        await h.stop()
