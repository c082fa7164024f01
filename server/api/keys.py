"""API keys at request time: a presented ``Authorization: Bearer xk_…`` → the configured key
(``Config.api_keys``, changed live), and each key's token bucket.

Keys are looked up by their SHA-256 in a dict built once per configuration (the settings
change live: a revoked key fails at its next request). The key itself is never logged nor
kept; a key is named by its ``id`` everywhere (logs, audit, ``issued_by`` "api:<id>").
"""

from __future__ import annotations

import base64
import math
import os

from common.api_key_config import KEY_PREFIX, ApiKey, key_hash
from common.config import Config
from server.limits import TokenBucket

KEY_BYTES = 32
MAX_PRESENTED = 200  # characters: anything longer is no key of ours (not hashed)


def new_api_key() -> str:
    """A fresh key: ``xk_`` + 32 random bytes, base64url (46 characters)."""
    return KEY_PREFIX + base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).rstrip(b"=").decode()


def presented_key(authorization: str | None) -> str | None:
    """The key in an ``Authorization`` header ("Bearer xk_…"), or None."""
    if not authorization or len(authorization) > MAX_PRESENTED:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(KEY_PREFIX):
        return None
    return value


class KeyRing:
    """The configured keys by hash (for the configuration in force) and their buckets."""

    def __init__(self) -> None:
        self._config: Config | None = None
        self._by_hash: dict[str, ApiKey] = {}
        self._buckets: dict[str, tuple[float, int, TokenBucket]] = {}

    def find(self, config: Config, key: str) -> ApiKey | None:
        """The configured key ``key`` is (disabled ones too), or None."""
        if config is not self._config:
            self._by_hash = {k.key_hash: k for k in config.api_keys}
            self._config = config
        return self._by_hash.get(key_hash(key))

    def take(self, api_key: ApiKey) -> int:
        """0 when ``api_key`` may make a request now; else the whole seconds to wait."""
        found = self._buckets.get(api_key.id)
        if found is None or found[:2] != (api_key.rate_per_second, api_key.burst):
            bucket = TokenBucket(rate=api_key.rate_per_second, burst=api_key.burst)
            self._buckets[api_key.id] = (api_key.rate_per_second, api_key.burst, bucket)
        else:
            bucket = found[2]
        if bucket.take():
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / bucket.rate))
