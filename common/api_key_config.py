"""Integration API keys in the centre's settings (issue 16): ``Config.api_keys``.

A key belongs to one integration (the province's one-stop software, a reception desk's
system). The server generates the key itself (``xk_`` + 32 random bytes, base64url) when an
administrator creates it, shows it once, and keeps only its SHA-256 (``key_hash``): the key
is 256 random bits, so a fast hash is right (nothing to guess a dictionary from). ``scopes``
say what it may do (``read``: the queue, tickets and statistics; ``issue``: issue tickets;
``book``: booking and check-in, issue 14); ``sites`` where ([] = every site). Each key is
rate-limited by a token bucket of ``rate_per_second``, ``burst`` at once. A revoked key is
kept, ``disabled``, so the tickets it issued ("api:<id>") still name it.
See docs/integration.md, "Integration API".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime

import msgspec

from common.config_problem import ConfigProblem, problem

SCOPES: tuple[str, ...] = ("read", "issue", "book")
KEY_PREFIX = "xk_"
ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
NAME_MAX = 80


class ApiKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: str
    name: str
    key_hash: str  # sha256 hex of the whole key as presented ("xk_…")
    scopes: list[str]  # of SCOPES
    sites: list[str] = []  # [] = every site
    disabled: bool = False  # revoked: refused (401), kept for what it did
    created_at: datetime | None = None
    rate_per_second: float = 10.0
    burst: int = 30

    def covers(self, site: str) -> bool:
        return not self.sites or site in self.sites


def key_hash(key: str) -> str:
    """What is stored of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_problems(keys: list[ApiKey], site_codes: set[str]) -> Iterator[ConfigProblem]:
    seen: set[str] = set()
    hashes: set[str] = set()
    for i, api_key in enumerate(keys):
        key = f"api_keys[{i}]"
        if api_key.id in seen:
            yield problem(f"{key}.id", "duplicate_api_key", id=api_key.id)
        seen.add(api_key.id)
        if not ID_PATTERN.match(api_key.id):
            yield problem(f"{key}.id", "bad_api_key_id")
        if not api_key.name.strip() or len(api_key.name) > NAME_MAX:
            yield problem(f"{key}.name", "bad_api_key_name", limit=NAME_MAX)
        if not HASH_PATTERN.match(api_key.key_hash):
            yield problem(f"{key}.key_hash", "not_key_hash")
        elif api_key.key_hash in hashes:
            yield problem(f"{key}.key_hash", "shared_api_key")
        hashes.add(api_key.key_hash)
        if not api_key.scopes:
            yield problem(f"{key}.scopes", "api_key_without_scopes")
        for scope in api_key.scopes:
            if scope not in SCOPES:
                yield problem(f"{key}.scopes", "unknown_scope", scope=scope, known=", ".join(SCOPES))
        for code in api_key.sites:
            if code not in site_codes:
                yield problem(f"{key}.sites", "unknown_site", code=code)
        if not 0.01 <= api_key.rate_per_second <= 1000:
            yield problem(f"{key}.rate_per_second", "not_between", low=0.01, high=1000)
        if not 1 <= api_key.burst <= 10_000:
            yield problem(f"{key}.burst", "not_between", low=1, high=10_000)
