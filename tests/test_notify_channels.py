"""The notification channels against real receivers on 127.0.0.1 (issue 16): a Web Push
message is encrypted per RFC 8291 and signed per RFC 8292 — the test push service verifies
the VAPID JWT and decrypts the body with the subscriber's keys, made as a browser makes them —
a Zalo ZNS template gets its parameters, an SMS gateway its placeholders filled."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from common.notify_config import SmsSettings, WebPushSettings, ZaloSettings, ZaloTemplate
from server.outbox import vapid
from server.outbox.channels import Notice, SmsChannel, WebPushChannel, ZaloChannel, push_endpoint_allowed
from server.outbox.notify_texts import notice, phone_number
from tests.notify_receivers import Receivers, unb64url

NOTICE = Notice(message="called", title="Mời số A012 đến quầy 3", text="Đã đến lượt bạn: quầy 3 «Tư pháp»",
                url="https://xephang.example.vn/t/abc", fields={"number": "A012", "counter": "3"},
                tag="xephang-t1")
Session = aiohttp.ClientSession


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as found:
        yield found


async def test_a_web_push_is_signed_and_encrypted_per_the_standard(tmp_path: Path, receivers: Receivers,
                                                                   session: aiohttp.ClientSession):
    receivers.server_key = vapid.public_key(tmp_path)
    subscriber = receivers.subscriber("phone-1")
    channel = WebPushChannel(session, vapid.private_key(tmp_path),
                             WebPushSettings(enabled=True, subject="mailto:ops@xephang.example.vn"))
    delivery = await channel.send(json.dumps(subscriber.subscription), NOTICE)
    assert receivers.push_problems == []
    assert delivery.sent and delivery.status == 201
    assert receivers.pushes == [{"id": "phone-1", "title": NOTICE.title, "body": NOTICE.text,
                                 "url": NOTICE.url, "tag": "xephang-t1", "message": "called"}]


async def test_a_push_for_another_browser_cannot_be_read(tmp_path: Path, receivers: Receivers,
                                                         session: aiohttp.ClientSession):
    """Encrypted for one subscriber's keys: the service holding another's keys fails to decrypt."""
    first, second = receivers.subscriber("a"), receivers.subscriber("b")
    channel = WebPushChannel(session, vapid.private_key(tmp_path),
                             WebPushSettings(enabled=True, subject="https://xephang.example.vn"))
    wrong = {**first.subscription, "endpoint": second.endpoint}  # a's keys, b's endpoint
    delivery = await channel.send(json.dumps(wrong), NOTICE)
    assert not delivery.sent and delivery.status == 400
    assert receivers.pushes == [] and len(receivers.push_problems) == 1


async def test_a_subscription_the_browser_dropped_is_gone(tmp_path: Path, receivers: Receivers,
                                                          session: aiohttp.ClientSession):
    subscriber = receivers.subscriber("old")
    receivers.push_status["old"] = 410
    channel = WebPushChannel(session, vapid.private_key(tmp_path),
                             WebPushSettings(enabled=True, subject="mailto:a@b.vn"))
    delivery = await channel.send(json.dumps(subscriber.subscription), NOTICE)
    assert not delivery.sent and delivery.gone and delivery.status == 410


async def test_a_push_service_that_is_down_is_a_failed_delivery(tmp_path: Path, receivers: Receivers,
                                                                session: aiohttp.ClientSession):
    subscriber = receivers.subscriber("x")
    await receivers.stop()
    channel = WebPushChannel(session, vapid.private_key(tmp_path),
                             WebPushSettings(enabled=True, subject="mailto:a@b.vn"))
    delivery = await channel.send(json.dumps(subscriber.subscription), NOTICE)
    assert not delivery.sent and not delivery.gone and delivery.status is None and delivery.detail


def test_the_vapid_key_is_made_once_and_private(tmp_path: Path):
    first = vapid.public_key(tmp_path)
    assert vapid.public_key(tmp_path) == first
    key_file = tmp_path / vapid.PRIVATE_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(unb64url(first)) == 65 and unb64url(first)[0] == 4  # the uncompressed P-256 point
    assert [p.name for p in tmp_path.iterdir()] == [vapid.PRIVATE_KEY_FILE]  # no temporary left behind


async def test_zalo_gets_the_approved_template_with_our_fields(receivers: Receivers, session: Session):
    settings = ZaloSettings(enabled=True, endpoint=f"{receivers.base}/zalo",
                            access_token=receivers.zalo_token,
                            templates=[ZaloTemplate(message="called", template_id="248079",
                                                    params={"so_thu_tu": "number", "quay": "counter"})])
    channel = ZaloChannel(session, settings)
    assert channel.handles("called") and not channel.handles("near")
    delivery = await channel.send("84912345678", NOTICE)
    assert delivery.sent
    assert receivers.zalo == [{"phone": "84912345678", "template_id": "248079",
                               "template_data": {"so_thu_tu": "A012", "quay": "3"},
                               "tracking_id": "xephang-t1"}]


async def test_zalo_refusing_the_token_is_a_failed_delivery(receivers: Receivers, session: Session):
    settings = ZaloSettings(enabled=True, endpoint=f"{receivers.base}/zalo", access_token="expired",
                            templates=[ZaloTemplate(message="called", template_id="1")])
    delivery = await ZaloChannel(session, settings).send("84912345678", NOTICE)
    assert not delivery.sent and delivery.status == 200 and "-124" in delivery.detail
    assert receivers.zalo == []


async def test_an_sms_gateway_gets_a_json_body(receivers: Receivers, session: aiohttp.ClientSession):
    settings = SmsSettings(enabled=True, gateway_url=f"{receivers.base}/sms", headers={"X-Api-Key": "k-123"},
                           body='{"to": "{phone}", "message": "{text}", "brand": "HCC"}')
    text = 'Mời số A012 đến "quầy 3"\nxin cảm ơn'
    delivery = await SmsChannel(session, settings).send("84912345678", notice_with(text))
    assert delivery.sent
    (got,) = receivers.sms
    assert got["method"] == "POST" and got["api_key"] == "k-123" and got["content_type"] == "application/json"
    assert json.loads(got["body"]) == {"to": "84912345678", "message": text, "brand": "HCC"}


async def test_an_sms_gateway_gets_a_form_or_a_query(receivers: Receivers, session: aiohttp.ClientSession):
    form = SmsSettings(enabled=True, gateway_url=f"{receivers.base}/sms", body="to={phone}&msg={text}",
                       body_format="form")
    query = SmsSettings(enabled=True, method="GET",
                        gateway_url=f"{receivers.base}/sms?to={{phone}}&msg={{text}}")
    for settings in (form, query):
        assert (await SmsChannel(session, settings).send("84912345678", notice_with("Số A012 & quầy 3"))).sent
    posted, got = receivers.sms
    assert posted["content_type"] == "application/x-www-form-urlencoded"
    assert posted["body"] == "to=84912345678&msg=S%E1%BB%91%20A012%20%26%20qu%E1%BA%A7y%203"
    assert got["method"] == "GET" and got["query"] == {"to": "84912345678", "msg": "Số A012 & quầy 3"}


async def test_a_gateway_error_is_a_failed_delivery(receivers: Receivers, session: aiohttp.ClientSession):
    receivers.sms_status = 503
    settings = SmsSettings(enabled=True, gateway_url=f"{receivers.base}/sms?to={{phone}}&t={{text}}")
    delivery = await SmsChannel(session, settings).send("84912345678", NOTICE)
    assert not delivery.sent and delivery.status == 503


def notice_with(text: str) -> Notice:
    return Notice(message="near", title="t", text=text, url="u")


@pytest.mark.parametrize(("endpoint", "allowed"), [
    ("https://fcm.googleapis.com/fcm/send/abc", True),
    ("https://updates.push.services.mozilla.com/wpush/v2/abc", True),
    ("https://web.push.apple.com/QG", True),
    ("https://wns2-par02p.notify.windows.com/w/?token=x", True),
    ("http://fcm.googleapis.com/fcm/send/abc", False),  # never in clear text
    ("https://evilfcm.googleapis.com.example/x", False),
    ("https://10.0.0.5/admin", False),
    ("https://user:pw@fcm.googleapis.com/x", False),
    ("http://127.0.0.1:9/push", False),  # loopback only when listed
    ("javascript:alert(1)", False),
])
def test_only_known_push_services_are_posted_to(endpoint: str, allowed: bool):
    assert push_endpoint_allowed(endpoint, list(WebPushSettings().push_services)) is allowed


def test_a_listed_loopback_push_service_may_be_plain_http():
    assert push_endpoint_allowed("http://127.0.0.1:9/push/a", ["127.0.0.1"])
    assert not push_endpoint_allowed("http://fcm.googleapis.com/x", ["fcm.googleapis.com"])


@pytest.mark.parametrize(("typed", "phone"), [
    ("0912345678", "84912345678"), ("0912 345 678", "84912345678"), ("+84 912-345-678", "84912345678"),
    ("84389012345", "84389012345"), ("0212345678", None), ("091234567", None), ("09123456789", None),
    ("abc", None), ("", None),
])
def test_a_phone_number_is_a_vietnamese_mobile(typed: str, phone: str | None):
    assert phone_number(typed) == phone


def test_the_texts_name_the_ticket_in_each_language():
    fields = {"number": "A012", "ahead": 0, "site_name": "Trung tâm", "service_name": "Hộ tịch"}
    vi = notice("near", "vi", fields, "u", "tag")
    en = notice("near", "en", {**fields, "ahead": 2, "service_name": "Civil status"}, "u", "tag")
    assert "A012" in vi.title and "tiếp theo" in vi.text and vi.fields["text"] == vi.text
    assert "2 people ahead" in en.text and "Civil status" in en.text
