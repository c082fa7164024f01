"""An administrator's change to the citizen notifications' settings (``notifications``,
issue 16), applied to a configuration (called by server/admin_changes.py's ``apply_change``).

The settings page shows the Zalo access token and the SMS gateway's header values as the
mask (``•••``): sent back unchanged, they keep the values they had; a new value replaces
one. A header sent masked that did not exist has no value to keep and is refused.
"""

from __future__ import annotations

from typing import Any

import msgspec

from common import protocol as p
from common.config import Config
from common.errors import Rejected
from common.notify_config import Notifications, masked_notifications


def apply_notifications_change(config: Config, change: p.NotificationsChange,
                               mask: str) -> tuple[Config, Notifications]:
    """The configuration with ``change``'s settings, the masked secrets kept."""
    old, new = config.notifications, change.notifications
    token = new.zalo.access_token.strip()
    zalo = msgspec.structs.replace(new.zalo, access_token=old.zalo.access_token if token == mask else token)
    headers: dict[str, str] = {}
    for name, value in new.sms.headers.items():
        if value == mask:
            if name not in old.sms.headers:
                raise Rejected("notify_header_unknown", name=name)
            value = old.sms.headers[name]
        headers[name] = value
    sms = msgspec.structs.replace(new.sms, headers=headers)
    settings = msgspec.structs.replace(new, zalo=zalo, sms=sms)
    return msgspec.structs.replace(config, notifications=settings), settings


def audited(value: Notifications, mask: str) -> dict[str, Any]:
    """The settings for the audit log: the token and the header values as ``mask``."""
    return masked_notifications(msgspec.to_builtins(value), mask)
