"""A configuration problem as data: where it is, which check found it, and its values.

``ConfigProblem(key, code, params)``: ``key`` is the path of the value in the file's terms
("sites[0].counters[1].services"), ``code`` the stable name of the check, and ``params`` the
values its sentence names. The sentence itself, in Vietnamese or English, is the code's entry
in ``assets/translations/config.toml``; ``common/config_places.py`` says the key with names
("Điểm «Trung tâm …» › quầy 2 › dịch vụ"). ``common.config`` yields these; its
``config_problems`` keeps the English (key, sentence) pairs of ``xephang config check``.

``decoding_problem`` turns msgspec's error while reading a file (a string where a number
belongs, an unknown key) into the same form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from common.i18n import LANGUAGES, Language, Translator

TEXTS = "config"  # assets/translations/config.toml
_TEXTS = {language: Translator(TEXTS, language) for language in LANGUAGES}

# msgspec's messages (its own words, in English), each with its code and the names of the
# parts it carries; anything else is an ``invalid_value`` with msgspec's message as detail.
_DECODING = (
    (re.compile(r"Expected `(.+)`, got `(.+)`"), "wrong_type", ("expected", "got")),
    (re.compile(r"Object missing required field `(.+)`"), "missing_field", ("field",)),
    (re.compile(r"Object contains unknown field `(.+)`"), "unknown_field", ("field",)),
    (re.compile(r"Invalid enum value (.+)"), "invalid_choice", ("value",)),
)


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a configuration (see the module docstring)."""

    key: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, language: Language = "en") -> str:
        """The problem's sentence in ``language`` (without the key)."""
        return _TEXTS[language].text(self.code, **self.params)


def problem(key: str, code: str, /, **params: Any) -> ConfigProblem:
    return ConfigProblem(key, code, params)


def decoding_problem(message: str) -> ConfigProblem:
    """msgspec's ``ValidationError`` message ("Expected `int`, got `str` - at `$.server.port`")
    as a problem at its key ("server.port")."""
    key = ""
    if " - at `$" in message:
        message, _, where = message.rpartition(" - at `$")
        key = where.rstrip("`").lstrip(".")
    for pattern, code, names in _DECODING:
        found = pattern.fullmatch(message)
        if found:
            return ConfigProblem(key, code, dict(zip(names, found.groups(), strict=True)))
    return problem(key, "invalid_value", detail=message)
