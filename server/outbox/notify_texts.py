"""A notification's words (assets/translations/notify.toml), in the citizen's language:
``notice(message, language, fields, url)`` → ``Notice`` for any channel; the fields are
also what a Zalo template's parameters are filled with (common/notify_config.NOTIFY_FIELDS)."""

from __future__ import annotations

import re
from typing import Any

from common.i18n import Translator
from server.outbox.channels import Notice

TEXTS = "notify"  # assets/translations/notify.toml
_PHONE = re.compile(r"^(?:0|84)([35789]\d{8})$")


def notice(message: str, language: str, fields: dict[str, Any], url: str, tag: str) -> Notice:
    t = Translator(TEXTS, "en" if language == "en" else "vi")
    values = {k: str(v) for k, v in fields.items()}
    text_key = "near_next_text" if message == "near" and values.get("ahead") == "0" else f"{message}_text"
    title, text = t.text(f"{message}_title", **values), t.text(text_key, **values)
    return Notice(message=message, title=title, text=text, url=url, fields={**values, "text": text}, tag=tag)


def phone_number(text: str) -> str | None:
    """A Vietnamese mobile number as Zalo and the gateways take it (84 + 9 digits), or None:
    spaces, dots, dashes and a leading + are allowed (0912 345 678, +84 912-345-678)."""
    digits = re.sub(r"[\s.\-()]", "", text).removeprefix("+")
    found = _PHONE.match(digits)
    return "84" + found.group(1) if found else None
