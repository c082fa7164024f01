"""The citizen notifications' settings (issue 16): ``[notifications]`` of the configuration,
in the live settings like the rest of the centre's (docs/configuration.md).

Nothing needs to be configured: without a channel the ticket page alone follows the queue.
Web Push needs only ``enabled`` and a ``subject`` (the VAPID key pair is generated into the
data directory: server/outbox/vapid.py); Zalo ZNS needs the official account's access token
and a pre-approved template per message; SMS an HTTP gateway. The consumer that sends them is
server/outbox/notify.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

import msgspec

from common.config_problem import ConfigProblem, problem

NotifyMessage = Literal["near", "called", "booking_confirmed", "booking_reminder"]
NOTIFY_MESSAGES: tuple[NotifyMessage, ...] = ("near", "called", "booking_confirmed", "booking_reminder")
# What a Zalo template's parameters may be filled with (server/outbox/notify_texts.py).
NOTIFY_FIELDS = ("number", "counter", "counter_name", "site_name", "service_name", "ahead", "text",
                 "day", "time", "code", "checkin_opens")  # the last two: appointments only
_URL = re.compile(r"^https?://[^/\s]+")
_SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://[^/\s]+)")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
PLACEHOLDERS = ("{phone}", "{text}")
# The push services of the browsers in use: Chrome (FCM), Firefox (Mozilla), Safari (Apple),
# Edge (Windows Notification Service).
PUSH_SERVICES = ("fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com")


class _Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class WebPushSettings(_Struct, frozen=True, kw_only=True):
    """Web Push from the ticket page (VAPID). ``subject``: how a push service reaches the
    centre's operator, ``mailto:…`` or ``https://…``."""

    enabled: bool = False
    subject: str = ""
    # The hosts (and their subdomains) a browser's push endpoint may name: the outbox POSTs
    # only there (never to an address a page made up). http only for a loopback host (tests).
    push_services: list[str] = msgspec.field(default_factory=lambda: list(PUSH_SERVICES))


class ZaloTemplate(_Struct, frozen=True, kw_only=True):
    """A Zalo ZNS template approved for one of our messages: its id, and each of its
    parameters (Zalo's name) filled with one of our fields (``NOTIFY_FIELDS``)."""

    message: NotifyMessage
    template_id: str
    params: dict[str, str] = {}


class ZaloSettings(_Struct, frozen=True, kw_only=True):
    enabled: bool = False
    endpoint: str = "https://business.openapi.zalo.me/message/template"
    access_token: str = ""  # the official account's token: a secret, masked in the audit log
    templates: list[ZaloTemplate] = []


class SmsSettings(_Struct, frozen=True, kw_only=True):
    """An HTTP SMS gateway: ``{phone}`` and ``{text}`` in ``gateway_url`` or ``body`` are
    replaced (URL-encoded in the address and in a form body, JSON-escaped in a JSON body)."""

    enabled: bool = False
    gateway_url: str = ""
    method: Literal["POST", "GET"] = "POST"
    headers: dict[str, str] = {}  # e.g. the gateway's API key: secrets, masked in the audit log
    body: str = ""
    body_format: Literal["json", "form"] = "json"


class Notifications(_Struct, frozen=True, kw_only=True):
    near_at: int = 3  # "your turn is near" once this many people or fewer are ahead
    webpush: WebPushSettings = WebPushSettings()
    zalo: ZaloSettings = ZaloSettings()
    sms: SmsSettings = SmsSettings()

    def channels(self) -> list[str]:
        """The channels a citizen may choose, in the page's order."""
        on = (("webpush", self.webpush.enabled), ("zalo", self.zalo.enabled), ("sms", self.sms.enabled))
        return [name for name, enabled in on if enabled]


def notification_problems(n: Notifications) -> Iterator[ConfigProblem]:
    if not 1 <= n.near_at <= 50:
        yield problem("notifications.near_at", "not_between", low=1, high=50)
    if n.webpush.enabled and not _SUBJECT.match(n.webpush.subject):
        yield problem("notifications.webpush.subject", "notify_bad_subject")
    zalo = n.zalo
    if zalo.enabled and not _URL.match(zalo.endpoint):
        yield problem("notifications.zalo.endpoint", "notify_bad_url")
    if zalo.enabled and not zalo.access_token.strip():
        yield problem("notifications.zalo.access_token", "notify_token_missing")
    seen: set[str] = set()
    for template in zalo.templates:
        if template.message in seen:
            yield problem("notifications.zalo.templates", "notify_duplicate_template",
                          message=template.message)
        seen.add(template.message)
    for j, template in enumerate(zalo.templates):
        unknown = sorted(set(template.params.values()) - set(NOTIFY_FIELDS))
        if unknown:
            yield problem(f"notifications.zalo.templates[{j}].params", "notify_unknown_fields",
                          fields=", ".join(unknown), known=", ".join(NOTIFY_FIELDS))
    sms = n.sms
    if sms.enabled and not _URL.match(sms.gateway_url):
        yield problem("notifications.sms.gateway_url", "notify_bad_url")
    if sms.enabled and not all(p in sms.gateway_url + sms.body for p in PLACEHOLDERS):
        yield problem("notifications.sms.body", "notify_sms_fields_missing")
    for name, value in sms.headers.items():
        if not _HEADER_NAME.match(name) or "\n" in value or "\r" in value:
            yield problem("notifications.sms.headers", "notify_bad_header", name=name)


# The settings' secrets: an audit entry, a diff and a site manager's view show them masked.
SECRET_KEYS = frozenset({"notifications.zalo.access_token", "notifications.sms.headers"})


def masked_notifications(raw: dict[str, Any], mask: str) -> dict[str, Any]:
    """``[notifications]`` as plain values with the Zalo token and the gateway's header
    values replaced by ``mask``."""
    found = {key: dict(value) if isinstance(value, dict) else value for key, value in raw.items()}
    zalo, sms = found.get("zalo"), found.get("sms")
    if isinstance(zalo, dict) and zalo.get("access_token"):
        zalo["access_token"] = mask
    if isinstance(sms, dict) and isinstance(sms.get("headers"), dict):
        sms["headers"] = {name: mask for name in sms["headers"]}
    return found
