"""An administrator's change to the webhook subscriptions, applied to a configuration
(called by server/admin_changes.py's ``apply_change``; issue 16).

``webhook`` adds a subscription (``base`` null) or edits one; the server generates its
signing secret when it is new, and a new one when ``rotate_secret`` is set (32 random
bytes, base64url: ``new_secret``). ``webhook_remove`` removes it: its deliveries stop, its
cursor goes; its delivery log stays. In the audit log the secret is ``•••``.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from common import protocol as p
from common.config import Config
from common.errors import Rejected
from common.webhook_config import Webhook

SECRET_BYTES = 32


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def apply_webhook_change(config: Config, change: p.WebhookChange | p.WebhookRemoval,
                         before: Any) -> tuple[Config, str, Webhook | None]:
    """The configuration after ``change``, the audit action and the subscription after it."""
    old = before if isinstance(before, Webhook) else None
    if isinstance(change, p.WebhookRemoval):
        if old is None:
            raise Rejected("unknown_webhook", webhook=change.id)
        kept = [h for h in config.webhooks if h.id != change.id]
        return msgspec.structs.replace(config, webhooks=kept), "webhook.remove", None
    secret = new_secret() if old is None or change.rotate_secret else old.secret
    hook = Webhook(id=change.id, url=change.url.strip(), events=sorted(set(change.events)),
                   sites=sorted(set(change.sites)), secret=secret, disabled=change.disabled,
                   description=change.description.strip())
    if old is None:
        return msgspec.structs.replace(config, webhooks=[*config.webhooks, hook]), "webhook.add", hook
    action = "webhook.rotate_secret" if change.rotate_secret else "webhook.update"
    kept = [hook if h.id == hook.id else h for h in config.webhooks]
    return msgspec.structs.replace(config, webhooks=kept), action, hook


def masked(value: Webhook | None, mask: str) -> dict[str, Any] | None:
    """A subscription for the audit log: its secret as ``mask``."""
    if value is None:
        return None
    raw: dict[str, Any] = msgspec.to_builtins(value)
    raw["secret"] = mask
    return raw
