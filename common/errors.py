"""Stable error codes; their Vietnamese and English messages are in one translation catalogue.

The rules raise ``Rejected(code, **params)``; the server turns it into an ``error`` reply;
clients show ``message_vi`` (or ``message_en``). Codes never change meaning. The texts live
in ``assets/translations/errors.toml`` (read through ``common.i18n``), like every other
user-facing text; ``CODES`` lists the codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from common.i18n import catalogue

ERROR_TEXTS = "errors"  # assets/translations/errors.toml: one entry per code, vi and en

CODES: tuple[str, ...] = tuple(catalogue(ERROR_TEXTS))
"""Every stable error code, in the catalogue's order."""

MESSAGES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {code: (entry["vi"], entry["en"]) for code, entry in catalogue(ERROR_TEXTS).items()})
"""Each code's (Vietnamese, English) message templates, read from the catalogue."""


class Rejected(Exception):
    """A command refused for a reason the user can be told, by a stable code."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in MESSAGES:
            raise KeyError(f"unknown error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(self.message_en)

    @property
    def message_vi(self) -> str:
        return MESSAGES[self.code][0].format_map(_Defaults(self.params))

    @property
    def message_en(self) -> str:
        return MESSAGES[self.code][1].format_map(_Defaults(self.params))


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "?"
