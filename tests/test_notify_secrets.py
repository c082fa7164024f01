"""The notifications' secrets (the Zalo official account's token, the SMS gateway's header
values) never show in a manager's view of the settings, a configuration diff or the audit
log: they are masked like passwords and device tokens (issue 16)."""

from __future__ import annotations

import json

import msgspec

from common.notify_config import Notifications, SmsSettings, ZaloSettings
from server import admin_changes, config_io
from tests.helpers import example_config

TOKEN, KEY = "zalo-oa-token-very-secret", "gateway-key-very-secret"


def with_secrets(token: str = TOKEN, key: str = KEY):
    return msgspec.structs.replace(example_config(), notifications=Notifications(
        zalo=ZaloSettings(enabled=True, access_token=token),
        sms=SmsSettings(enabled=True, gateway_url="https://sms.example.vn/send?to={phone}&t={text}",
                        headers={"X-Api-Key": key})))


def test_no_manager_reads_them():
    config = with_secrets()
    for user in config.users:
        if user.role == "manager":
            shown = admin_changes.public_view(config, user)
            text = json.dumps(shown, ensure_ascii=False)
            assert TOKEN not in text and KEY not in text
            assert shown["notifications"]["zalo"]["access_token"] == admin_changes.MASK
            assert shown["notifications"]["sms"]["headers"] == {"X-Api-Key": admin_changes.MASK}


def test_a_diff_and_its_audit_rows_say_they_changed_without_saying_them():
    old, new = with_secrets(), with_secrets(token="zalo-oa-token-rotated-secret", key="rotated-key-secret")
    found = config_io.differences(old, new)
    text = repr(found) + repr(config_io.describe(found)) + repr(config_io.import_entries(found))
    for secret in (TOKEN, KEY, "zalo-oa-token-rotated-secret", "rotated-key-secret"):
        assert secret not in text
    (centre,) = [d for d in found if d.key == "centre"]
    changed = {f.field: (f.before, f.after) for f in centre.fields}
    assert changed["notifications.zalo.access_token"] == (admin_changes.MASK, admin_changes.MASK)
    assert changed["notifications.sms.headers"] == (admin_changes.MASK, admin_changes.MASK)


def test_a_first_import_masks_them_too():
    found = config_io.differences(None, with_secrets())
    text = repr(found) + repr(config_io.import_entries(found))
    assert TOKEN not in text and KEY not in text
