"""Device enrollment: a new kiosk or display is started with only the server's address, shows a
short pairing code, and a manager approves the code (issue 13).

The device sends ``pair_request`` on an anonymous connection and gets ``pairing`` with a code
of ``CODE_LENGTH`` characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S,
8/B). The code is good for ``CODE_SECONDS``, once, and only while that connection stays
open: on approval (``admin_change`` ``device_approve``, from the devices page or
``xephang device approve``) the server adds the device to the settings with a fresh token
and sends it ``paired`` on that connection; the device keeps the token in a file only its
account can read, and logs in with it from then on.

Codes are not guessable in their lifetime (30 bits; approvals are by managers, who are
audited) and cannot be farmed: ``MAX_PER_ADDRESS`` pending codes per address and
``MAX_PENDING`` in all; beyond that ``pairing_busy``. Pending codes are kept in memory
only: after a restart the device asks again and shows a new code.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from common.errors import ServerError

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # 25 characters, none mistaken for another
CODE_LENGTH = 6
CODE_SECONDS = 600.0
MAX_PER_ADDRESS = 3
MAX_PENDING = 200

Kind = Literal["kiosk", "display"]


@dataclass
class Pending:
    code: str
    kind: Kind
    address: str
    expires: float  # monotonic
    connection: Any  # the device's websocket, which gets ``paired``


class PairingBusy(ServerError):
    """Too many codes are pending (for this address, or in all)."""


class Pairings:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.pending: dict[str, Pending] = {}

    def _expire(self) -> None:
        now = self.clock()
        for code in [c for c, p in self.pending.items() if p.expires <= now]:
            del self.pending[code]

    def request(self, kind: Kind, address: str, connection: Any) -> Pending:
        """A new code for the device on ``connection`` (its earlier code, if any, is dropped)."""
        self._expire()
        self.forget(connection)
        if len(self.pending) >= MAX_PENDING or sum(
                1 for p in self.pending.values() if p.address == address) >= MAX_PER_ADDRESS:
            raise PairingBusy(address)
        while True:
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self.pending:
                break
        pending = self.pending[code] = Pending(code, kind, address, self.clock() + CODE_SECONDS, connection)
        return pending

    def find(self, code: str) -> Pending | None:
        """The pending request with ``code`` (typed by a person: spaces, dashes, case ignored)."""
        self._expire()
        return self.pending.get(normalise(code))

    def take(self, code: str) -> Pending | None:
        """The pending request with ``code``, used up."""
        found = self.find(code)
        if found is not None:
            del self.pending[found.code]
        return found

    def forget(self, connection: Any) -> None:
        """The device's connection closed (or it asked again): its code goes."""
        for code in [c for c, p in self.pending.items() if p.connection is connection]:
            del self.pending[code]


def normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[:CODE_LENGTH * 2]


def new_token() -> str:
    """A device's credential: 24 URL-safe characters, 144 random bits."""
    return secrets.token_urlsafe(18)
