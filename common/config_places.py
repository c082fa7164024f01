"""A configuration key said with names, for people: "sites[0].counters[1].services" →
"Điểm «Trung tâm … tỉnh» › quầy 2 › dịch vụ" (or "Site “…” › counter 2 › services").

An item of a list is named by what identifies it in ``config``: a site by its name, a service
by its code, a counter by its number, a user by their username, a device by its name; a field
by its label and a weekday by its name, all from ``assets/translations/config.toml``. Without
a configuration (a file that did not read) or past its end, an item is "the n-th".

``explained(problem, config)`` is a problem as a manager reads it: its place and sentence in
both languages, the ``invalid_settings`` error's parameters.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from common.api_key_config import ApiKey
from common.config import (
    WEEKDAYS,
    Config,
    Counter,
    Display,
    Kiosk,
    Outcome,
    PriorityClass,
    RatingLevel,
    Service,
    Site,
    User,
)
from common.config_problem import TEXTS, ConfigProblem
from common.i18n import LANGUAGES, Language, Translator
from common.webhook_config import Webhook

SEPARATOR = " › "
_TEXTS = {language: Translator(TEXTS, language) for language in LANGUAGES}
_PART = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")

# The text of an item of each kind, and the values it is named by.
_ITEMS: dict[type, tuple[str, str]] = {
    Site: ("item_site", "name"),
    Service: ("item_service", "code"),
    Counter: ("item_counter", "number"),
    Kiosk: ("item_kiosk", "name"),
    Display: ("item_display", "name"),
    User: ("item_user", "username"),
    PriorityClass: ("item_priority_class", "code"),
    Outcome: ("item_outcome", "code"),
    RatingLevel: ("item_rating", "value"),
    Webhook: ("item_webhook", "id"),
    ApiKey: ("item_api_key", "id"),
}


def place(key: str, config: Config | None, language: Language = "vi") -> str:
    """``key`` (a path as the validation names it) with the names of ``config``'s things."""
    texts = _TEXTS[language]
    names: list[str] = []
    value: Any = config
    for name, index in _PART.findall(key):
        if name:
            names.append(_field(texts, name))
            value = _child(value, name)
            continue
        number = int(index)
        item = value[number] if isinstance(value, list) and number < len(value) else None
        names[-1:] = [_item(texts, names[-1] if names else "", number, item)]
        value = item
    text = SEPARATOR.join(names)
    return text[:1].upper() + text[1:]


def explained(found: ConfigProblem, config: Config | None) -> dict[str, str]:
    """``found`` as a manager reads it, in both languages: ``key`` (the path), ``check`` (the
    problem's code), ``where_vi``/``where_en`` (the path with names) and ``problem_vi``/
    ``problem_en`` (the sentence)."""
    said = {"key": found.key, "check": found.code}
    for language in LANGUAGES:
        said[f"where_{language}"] = place(found.key, config, language)
        said[f"problem_{language}"] = found.text(language)
    return said


def _child(value: Any, name: str) -> Any:
    if isinstance(value, msgspec.Struct):
        return getattr(value, name, None)
    if isinstance(value, dict):
        return value.get(name)
    return None


def _field(texts: Translator, name: str) -> str:
    label = f"day_{name}" if name in WEEKDAYS else f"field_{name}"
    return texts.text(label) if label in texts.entries else name


def _item(texts: Translator, what: str, number: int, item: Any) -> str:
    """An element of a list: by its identifying value, else "<the list's label> #n"."""
    known = _ITEMS.get(type(item))
    if known is not None:
        label, identity = known
        return texts.text(label, **{identity: getattr(item, identity)})
    return texts.text("item_nth", what=what, n=number + 1)
