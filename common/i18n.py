"""User-facing text, Vietnamese first with English: one catalogue per app.

Catalogues are TOML files in ``assets/translations/<domain>.toml``, each key a table
``{ vi = "...", en = "..." }`` with ``{name}`` placeholders. Code never holds
user-facing literals; it asks ``Translator.text(key, **params)``.
"""

from __future__ import annotations

import functools
import tomllib
from typing import Literal

from common.assets import asset_path

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "en")


@functools.cache
def catalogue(domain: str) -> dict[str, dict[str, str]]:
    with open(asset_path("translations", f"{domain}.toml"), "rb") as handle:
        data = tomllib.load(handle)
    for key, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"vi", "en"}:
            raise ValueError(f"translations/{domain}.toml: {key} needs exactly vi and en texts")
    return data


class Translator:
    def __init__(self, domain: str, language: Language = "vi") -> None:
        self.domain = domain
        self.language: Language = language
        self.entries = catalogue(domain)

    def text(self, key: str, **params: object) -> str:
        entry = self.entries.get(key)
        if entry is None:
            raise KeyError(f"no text {key!r} in translations/{self.domain}.toml")
        return entry[self.language].format(**params)

    def both(self, key: str, **params: object) -> tuple[str, str]:
        entry = self.entries[key]
        return entry["vi"].format(**params), entry["en"].format(**params)

    def toggle(self) -> None:
        self.language = "en" if self.language == "vi" else "vi"
