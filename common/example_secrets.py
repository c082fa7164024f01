"""Which of a configuration's secrets are the bundled example centre's, and so public.

The example's device tokens and password hashes ship with the code (every example user's
password is "xephang"): a centre that copied the file and kept any of them can be entered by
anyone who has read the repository. Found by comparing strings with the bundled file (and
with hashes older examples shipped), never by running scrypt, so checking is instant.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from typing import Any

from common.assets import asset_path
from common.config import Config

# Hashes of "xephang" that earlier examples shipped (one salt for every user): a centre's
# file copied from an older release still holds them.
FORMER_EXAMPLE_HASHES = frozenset({
    "scrypt$16384$8$1$IjTPyi9AZZBVquXCYu3bzg==$59r8FCTaYM7RCrrB3FYxlztqwh8ZKFtuPYlHbnl2Ndw=",
})


@dataclass(frozen=True)
class ExampleSecrets:
    """Usernames whose password hash, and devices (``site/id``) whose token, are the example's."""

    users: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.users or self.devices)

    def describe(self) -> str:
        """E.g. "the passwords of 2 users lan, hung; the token of device tinh/tv-sanh"."""
        parts = []
        if self.users:
            parts.append(_listed("password", "user", self.users))
        if self.devices:
            parts.append(_listed("token", "device", self.devices))
        return "; ".join(parts)


def _listed(secret: str, owner: str, names: tuple[str, ...]) -> str:
    """E.g. "the password of user lan" or "the tokens of 2 devices tinh/a, tinh/b"."""
    if len(names) == 1:
        return f"the {secret} of {owner} {names[0]}"
    return f"the {secret}s of {len(names)} {owner}s {', '.join(names)}"


@functools.cache
def _bundled() -> tuple[frozenset[str], frozenset[str]]:
    """The bundled example's (device tokens, password hashes), read as plain TOML."""
    raw: dict[str, Any] = tomllib.loads(asset_path("config", "example.toml").read_text(encoding="utf-8"))
    tokens = {device["token"] for site in raw.get("sites", [])
              for device in [*site.get("kiosks", []), *site.get("displays", [])]}
    hashes = {user["password_hash"] for user in raw.get("users", [])}
    return frozenset(tokens), frozenset(hashes) | FORMER_EXAMPLE_HASHES


def example_secrets(config: Config) -> ExampleSecrets:
    """The secrets of ``config`` that are the public example's (empty when there are none)."""
    tokens, hashes = _bundled()
    return ExampleSecrets(
        users=tuple(u.username for u in config.users if u.password_hash in hashes),
        devices=tuple(f"{site.code}/{device.id}" for site in config.sites
                      for device in [*site.kiosks, *site.displays] if device.token in tokens),
    )
