"""The translation catalogues (assets/translations/*.toml) are consistent: every key has a
Vietnamese and an English text, neither empty, and both fill the same placeholders."""

from __future__ import annotations

import string
import tomllib

import pytest

from common.assets import asset_path
from common.errors import CODES, MESSAGES, Rejected
from common.i18n import LANGUAGES, catalogue

DOMAINS = sorted(path.stem for path in asset_path("translations").glob("*.toml"))


def _placeholders(template: str, language: str) -> set[tuple[str, str, str | None]]:
    """(name, format spec, conversion) of every {placeholder}; raises on a malformed one. A
    value given in each language is the same placeholder: {problem_vi} in the Vietnamese
    text, {problem_en} in the English."""
    return {(name.removesuffix(f"_{language}"), spec or "", conversion) for _text, name, spec, conversion
            in string.Formatter().parse(template) if name is not None}


def test_there_are_catalogues():
    assert {"counter", "display", "errors", "kiosk", "web"} <= set(DOMAINS)


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_key_has_both_languages_with_the_same_placeholders(domain: str):
    with open(asset_path("translations", f"{domain}.toml"), "rb") as handle:
        entries = tomllib.load(handle)
    assert entries
    problems = []
    for key, entry in entries.items():
        if not isinstance(entry, dict) or set(entry) != set(LANGUAGES):
            problems.append(f"{key}: needs exactly {LANGUAGES}, has {entry!r}")
            continue
        if not all(isinstance(entry[lang], str) and entry[lang].strip() for lang in LANGUAGES):
            problems.append(f"{key}: an empty or non-text entry")
            continue
        try:
            vi, en = (_placeholders(entry[lang], lang) for lang in LANGUAGES)
        except ValueError as exc:
            problems.append(f"{key}: malformed placeholder: {exc}")
            continue
        if vi != en:
            problems.append(f"{key}: placeholders differ: vi {sorted(vi, key=str)}, en {sorted(en, key=str)}")
    assert not problems, f"translations/{domain}.toml:\n" + "\n".join(problems)
    assert catalogue(domain) == entries


def test_error_codes_come_from_their_catalogue():
    assert tuple(catalogue("errors")) == CODES
    assert set(MESSAGES) == set(CODES)
    error = Rejected("counter_taken", counter=3, clerk="lan")
    assert error.message_vi == "Quầy 3 đang được lan sử dụng"
    assert error.message_en == "Counter 3 is in use by lan"
    assert Rejected("counter_busy").message_en == "Counter is serving ?; finish it first"
    with pytest.raises(KeyError):
        Rejected("no_such_code")
