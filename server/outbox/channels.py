"""The ways a notification reaches a citizen, behind one interface (issue 16):
``Channel.send(target, notice) -> Delivery``.

- ``WebPushChannel``: the Web Push protocol (RFC 8030) with the payload encrypted per RFC 8291
  (``aes128gcm``) and the sender identified by VAPID (RFC 8292), through pywebpush. The
  target is the browser's subscription (endpoint + keys p256dh/auth) as JSON.
- ``ZaloChannel``: a Zalo ZNS template message (``POST`` to the configured endpoint with the
  official account's access token); the template, pre-approved by Zalo, is chosen per message
  and its parameters filled from our fields. The target is a phone number (84…).
- ``SmsChannel``: an HTTP SMS gateway, its address, headers and body configured with
  ``{phone}`` and ``{text}`` placeholders.

Every channel answers a ``Delivery`` (never raises for a receiver's failure): sent or not,
the HTTP status, a short detail, and ``gone`` when the target no longer exists (a push
subscription the browser dropped: the opt-in is forgotten).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote, urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from common.notify_config import SmsSettings, WebPushSettings, ZaloSettings, ZaloTemplate

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10)
PUSH_TTL = 15 * 60  # seconds a push service keeps an undelivered notice: later it is news no more
USER_AGENT = "xephang-notify/1"


@dataclass(frozen=True)
class Notice:
    """One message for one citizen, in their language."""

    message: str  # near, called, …
    title: str
    text: str
    url: str  # the ticket page
    fields: dict[str, str] = field(default_factory=dict)  # a Zalo template's values (NOTIFY_FIELDS)
    tag: str = ""  # a later notice with the same tag replaces the earlier one on the phone


@dataclass(frozen=True)
class Delivery:
    sent: bool
    status: int | None = None
    detail: str = ""
    gone: bool = False  # the target no longer exists: forget the opt-in
    duration_ms: int = 0


class Channel(Protocol):
    name: str

    def handles(self, message: str) -> bool:
        """Whether this channel has a way to say ``message`` (Zalo: an approved template)."""
        ...

    async def send(self, target: str, notice: Notice) -> Delivery: ...


class WebPushChannel:
    name = "webpush"

    def __init__(self, session: aiohttp.ClientSession, key: ec.EllipticCurvePrivateKey,
                 settings: WebPushSettings) -> None:
        self.session, self.vapid, self.subject = session, Vapid(private_key=key), settings.subject

    def handles(self, message: str) -> bool:
        return True

    async def send(self, target: str, notice: Notice) -> Delivery:
        subscription = json.loads(target)
        payload = json.dumps({"title": notice.title, "body": notice.text, "url": notice.url,
                              "tag": notice.tag, "message": notice.message}, ensure_ascii=False)
        started = time.monotonic()
        try:
            response = await webpush_async(
                subscription, payload, vapid_private_key=self.vapid, vapid_claims={"sub": self.subject},
                content_encoding="aes128gcm", ttl=PUSH_TTL, headers={"Urgency": "high"},
                timeout=TIMEOUT,  # passed on to aiohttp as is
                aiohttp_session=self.session)
        except WebPushException as exc:
            status = exc.response.status if exc.response is not None else None
            return Delivery(False, status, _short(str(exc)), gone=status in (404, 410),
                            duration_ms=_ms(started))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Delivery(False, None, _short(repr(exc)), duration_ms=_ms(started))
        assert not isinstance(response, str)  # not asked for curl
        return Delivery(True, response.status, duration_ms=_ms(started))


class ZaloChannel:
    name = "zalo"

    def __init__(self, session: aiohttp.ClientSession, settings: ZaloSettings) -> None:
        self.session, self.settings = session, settings
        self.templates: dict[str, ZaloTemplate] = {t.message: t for t in settings.templates}

    def handles(self, message: str) -> bool:
        return message in self.templates

    async def send(self, target: str, notice: Notice) -> Delivery:
        template = self.templates[notice.message]
        data = {name: notice.fields.get(ours, "") for name, ours in template.params.items()}
        body = {"phone": target, "template_id": template.template_id, "template_data": data,
                "tracking_id": notice.tag}
        headers = {"access_token": self.settings.access_token, "Content-Type": "application/json",
                   "User-Agent": USER_AGENT}
        started = time.monotonic()
        try:
            async with self.session.post(self.settings.endpoint, json=body, headers=headers,
                                         timeout=TIMEOUT) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Delivery(False, None, _short(repr(exc)), duration_ms=_ms(started))
        # Zalo answers 200 with {"error": 0, ...} on success and a negative error otherwise.
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        error = answer.get("error") if isinstance(answer, dict) else None
        if response.status == 200 and error == 0:
            return Delivery(True, 200, duration_ms=_ms(started))
        return Delivery(False, response.status, _short(text), duration_ms=_ms(started))


class SmsChannel:
    name = "sms"

    def __init__(self, session: aiohttp.ClientSession, settings: SmsSettings) -> None:
        self.session, self.settings = session, settings

    def handles(self, message: str) -> bool:
        return True

    def request(self, phone: str, text: str) -> tuple[str, dict[str, str], bytes | None]:
        """The gateway's address, headers and body for one message."""
        s = self.settings
        url = s.gateway_url.replace("{phone}", quote(phone, safe="")).replace("{text}", quote(text, safe=""))
        headers = {"User-Agent": USER_AGENT, **s.headers}
        if s.method == "GET" or not s.body:
            return url, headers, None
        if s.body_format == "json":
            escape = _json_inside_string
            headers.setdefault("Content-Type", "application/json")
        else:
            escape = _form_value
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        body = s.body.replace("{phone}", escape(phone)).replace("{text}", escape(text))
        return url, headers, body.encode("utf-8")

    async def send(self, target: str, notice: Notice) -> Delivery:
        url, headers, body = self.request(target, notice.text)
        started = time.monotonic()
        try:
            async with self.session.request(self.settings.method, url, data=body, headers=headers,
                                            timeout=TIMEOUT) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Delivery(False, None, _short(repr(exc)), duration_ms=_ms(started))
        if 200 <= response.status < 300:
            return Delivery(True, response.status, duration_ms=_ms(started))
        return Delivery(False, response.status, _short(text), duration_ms=_ms(started))


def push_endpoint_allowed(endpoint: str, push_services: list[str]) -> bool:
    """Whether the outbox may POST to a browser's push endpoint: https to a host of a known
    push service (or a subdomain of one); http only to a loopback host listed there (tests)."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    listed = any(host == s or host.endswith("." + s) for s in push_services)
    if parts.scheme == "https":
        return listed
    return parts.scheme == "http" and listed and host in ("127.0.0.1", "localhost", "::1")


def _json_inside_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _form_value(value: str) -> str:
    return quote(value, safe="")


def _short(text: str) -> str:
    return text.strip().replace("\n", " ")[:300]


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)

