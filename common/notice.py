"""One message for the person in front of a screen, in Vietnamese and English.

The apps keep both texts, so the language button applies to a message already shown. A
refusal from the server becomes a notice with the server's own words (``from_refusal``);
a request that did not get through, one with the app's own (``from_failure``).
"""

from __future__ import annotations

from dataclasses import dataclass

from common.client import ClientError, RequestFailed


@dataclass(frozen=True)
class Notice:
    kind: str  # "info" | "error" | "offline" (the request did not reach the server)
    vi: str
    en: str
    code: str = ""  # the server's error code when it refused a request

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.vi

    @classmethod
    def from_refusal(cls, error: RequestFailed) -> Notice:
        return cls("error", error.message_vi, error.message_en, error.code)

    @classmethod
    def from_failure(cls, error: ClientError, offline: tuple[str, str]) -> Notice:
        """A failed request: the server's words when it refused, else ``offline`` (vi, en)."""
        if isinstance(error, RequestFailed):
            return cls.from_refusal(error)
        return cls("offline", *offline)
